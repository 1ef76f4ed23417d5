"""Backfills and their units: created at once, queued in batches exactly once, tracked."""

from __future__ import annotations

import pytest

from deras._core.errors import DerasError
from deras._core.records import BackfillRecord, BackfillUnit, RunRecord
from deras._core.status import BackfillStatus, RunStatus, UnitStatus
from deras._storage import MetadataStore

T0 = 1_700_000_000.0


def _backfill(backfill_id: str = "bf", create_time: float = T0, **fields: object) -> BackfillRecord:
    return BackfillRecord(
        backfill_id=backfill_id,
        status=BackfillStatus.REQUESTED,
        target={"assets": ["daily/prices"]},
        create_time=create_time,
        **fields,  # type: ignore[arg-type]
    )


def _units(count: int, stage: int = 0, backfill_id: str = "bf") -> list[BackfillUnit]:
    return [BackfillUnit(backfill_id, stage, f"p{i:05d}", None, i) for i in range(count)]


def _run_for(unit: BackfillUnit, backfill_id: str = "bf") -> RunRecord:
    return RunRecord(
        f"run-{unit.stage}-{unit.partition_key}",
        "assets:daily/prices",
        partition_key=unit.partition_key,
        backfill_id=backfill_id,
        idempotency_key=f"{backfill_id}:{unit.stage}:{unit.partition_key}",
        create_time=T0,
    )


def test_created_backfill_round_trips_every_field(store: MetadataStore) -> None:
    record = _backfill(
        code_location={"file": "/srv/defs.py"},
        tags={"team": "ops"},
        run_config={"ops": {"load": {"limit": 3}}},
        policy={"max_partitions_per_run": 7},
        parent_backfill_id="bf-0",
        num_units=2,
    )
    units = [
        BackfillUnit("bf", 0, "2024-01-01", "2024-01-07", 0),
        BackfillUnit("bf", 1, "2024-01-01", None, 0),
    ]
    store.backfills.create_backfill(record, units)
    assert store.backfills.get_backfill("bf") == record
    assert store.backfills.get_units("bf") == units
    assert store.backfills.get_backfill("missing") is None


def test_create_backfill_with_a_taken_id_raises(store: MetadataStore) -> None:
    store.backfills.create_backfill(_backfill(), _units(2))
    with pytest.raises(DerasError, match="already exists"):
        store.backfills.create_backfill(_backfill(), _units(3))
    assert len(store.backfills.get_units("bf")) == 2


def test_create_backfill_stores_ten_thousand_units_in_one_call(store: MetadataStore) -> None:
    # How fast: benchmarks/ ("10,000-partition backfill created and queued").
    store.backfills.create_backfill(_backfill(num_units=10_000), _units(10_000))
    assert store.backfills.unit_counts("bf")[UnitStatus.PENDING] == 10_000


def test_get_backfills_lists_newest_first_with_limit_and_status(store: MetadataStore) -> None:
    for i in range(3):
        store.backfills.create_backfill(_backfill(f"bf{i}", create_time=T0 + i), [])
    store.backfills.set_status("bf1", BackfillStatus.COMPLETED, now=T0 + 10)
    assert [b.backfill_id for b in store.backfills.get_backfills()] == ["bf2", "bf1", "bf0"]
    assert [b.backfill_id for b in store.backfills.get_backfills(limit=1)] == ["bf2"]
    requested = store.backfills.get_backfills(status=BackfillStatus.REQUESTED)
    assert [b.backfill_id for b in requested] == ["bf2", "bf0"]
    either = store.backfills.get_backfills(status=[BackfillStatus.COMPLETED, BackfillStatus.FAILED])
    assert [b.backfill_id for b in either] == ["bf1"]


def test_set_status_sets_end_time_when_finished_and_keeps_the_error(store: MetadataStore) -> None:
    store.backfills.create_backfill(_backfill(), [])
    assert store.backfills.set_status("bf", BackfillStatus.CANCELING, now=T0 + 1, error="canceled by ops")
    record = store.backfills.get_backfill("bf")
    assert record is not None
    assert (record.status, record.end_time, record.error) == (
        BackfillStatus.CANCELING,
        None,
        "canceled by ops",
    )
    assert store.backfills.set_status("bf", BackfillStatus.CANCELED, now=T0 + 2)
    record = store.backfills.get_backfill("bf")
    assert record is not None
    assert (record.status, record.end_time, record.error) == (
        BackfillStatus.CANCELED,
        T0 + 2,
        "canceled by ops",
    )
    assert not store.backfills.set_status("missing", BackfillStatus.CANCELED, now=T0)


def test_set_status_with_expected_is_a_compare_and_set(store: MetadataStore) -> None:
    store.backfills.create_backfill(_backfill(), [])
    assert store.backfills.set_status(
        "bf", BackfillStatus.CANCELING, now=T0, expected=[BackfillStatus.REQUESTED]
    )
    # The daemon completing the backfill loses against the cancel that came first.
    assert not store.backfills.set_status(
        "bf", BackfillStatus.COMPLETED, now=T0 + 1, expected=[BackfillStatus.REQUESTED]
    )
    record = store.backfills.get_backfill("bf")
    assert record is not None and record.status is BackfillStatus.CANCELING and record.end_time is None


