"""Runs: create, read back exactly, filter, and move through their statuses."""

from __future__ import annotations

import time

import pytest

from deras._core.errors import DerasError
from deras._core.events import EventRecord, EventType
from deras._core.records import RunRecord
from deras._core.status import RunStatus
from deras._storage import MetadataStore


def _run(run_id: str, **fields: object) -> RunRecord:
    return RunRecord(run_id=run_id, target="assets:a", **fields)  # type: ignore[arg-type]


def test_created_run_round_trips_every_field(store: MetadataStore) -> None:
    run = RunRecord(
        run_id="r-full",
        target="job:daily",
        status=RunStatus.QUEUED,
        job_name="daily",
        partition_key="2024-01-01",
        partition_range=("2024-01-01", "2024-01-31"),
        tags={"team": "ops", "deras/schedule": "nightly", "ünïcode": "välue"},
        run_config={"ops": {"load": {"config": {"limit": 10, "ratio": 0.25, "flags": [True, None]}}}},
        selection=["raw/prices", "clean/prices"],
        code_location={"file": "/srv/pipelines/defs.py"},
        parent_run_id="r-parent",
        root_run_id="r-root",
        backfill_id="bf-1",
        create_time=1700000000.123456,
        start_time=1700000001.5,
        end_time=1700000002.25,
        idempotency_key="schedule:daily:1700000000",
        priority=-5,
        heartbeat=1700000001.75,
        worker={"host": "box-1", "pid": 4242},
    )
    store.create_run(run)
    assert store.get_run("r-full") == run


def test_optional_run_fields_round_trip_as_none(store: MetadataStore) -> None:
    run = _run("r-min", create_time=1.0)
    store.create_run(run)
    assert store.get_run("r-min") == run
    loaded = store.get_run("r-min")
    assert loaded is not None
    assert loaded.partition_range is None and loaded.selection is None and loaded.code_location is None
    assert (loaded.idempotency_key, loaded.priority, loaded.heartbeat, loaded.worker) == (None, 0, None, None)


def test_create_run_sets_create_time_to_now_when_zero(store: MetadataStore) -> None:
    before = time.time()
    run = _run("r-now")
    store.create_run(run)
    loaded = store.get_run("r-now")
    assert loaded is not None
    assert before <= loaded.create_time <= time.time()
    assert run.create_time == loaded.create_time


def test_get_run_of_unknown_id_is_none(store: MetadataStore) -> None:
    assert store.get_run("nope") is None


def test_duplicate_run_id_raises_deras_error_and_keeps_the_first(store: MetadataStore) -> None:
    store.create_run(_run("dup", job_name="first"))
    with pytest.raises(DerasError, match="already exists"):
        store.create_run(_run("dup", job_name="second"), [EventRecord("dup", EventType.RUN_START)])
    loaded = store.get_run("dup")
    assert loaded is not None and loaded.job_name == "first"
    # The failed create wrote nothing: not its events either.
    assert store.get_events("dup") == []


def test_create_run_stores_its_events_in_the_same_transaction(store: MetadataStore) -> None:
    start = EventRecord("r1", EventType.RUN_START, timestamp=100.0)
    store.create_run(_run("r1"), [start])
    loaded = store.get_run("r1")
    assert loaded is not None
    assert loaded.status is RunStatus.STARTED and loaded.start_time == 100.0
    assert start.id is not None
    assert [e.id for e in store.get_events("r1")] == [start.id]


def test_get_runs_lists_newest_first(store: MetadataStore) -> None:
    for i, run_id in enumerate(["old", "middle", "new"]):
        store.create_run(_run(run_id, create_time=1000.0 + i))
    assert [r.run_id for r in store.get_runs()] == ["new", "middle", "old"]


def test_get_runs_breaks_create_time_ties_by_insertion_order(store: MetadataStore) -> None:
    for run_id in ["a", "b", "c"]:
        store.create_run(_run(run_id, create_time=5.0))
    assert [r.run_id for r in store.get_runs()] == ["c", "b", "a"]


def test_get_runs_limit_keeps_the_newest(store: MetadataStore) -> None:
    for i in range(5):
        store.create_run(_run(f"r{i}", create_time=float(i + 1)))
    assert [r.run_id for r in store.get_runs(limit=2)] == ["r4", "r3"]


def test_get_runs_filters_by_one_or_several_statuses(store: MetadataStore) -> None:
    store.create_run(_run("q", create_time=1.0))
    store.create_run(_run("s", status=RunStatus.SUCCESS, create_time=2.0))
    store.create_run(_run("f", status=RunStatus.FAILURE, create_time=3.0))
    assert [r.run_id for r in store.get_runs(status=RunStatus.SUCCESS)] == ["s"]
    assert [r.run_id for r in store.get_runs(status=[RunStatus.SUCCESS, RunStatus.FAILURE])] == ["f", "s"]
    assert store.get_runs(status=[RunStatus.CANCELED]) == []


