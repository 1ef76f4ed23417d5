"""The read model's backfills: pages of summaries, and one backfill's per-partition progress."""

from __future__ import annotations

from typing import Any

import pytest

from deras._core.errors import DerasError
from deras._core.records import BackfillRecord, BackfillUnit
from deras._core.status import BackfillStatus, UnitStatus
from deras._instance.views.backfills import backfill_detail, list_backfills

KEYS = [f"2025-01-{d:02d}" for d in range(1, 7)]


def _store(instance: Any, backfill_id: str, created: float, units: list[BackfillUnit], **target: Any) -> None:
    record = BackfillRecord(
        backfill_id=backfill_id,
        status=BackfillStatus.REQUESTED,
        target={"kind": "assets", "selection": "sales+", "node_ids": ["sales"], "partitions": {"keys": KEYS}}
        | target,
        num_units=len(units),
        create_time=created,
    )
    for unit in units:
        unit.backfill_id = backfill_id
    instance.store.backfills.create_backfill(record, units)


def _unit(stage: int, first: str, idx: int, status: UnitStatus, last: str | None = None) -> BackfillUnit:
    return BackfillUnit(
        "", stage, first, last, idx, status, f"run-{stage}-{first}" if status != "pending" else None
    )


def test_a_partitions_progress_is_its_latest_stage_unless_an_earlier_one_failed(instance: Any) -> None:
    s, f, q, p = UnitStatus.SUCCESS, UnitStatus.FAILURE, UnitStatus.QUEUED, UnitStatus.PENDING
    units = [
        # stage 0: one unit per day; stage 1: the downstream asset, days 3..6 as one ranged run
        *(
            _unit(0, key, i, status)
            for i, (key, status) in enumerate(zip(KEYS, [s, s, f, s, s, s], strict=True))
        ),
        _unit(1, KEYS[0], 0, s),
        _unit(1, KEYS[1], 1, q),
        _unit(1, KEYS[2], 2, UnitStatus.SKIPPED),
        _unit(1, KEYS[3], 3, p, last=KEYS[5]),
    ]
    _store(instance, "bf1", 10.0, units)
    detail = backfill_detail(instance, "bf1")
    assert detail is not None
    assert [(x.partition_key, x.status) for x in detail.partitions] == [
        ("2025-01-01", "success"),
        ("2025-01-02", "queued"),
        ("2025-01-03", "failure"),  # failed in stage 0: stage 1's skip does not hide it
        ("2025-01-04", "pending"),
        ("2025-01-05", "pending"),
        ("2025-01-06", "pending"),
    ]
    assert detail.partitions[0].run_id == "run-1-2025-01-01"
    assert detail.partition_counts == {"success": 1, "queued": 1, "failure": 1, "pending": 3}
    assert detail.ranges == [
        ["2025-01-01", "2025-01-01", "success"],
        ["2025-01-02", "2025-01-02", "queued"],
        ["2025-01-03", "2025-01-03", "failure"],
        ["2025-01-04", "2025-01-06", "pending"],
    ]
    summary = detail.summary
    assert summary.counts == {
        "pending": 1,
        "queued": 1,
        "success": 6,
        "failure": 1,
        "canceled": 0,
        "skipped": 1,
    }
    assert summary.num_units == 10 and summary.num_partitions == 6 and summary.done == 8
    assert summary.partition_range == ["2025-01-01", "2025-01-06"]
    assert summary.target == {"kind": "assets", "selection": "sales+", "node_ids": ["sales"]}
    assert summary.target_label == "assets:sales+"
    assert detail.to_json()["partitions"][2] == {
        "partition_key": "2025-01-03",
        "status": "failure",
        "run_id": "run-0-2025-01-03",
    }


def test_backfills_list_newest_first_in_pages_with_unit_counts(instance: Any) -> None:
    for i in range(5):
        units = [
            _unit(0, key, j, UnitStatus.SUCCESS if j < i else UnitStatus.PENDING)
            for j, key in enumerate(KEYS)
        ]
        _store(instance, f"bf{i}", 100.0 + (i // 2), units, kind="dag", dag_id="etl")  # ties in time
    seen, cursor = [], None
    while True:
        page = list_backfills(instance, limit=2, cursor=cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [b.backfill_id for b in seen] == ["bf4", "bf3", "bf2", "bf1", "bf0"]
    assert [b.counts["success"] for b in seen] == [4, 3, 2, 1, 0]
    assert seen[0].target_label == "dag:etl" and seen[0].to_json()["done"] == 4


def test_an_unknown_backfill_is_none_and_a_foreign_cursor_an_error(instance: Any) -> None:
    assert backfill_detail(instance, "nope") is None
    with pytest.raises(DerasError, match="not a cursor of this backfill listing"):
        list_backfills(instance, cursor="WzEsMl0")
