"""The asset page's partition bar: partitions by position among the current keys, folded into
a fixed number of buckets with a count per state."""

from __future__ import annotations

from typing import Any

from view_snapshots import snapshot

import deras as dg
from deras._instance.views.assets import asset_detail
from deras._instance.views.partition_bar import BUCKETS, partition_bar

DAYS = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-01-11")


@dg.asset(partitions_def=DAYS)
def daily(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


DEFS = dg.Definitions(assets=[daily])


def test_a_daily_assets_bar_starts_at_its_first_day_not_at_its_first_materialization(instance: Any) -> None:
    dg.materialize([daily], instance=instance, partition_key="2025-01-05")
    snap = snapshot(DEFS)
    detail = asset_detail(instance, snap, "daily")
    assert detail is not None and detail.partition_status is not None
    bar = detail.partition_status.bar
    first_day = DAYS.key_to_index("2025-01-01")
    assert first_day > 0 and bar.first_index == first_day  # the index space does not start at 0
    assert bar.count == 10 and bar.sizes == [1] * 10
    assert bar.states["materialized"] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert detail.to_json()["partition_status"]["bar"]["first_index"] == first_day


def test_the_snapshot_carries_the_index_ranges_of_the_current_keys() -> None:
    (asset,) = snapshot(DEFS).assets
    first_day = DAYS.key_to_index("2025-01-01")
    assert asset.partitions.index_ranges == [[first_day, first_day + 10]]


def test_a_million_partitions_fold_into_a_fixed_number_of_buckets() -> None:
    start = 739_000
    every_other = [(i, i + 1) for i in range(start, start + 1_000_000, 2)]
    bar = partition_bar([(start, start + 1_000_000)], {"materialized": every_other, "failed": []})
    assert len(bar.sizes) == BUCKETS and sum(bar.sizes) == bar.count == 1_000_000
    assert max(bar.sizes) - min(bar.sizes) <= 1
    assert sum(bar.states["materialized"]) == 500_000
    assert all(abs(m - size / 2) <= 1 for m, size in zip(bar.states["materialized"], bar.sizes, strict=True))
    assert bar.states["failed"] == [0] * BUCKETS


def test_deleted_keys_leave_no_gap_in_the_bar() -> None:
    # a dynamic definition's keys 0-2 and 10-12 (3-9 deleted): six partitions side by side
    bar = partition_bar([(0, 3), (10, 13)], {"materialized": [(2, 11)], "failed": [(12, 13)]}, buckets=6)
    assert bar.sizes == [1] * 6
    assert bar.states == {"materialized": [0, 0, 1, 1, 0, 0], "failed": [0, 0, 0, 0, 0, 1]}


def test_status_outside_the_current_keys_is_left_out() -> None:
    bar = partition_bar([(100, 110)], {"materialized": [(90, 102), (109, 130)]}, buckets=5)
    assert bar.states["materialized"] == [2, 0, 0, 0, 1] and bar.count == 10


def test_without_the_current_keys_the_stored_span_stands_in() -> None:
    bar = partition_bar(None, {"materialized": [(5, 7)], "failed": [(9, 10)]}, buckets=10)
    assert bar.first_index == 5 and bar.count == 5
    assert bar.states == {"materialized": [1, 1, 0, 0, 0], "failed": [0, 0, 0, 0, 1]}
    assert partition_bar([], {}).sizes == []