def test_get_runs_with_tags_requires_every_tag_to_match(store: MetadataStore) -> None:
    store.create_run(_run("both", tags={"team": "ops", "env": "prod"}, create_time=1.0))
    store.create_run(_run("team-only", tags={"team": "ops"}, create_time=2.0))
    store.create_run(_run("other", tags={"team": "data", "env": "prod"}, create_time=3.0))
    assert [r.run_id for r in store.get_runs(tags={"team": "ops"})] == ["team-only", "both"]
    assert [r.run_id for r in store.get_runs(tags={"team": "ops", "env": "prod"})] == ["both"]
    assert store.get_runs(tags={"team": "nobody"}) == []


def test_get_runs_tag_match_is_exact(store: MetadataStore) -> None:
    store.create_run(_run("upper", tags={"team": "OPS"}, create_time=1.0))
    store.create_run(_run("longer", tags={"team": "ops2"}, create_time=2.0))
    store.create_run(_run("wild", tags={"team": "o%s_"}, create_time=3.0))
    store.create_run(_run("value-in-key", tags={'"team":"ops"': "x"}, create_time=4.0))
    assert store.get_runs(tags={"team": "ops"}) == []
    assert [r.run_id for r in store.get_runs(tags={"team": "o%s_"})] == ["wild"]


def test_get_runs_limit_applies_after_the_tag_filter(store: MetadataStore) -> None:
    for i in range(6):
        store.create_run(_run(f"r{i}", tags={"team": "ops" if i % 2 else "OPS"}, create_time=float(i + 1)))
    assert [r.run_id for r in store.get_runs(limit=2, tags={"team": "ops"})] == ["r5", "r3"]


def test_get_runs_filters_by_backfill_id(store: MetadataStore) -> None:
    store.create_run(_run("in-1", backfill_id="bf-1", create_time=1.0))
    store.create_run(_run("in-2", backfill_id="bf-1", create_time=2.0))
    store.create_run(_run("out", backfill_id="bf-2", create_time=3.0))
    store.create_run(_run("none", create_time=4.0))
    assert [r.run_id for r in store.get_runs(backfill_id="bf-1")] == ["in-2", "in-1"]


def test_get_runs_combines_filters(store: MetadataStore) -> None:
    store.create_run(
        _run("match", backfill_id="bf", tags={"k": "v"}, status=RunStatus.FAILURE, create_time=1.0)
    )
    store.create_run(_run("wrong-status", backfill_id="bf", tags={"k": "v"}, create_time=2.0))
    store.create_run(
        _run("wrong-tag", backfill_id="bf", tags={"k": "w"}, status=RunStatus.FAILURE, create_time=3.0)
    )
    found = store.get_runs(status=RunStatus.FAILURE, tags={"k": "v"}, backfill_id="bf")
    assert [r.run_id for r in found] == ["match"]


def test_update_run_status_changes_only_the_status(store: MetadataStore) -> None:
    store.create_run(_run("r", create_time=1.0))
    store.update_run_status("r", RunStatus.CANCELING)
    loaded = store.get_run("r")
    assert loaded is not None
    assert loaded.status is RunStatus.CANCELING and loaded.end_time is None


def test_update_run_status_of_unknown_run_raises(store: MetadataStore) -> None:
    with pytest.raises(DerasError, match="no such run"):
        store.update_run_status("ghost", RunStatus.CANCELED)


def test_run_start_event_marks_run_started_with_start_time(store: MetadataStore) -> None:
    store.create_run(_run("r", create_time=1.0))
    store.store_events([EventRecord("r", EventType.RUN_START, timestamp=10.0)])
    loaded = store.get_run("r")
    assert loaded is not None
    assert (loaded.status, loaded.start_time, loaded.end_time) == (RunStatus.STARTED, 10.0, None)


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        (EventType.RUN_SUCCESS, RunStatus.SUCCESS),
        (EventType.RUN_FAILURE, RunStatus.FAILURE),
        (EventType.RUN_CANCELED, RunStatus.CANCELED),
    ],
)
def test_run_end_event_sets_final_status_and_end_time(
    store: MetadataStore, event_type: EventType, status: RunStatus
) -> None:
    store.create_run(_run("r", create_time=1.0), [EventRecord("r", EventType.RUN_START, timestamp=10.0)])
    store.store_events([EventRecord("r", event_type, timestamp=20.0)])
    loaded = store.get_run("r")
    assert loaded is not None
    assert (loaded.status, loaded.start_time, loaded.end_time) == (status, 10.0, 20.0)