def test_get_units_filters_by_status_and_stage_in_queueing_order(store: MetadataStore) -> None:
    # Inserted out of order: units come back by (stage, idx), not by key or insertion.
    units = [
        BackfillUnit("bf", 1, "a", None, 0),
        BackfillUnit("bf", 0, "b", None, 1),
        BackfillUnit("bf", 0, "z", None, 0),
        BackfillUnit("bf", 0, "c", None, 2, UnitStatus.SKIPPED),
    ]
    store.backfills.create_backfill(_backfill(), units)
    keys = [(u.stage, u.partition_key) for u in store.backfills.get_units("bf")]
    assert keys == [(0, "z"), (0, "b"), (0, "c"), (1, "a")]
    pending = store.backfills.get_units("bf", status=UnitStatus.PENDING, limit=2)
    assert [(u.stage, u.partition_key) for u in pending] == [(0, "z"), (0, "b")]
    several = store.backfills.get_units("bf", status=[UnitStatus.SKIPPED, UnitStatus.PENDING], stage=0)
    assert [u.partition_key for u in several] == ["z", "b", "c"]
    assert [u.partition_key for u in store.backfills.get_units("bf", stage=1)] == ["a"]


def test_queue_units_inserts_runs_and_marks_their_units_queued(store: MetadataStore) -> None:
    units = _units(4)
    store.backfills.create_backfill(_backfill(num_units=4), units)
    batch = [(unit, _run_for(unit)) for unit in units[:3]]
    assert store.backfills.queue_units("bf", batch) == [run.run_id for _, run in batch]
    queued = store.backfills.get_units("bf", status=UnitStatus.QUEUED)
    assert [(u.partition_key, u.run_id) for u in queued] == [(u.partition_key, r.run_id) for u, r in batch]
    assert {r.run_id for r in store.get_runs(backfill_id="bf", status=RunStatus.QUEUED)} == {
        r.run_id for _, r in batch
    }
    assert store.backfills.unit_counts("bf") == {
        **dict.fromkeys(UnitStatus, 0),
        UnitStatus.QUEUED: 3,
        UnitStatus.PENDING: 1,
    }


def test_queue_units_written_again_creates_no_second_run(store: MetadataStore) -> None:
    """A batch retried after a crash (same idempotency keys, new run ids) is a no-op."""
    units = _units(3)
    store.backfills.create_backfill(_backfill(), units)
    store.backfills.queue_units("bf", [(u, _run_for(u)) for u in units[:2]])
    retried = []
    for unit in units:
        run = _run_for(unit)
        run.run_id += "-retry"
        retried.append((unit, run))
    assert store.backfills.queue_units("bf", retried) == ["run-0-p00002-retry"]
    assert len(store.get_runs(backfill_id="bf")) == 3
    assert [u.run_id for u in store.backfills.get_units("bf")] == [
        "run-0-p00000",
        "run-0-p00001",
        "run-0-p00002-retry",
    ]


def test_queue_units_points_a_pending_unit_at_the_run_holding_its_key(store: MetadataStore) -> None:
    units = _units(1)
    store.backfills.create_backfill(_backfill(), units)
    existing = _run_for(units[0])
    store.create_runs([existing])
    other = _run_for(units[0])
    other.run_id = "another-id"
    assert store.backfills.queue_units("bf", [(units[0], other)]) == []
    assert [(u.status, u.run_id) for u in store.backfills.get_units("bf")] == [
        (UnitStatus.QUEUED, existing.run_id)
    ]


def test_queue_units_queues_ten_thousand_units_in_one_call(store: MetadataStore) -> None:
    # How fast: benchmarks/ ("10,000-partition backfill created and queued").
    units = _units(10_000)
    store.backfills.create_backfill(_backfill(num_units=10_000), units)
    inserted = store.backfills.queue_units("bf", [(unit, _run_for(unit)) for unit in units])
    assert len(inserted) == 10_000
    assert store.backfills.unit_counts("bf")[UnitStatus.QUEUED] == 10_000


def test_set_unit_status_moves_the_given_units(store: MetadataStore) -> None:
    units = _units(3) + _units(1, stage=1)
    store.backfills.create_backfill(_backfill(), units)
    store.backfills.set_unit_status(
        "bf",
        [
            (0, "p00000", UnitStatus.SUCCESS),
            (0, "p00002", UnitStatus.FAILURE),
            (1, "p00000", UnitStatus.CANCELED),
        ],
    )
    assert [(u.stage, u.partition_key, u.status) for u in store.backfills.get_units("bf")] == [
        (0, "p00000", UnitStatus.SUCCESS),
        (0, "p00001", UnitStatus.PENDING),
        (0, "p00002", UnitStatus.FAILURE),
        (1, "p00000", UnitStatus.CANCELED),
    ]
    counts = store.backfills.unit_counts("bf")
    assert counts[UnitStatus.SUCCESS] == counts[UnitStatus.FAILURE] == counts[UnitStatus.CANCELED] == 1
    assert store.backfills.unit_counts("missing") == dict.fromkeys(UnitStatus, 0)


def test_unit_and_backfill_statuses_know_when_they_are_finished() -> None:
    assert {s for s in UnitStatus if s.is_finished} == {
        UnitStatus.SUCCESS,
        UnitStatus.FAILURE,
        UnitStatus.CANCELED,
        UnitStatus.SKIPPED,
    }
    assert {s for s in BackfillStatus if not s.is_finished} == {
        BackfillStatus.REQUESTED,
        BackfillStatus.CANCELING,
    }
