"""Partition status: index ranges per state, derived from asset events."""

from __future__ import annotations

import pytest

from deras._core.events import EventRecord, EventType, PartitionSpan
from deras._core.ranges import IndexRanges
from deras._core.records import RunRecord
from deras._core.status import PartitionState
from deras._storage import MetadataStore

MATERIALIZED, FAILED, IN_PROGRESS = (
    PartitionState.MATERIALIZED,
    PartitionState.FAILED,
    PartitionState.IN_PROGRESS,
)
DEF = "daily:2020-01-01"


@pytest.fixture
def run_store(store: MetadataStore) -> MetadataStore:
    store.create_run(RunRecord("r", "assets:*", create_time=1.0))
    return store


def _event(
    kind: EventType, ranges: list[tuple[int, int]], asset_key: str = "a", def_id: str = DEF
) -> EventRecord:
    return EventRecord(
        "r", kind, data={"asset_key": asset_key, "partitions": PartitionSpan(def_id, ranges).to_json()}
    )


def planned(ranges: list[tuple[int, int]], **kw: str) -> EventRecord:
    return _event(EventType.MATERIALIZATION_PLANNED, ranges, **kw)


def materialized(ranges: list[tuple[int, int]], **kw: str) -> EventRecord:
    return _event(EventType.ASSET_MATERIALIZATION, ranges, **kw)


def failed(ranges: list[tuple[int, int]], **kw: str) -> EventRecord:
    return _event(EventType.ASSET_FAILED, ranges, **kw)


def _ranges(store: MetadataStore, asset_key: str = "a") -> dict[PartitionState, list[tuple[int, int]]]:
    _, status = store.get_partition_status(asset_key)
    return {state: ranges.ranges for state, ranges in status.items()}


def test_asset_without_partition_events_has_no_status(run_store: MetadataStore) -> None:
    run_store.store_events([EventRecord("r", EventType.ASSET_MATERIALIZATION, data={"asset_key": "a"})])
    assert run_store.get_partition_status("a") == (None, {})


def test_status_reports_def_id_and_every_state(run_store: MetadataStore) -> None:
    run_store.store_events([materialized([(0, 3)])])
    def_id, status = run_store.get_partition_status("a")
    assert def_id == DEF
    assert status == {MATERIALIZED: IndexRanges([(0, 3)]), FAILED: IndexRanges(), IN_PROGRESS: IndexRanges()}


def test_materializations_union_into_merged_ranges(run_store: MetadataStore) -> None:
    run_store.store_events([materialized([(0, 3)])])
    run_store.store_events([materialized([(3, 5), (10, 12)])])
    run_store.store_events([materialized([(11, 20)])])
    assert _ranges(run_store)[MATERIALIZED] == [(0, 5), (10, 20)]


def test_planned_partitions_are_in_progress(run_store: MetadataStore) -> None:
    run_store.store_events([planned([(0, 100)])])
    assert _ranges(run_store) == {MATERIALIZED: [], FAILED: [], IN_PROGRESS: [(0, 100)]}


def test_materialization_clears_in_progress_and_failed(run_store: MetadataStore) -> None:
    run_store.store_events([failed([(0, 10)]), planned([(0, 20)])])
    run_store.store_events([materialized([(5, 15)])])
    assert _ranges(run_store) == {MATERIALIZED: [(5, 15)], FAILED: [(0, 5)], IN_PROGRESS: [(0, 5), (15, 20)]}


def test_failure_clears_materialized_and_in_progress(run_store: MetadataStore) -> None:
    run_store.store_events([materialized([(0, 10)]), planned([(8, 12)])])
    run_store.store_events([failed([(5, 12)])])
    assert _ranges(run_store) == {MATERIALIZED: [(0, 5)], FAILED: [(5, 12)], IN_PROGRESS: []}


def test_latest_outcome_wins(run_store: MetadataStore) -> None:
    run_store.store_events([materialized([(0, 1)])])
    run_store.store_events([failed([(0, 1)])])
    assert _ranges(run_store)[MATERIALIZED] == [] and _ranges(run_store)[FAILED] == [(0, 1)]
    run_store.store_events([materialized([(0, 1)])])
    assert _ranges(run_store)[MATERIALIZED] == [(0, 1)] and _ranges(run_store)[FAILED] == []


def test_events_of_one_batch_apply_in_order(run_store: MetadataStore) -> None:
    run_store.store_events(
        [planned([(0, 4)]), materialized([(0, 2)]), failed([(2, 4)]), materialized([(3, 4)])]
    )
    assert _ranges(run_store) == {MATERIALIZED: [(0, 2), (3, 4)], FAILED: [(2, 3)], IN_PROGRESS: []}


def test_rematerializing_keeps_materialized_while_in_progress(run_store: MetadataStore) -> None:
    run_store.store_events([materialized([(0, 10)])])
    run_store.store_events([planned([(0, 10)])])
    assert _ranges(run_store) == {MATERIALIZED: [(0, 10)], FAILED: [], IN_PROGRESS: [(0, 10)]}


def test_status_is_kept_per_asset(run_store: MetadataStore) -> None:
    run_store.store_events([materialized([(0, 5)], asset_key="a"), failed([(0, 5)], asset_key="b")])
    assert _ranges(run_store, "a")[MATERIALIZED] == [(0, 5)]
    assert _ranges(run_store, "b") == {MATERIALIZED: [], FAILED: [(0, 5)], IN_PROGRESS: []}


def test_changed_partitions_definition_resets_the_status(run_store: MetadataStore) -> None:
    run_store.store_events([materialized([(0, 100)]), failed([(100, 110)]), planned([(110, 120)])])
    run_store.store_events([materialized([(0, 2)], def_id="hourly:2020-01-01")])
    def_id, _ = run_store.get_partition_status("a")
    assert def_id == "hourly:2020-01-01"
    assert _ranges(run_store) == {MATERIALIZED: [(0, 2)], FAILED: [], IN_PROGRESS: []}


def test_definition_change_within_a_batch_keeps_only_later_events(run_store: MetadataStore) -> None:
    run_store.store_events(
        [materialized([(0, 5)]), planned([(7, 9)], def_id="v2"), materialized([(7, 8)], def_id="v2")]
    )
    assert run_store.get_partition_status("a")[0] == "v2"
    assert _ranges(run_store) == {MATERIALIZED: [(7, 8)], FAILED: [], IN_PROGRESS: [(8, 9)]}


def test_a_million_partitions_in_fragmented_ranges_round_trip(run_store: MetadataStore) -> None:
    ranges = [(i * 2000, i * 2000 + 1000) for i in range(1000)]
    run_store.store_events([materialized(ranges)])
    _, status = run_store.get_partition_status("a")
    assert status[MATERIALIZED].ranges == ranges and len(status[MATERIALIZED]) == 1_000_000
