"""Backfill layout: stages, units (one run each), their dependencies, and which units are ready."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pytest

import deras as dg
from deras._core.errors import DerasError, PartitionKeyError
from deras._defs.partition_mapping import PartitionMapping
from deras._defs.partitions import DynamicPartitionsStore, PartitionsDefinition
from deras._defs.time_partitions import TimeWindowPartitionsDefinition
from deras._graph.graph import Graph
from deras._plan.backfill_layout import BackfillLayout, BackfillUnitSpec, ReadyUnits, UnitKey, ready_units

DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-02-01")
LONG_DAILY = dg.DailyPartitionsDefinition(start_date="2000-01-01", end_date="2040-01-01")
REGIONS = dg.StaticPartitionsDefinition(["eu", "us", "apac"])


def days(first: str, n: int) -> list[str]:
    start = date.fromisoformat(first)
    return [(start + timedelta(days=i)).isoformat() for i in range(n)]


def graph_of(*assets: Any, checks: Sequence[Any] = ()) -> Graph:
    return dg.Definitions(assets=list(assets), asset_checks=list(checks)).asset_graph


def previous(start: int = -1, end: int = 0) -> dg.AssetIn:
    return dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=start, end_offset=end))


def chain_with_previous_day(pdef: PartitionsDefinition = DAILY) -> Graph:
    """``sales`` -> ``trend``, which reads the day before and the day itself."""

    @dg.asset(partitions_def=pdef)
    def sales() -> None: ...

    @dg.asset(partitions_def=pdef, ins={"sales": previous()})
    def trend(sales: object) -> None: ...

    return graph_of(sales, trend)


# -- stages and units ------------------------------------------------------------------------


def test_identity_chain_with_its_check_is_one_stage_with_one_unit_per_day() -> None:
    @dg.asset(partitions_def=DAILY)
    def raw() -> None: ...

    @dg.asset(partitions_def=DAILY)
    def clean(raw: object) -> None: ...

    @dg.asset(partitions_def=DAILY, deps=[clean])
    def report() -> None: ...

    @dg.asset_check(asset=clean, blocking=True)
    def clean_ok(clean: object) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    graph = graph_of(raw, clean, report, checks=[clean_ok])
    ids = ["raw", "clean", "clean:clean_ok", "report"]
    layout = BackfillLayout.build(graph, ids, days("2025-01-01", 3))
    assert layout.stages == [["raw", "clean", "clean:clean_ok", "report"]]
    assert [u.key for u in layout.units] == [(0, "2025-01-01"), (0, "2025-01-02"), (0, "2025-01-03")]
    assert layout.units[1] == BackfillUnitSpec(0, "2025-01-02", "2025-01-02", ("2025-01-02",), tuple(ids))
    assert all(layout.dependencies(u) == [] for u in layout.units)


def test_previous_day_mapping_makes_a_second_stage_reading_two_days() -> None:
    layout = BackfillLayout.build(chain_with_previous_day(), ["sales", "trend"], days("2025-01-01", 3))
    assert layout.stages == [["sales"], ["trend"]]
    assert layout.dependencies((1, "2025-01-02")) == [(0, "2025-01-01"), (0, "2025-01-02")]
    assert layout.dependencies(layout.unit((1, "2025-01-03"))) == [(0, "2025-01-02"), (0, "2025-01-03")]


def test_first_day_depends_only_on_what_the_backfill_produces() -> None:
    """2025-01-09 exists upstream but is not backfilled: it is there already (or never), not awaited."""
    layout = BackfillLayout.build(chain_with_previous_day(), ["sales", "trend"], days("2025-01-10", 3))
    assert layout.dependencies((1, "2025-01-10")) == [(0, "2025-01-10")]
    assert layout.dependencies((1, "2025-01-11")) == [(0, "2025-01-10"), (0, "2025-01-11")]


def test_only_the_previous_day_leaves_the_first_day_without_dependencies() -> None:
    @dg.asset(partitions_def=DAILY)
    def sales() -> None: ...

    @dg.asset(partitions_def=DAILY, ins={"sales": previous(-1, -1)})
    def delta(sales: object) -> None: ...

    layout = BackfillLayout.build(graph_of(sales, delta), ["sales", "delta"], days("2025-01-01", 3))
    assert layout.dependencies((1, "2025-01-01")) == []
    assert layout.dependencies((1, "2025-01-03")) == [(0, "2025-01-02")]


def test_a_node_reading_two_stages_waits_for_both() -> None:
    @dg.asset(partitions_def=DAILY)
    def sales() -> None: ...

    @dg.asset(partitions_def=DAILY, ins={"sales": previous(-1, -1)})
    def delta(sales: object) -> None: ...

    @dg.asset(partitions_def=DAILY)
    def summary(sales: object, delta: object) -> None: ...

    graph = graph_of(sales, delta, summary)
    layout = BackfillLayout.build(graph, ["sales", "delta", "summary"], days("2025-01-01", 2))
    assert layout.stages == [["sales"], ["delta", "summary"]]
    assert layout.dependencies((1, "2025-01-02")) == [(0, "2025-01-01"), (0, "2025-01-02")]


def test_all_partition_mapping_into_an_unpartitioned_asset_waits_for_every_unit() -> None:
    @dg.asset(partitions_def=REGIONS)
    def orders() -> None: ...

    @dg.asset(ins={"orders": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
    def report(orders: object) -> None: ...

    layout = BackfillLayout.build(graph_of(orders, report), ["orders", "report"], ["eu", "us", "apac"])
    assert layout.stages == [["orders"], ["report"]]
    assert layout.units[-1] == BackfillUnitSpec(1, None, None, (), ("report",))
    assert layout.dependencies((1, None)) == [(0, "eu"), (0, "us"), (0, "apac")]


def test_unpartitioned_root_is_one_unit_of_stage_zero_that_every_partition_waits_for() -> None:
    @dg.asset
    def prices() -> None: ...

    @dg.asset(partitions_def=DAILY)
    def sales() -> None: ...

    @dg.asset(partitions_def=DAILY)
    def revenue(prices: object, sales: object) -> None: ...

    graph = graph_of(prices, sales, revenue)
    layout = BackfillLayout.build(graph, ["prices", "sales", "revenue"], days("2025-01-01", 2))
    assert layout.stages == [["prices", "sales"], ["revenue"]]
    assert [u.key for u in layout.units] == [
        (0, None),
        (0, "2025-01-01"),
        (0, "2025-01-02"),
        (1, "2025-01-01"),
        (1, "2025-01-02"),
    ]
    assert layout.unit((0, None)).node_ids == ("prices",)
    assert layout.unit((0, "2025-01-01")).node_ids == ("sales",)
    assert layout.dependencies((1, "2025-01-02")) == [(0, None), (0, "2025-01-02")]


def test_single_run_policy_makes_one_unit_spanning_every_key() -> None:
    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def sales() -> None: ...

    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def clean(sales: object) -> None: ...

    keys = days("2025-01-01", 5)
    layout = BackfillLayout.build(graph_of(sales, clean), ["sales", "clean"], keys)
    assert layout.units == [BackfillUnitSpec(0, "2025-01-01", "2025-01-05", tuple(keys), ("sales", "clean"))]


def test_single_run_needs_every_asset_of_the_stage_to_accept_it() -> None:
    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def sales() -> None: ...

    @dg.asset(partitions_def=DAILY)
    def clean(sales: object) -> None: ...

    layout = BackfillLayout.build(graph_of(sales, clean), ["sales", "clean"], days("2025-01-01", 3))
    assert len(layout.units) == 3


def test_multi_run_policy_chunks_consecutive_keys() -> None:
    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.multi_run(3))
    def sales() -> None: ...

    layout = BackfillLayout.build(graph_of(sales), ["sales"], days("2025-01-01", 7))
    assert [(u.partition_key, u.partition_last, len(u.keys)) for u in layout.units] == [
        ("2025-01-01", "2025-01-03", 3),
        ("2025-01-04", "2025-01-06", 3),
        ("2025-01-07", "2025-01-07", 1),
    ]


def test_smallest_multi_run_of_a_stage_wins() -> None:
    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.multi_run(3))
    def sales() -> None: ...

    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.multi_run(2))
    def clean(sales: object) -> None: ...

    layout = BackfillLayout.build(graph_of(sales, clean), ["sales", "clean"], days("2025-01-01", 4))
    assert [list(u.keys) for u in layout.units] == [days("2025-01-01", 2), days("2025-01-03", 2)]


def test_a_chunk_downstream_waits_for_the_chunks_holding_its_keys() -> None:
    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.multi_run(3))
    def sales() -> None: ...

    @dg.asset(partitions_def=DAILY, ins={"sales": previous()})
    def trend(sales: object) -> None: ...

    layout = BackfillLayout.build(graph_of(sales, trend), ["sales", "trend"], days("2025-01-01", 6))
    assert layout.dependencies((1, "2025-01-03")) == [(0, "2025-01-01")]
    assert layout.dependencies((1, "2025-01-04")) == [(0, "2025-01-01"), (0, "2025-01-04")]


def test_a_check_on_a_later_stage_asset_lands_in_that_stage() -> None:
    @dg.asset(partitions_def=DAILY)
    def sales() -> None: ...

    @dg.asset(partitions_def=DAILY, ins={"sales": previous()})
    def trend(sales: object) -> None: ...

    @dg.asset_check(asset=trend)
    def trend_ok(trend: object) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    graph = graph_of(sales, trend, checks=[trend_ok])
    layout = BackfillLayout.build(graph, ["sales", "trend", "trend:trend_ok"], days("2025-01-01", 2))
    assert layout.stages == [["sales"], ["trend", "trend:trend_ok"]]


def test_duplicate_keys_are_dropped() -> None:
    layout = BackfillLayout.build(
        chain_with_previous_day(), ["sales"], ["2025-01-01", "2025-01-02", "2025-01-01"]
    )
    assert [u.partition_key for u in layout.units] == ["2025-01-01", "2025-01-02"]


# -- errors ----------------------------------------------------------------------------------


def test_bad_partition_key_names_the_key_and_the_valid_range() -> None:
    with pytest.raises(PartitionKeyError) as err:
        BackfillLayout.build(chain_with_previous_day(), ["sales", "trend"], ["2025-01-31", "2025-02-01"])
    message = str(err.value)
    assert "'2025-02-01'" in message
    assert "from 2025-01-01 to 2025-01-31" in message
    assert "backfill of sales (stage 0)" in message


def test_key_must_fit_every_stage() -> None:
    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "us", "apac"]))
    def orders() -> None: ...

    @dg.asset(
        partitions_def=dg.StaticPartitionsDefinition(["eu", "us"]),
        ins={"orders": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    )
    def by_market(orders: object) -> None: ...

    with pytest.raises(PartitionKeyError, match=r"stage 1\).*'apac'"):
        BackfillLayout.build(graph_of(orders, by_market), ["orders", "by_market"], ["eu", "apac"])


def test_partitioned_backfill_without_keys_and_keys_without_partitions_are_refused() -> None:
    @dg.asset
    def plain() -> None: ...

    with pytest.raises(DerasError, match="none of the backfilled nodes is partitioned"):
        BackfillLayout.build(graph_of(plain), ["plain"], ["2025-01-01"])
    with pytest.raises(DerasError, match="no partition keys"):
        BackfillLayout.build(chain_with_previous_day(), ["sales"], [])
    with pytest.raises(DerasError, match="unknown node"):
        BackfillLayout.build(graph_of(plain), ["plain", "nope"], [])


def test_unpartitioned_backfill_is_one_unit() -> None:
    @dg.asset
    def a() -> None: ...

    @dg.asset
    def b(a: object) -> None: ...

    layout = BackfillLayout.build(graph_of(a, b), ["a", "b"], [])
    assert layout.units == [BackfillUnitSpec(0, None, None, (), ("a", "b"))]


def test_a_stage_mixing_partitions_definitions_is_refused() -> None:
    @dg.asset(partitions_def=REGIONS)
    def orders() -> None: ...

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "us"]))
    def markets() -> None: ...

    with pytest.raises(DerasError, match="stage 0 of the backfill mixes partitions definitions"):
        BackfillLayout.build(graph_of(orders, markets), ["orders", "markets"], ["eu"])


# -- readiness -------------------------------------------------------------------------------


def three_stage_layout(keys: list[str]) -> BackfillLayout:
    @dg.asset(partitions_def=DAILY)
    def sales() -> None: ...

    @dg.asset(partitions_def=DAILY, ins={"sales": previous()})
    def trend(sales: object) -> None: ...

    @dg.asset(partitions_def=DAILY, ins={"trend": previous()})
    def outlook(trend: object) -> None: ...

    return BackfillLayout.build(graph_of(sales, trend, outlook), ["sales", "trend", "outlook"], keys)


def test_stage_zero_is_ready_and_missing_statuses_are_pending() -> None:
    layout = three_stage_layout(days("2025-01-01", 3))
    assert ready_units(layout, {}) == ReadyUnits(
        ready=[(0, "2025-01-01"), (0, "2025-01-02"), (0, "2025-01-03")], blocked=[]
    )


def test_success_makes_every_newly_ready_unit_ready_at_once() -> None:
    layout = three_stage_layout(days("2025-01-01", 4))
    statuses = {u.key: "success" for u in layout.units if u.stage == 0}
    assert ready_units(layout, statuses).ready == [(1, d) for d in days("2025-01-01", 4)]
    statuses[(1, "2025-01-01")] = "success"
    statuses[(1, "2025-01-02")] = "success"
    statuses[(1, "2025-01-03")] = "queued"
    result = ready_units(layout, statuses)
    assert result.ready == [(1, "2025-01-04"), (2, "2025-01-01"), (2, "2025-01-02")]
    assert result.blocked == []


def test_failure_blocks_everything_downstream_in_one_call() -> None:
    layout = three_stage_layout(days("2025-01-01", 3))
    statuses: dict[UnitKey, str] = {u.key: "success" for u in layout.units if u.stage == 0}
    statuses[(0, "2025-01-02")] = "failure"
    result = ready_units(layout, statuses)
    assert result.ready == [(1, "2025-01-01")]
    # trend 01-02 and 01-03 read sales 01-02; outlook 01-02.. reads those: the closure is taken
    assert result.blocked == [(1, "2025-01-02"), (1, "2025-01-03"), (2, "2025-01-02"), (2, "2025-01-03")]


@pytest.mark.parametrize("status", ["skipped", "canceled"])
def test_skipped_or_canceled_blocks_like_failure(status: str) -> None:
    layout = three_stage_layout(days("2025-01-01", 1))
    result = ready_units(layout, {(0, "2025-01-01"): "success", (1, "2025-01-01"): status})
    assert result == ReadyUnits(ready=[], blocked=[(2, "2025-01-01")])


def test_in_flight_and_finished_units_are_neither_ready_nor_blocked() -> None:
    layout = three_stage_layout(days("2025-01-01", 2))
    statuses = {(0, "2025-01-01"): "queued", (0, "2025-01-02"): "started"}
    assert ready_units(layout, statuses) == ReadyUnits(ready=[], blocked=[])


# -- cost stays linear (counted, not timed) --------------------------------------------------


class CountingStatuses(Mapping[UnitKey, str]):
    """A status mapping that counts how often it is read."""

    def __init__(self, data: dict[UnitKey, str]) -> None:
        self.data = data
        self.reads = 0

    def __getitem__(self, key: UnitKey) -> str:
        self.reads += 1
        return self.data[key]

    def __iter__(self) -> Iterator[UnitKey]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def all_then_partitioned(n: int) -> BackfillLayout:
    """Every day of ``totals`` reads every day of ``sales``: n x n partition edges."""

    @dg.asset(partitions_def=LONG_DAILY)
    def sales() -> None: ...

    @dg.asset(
        partitions_def=LONG_DAILY, ins={"sales": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())}
    )
    def totals(sales: object) -> None: ...

    @dg.asset(partitions_def=LONG_DAILY, ins={"totals": previous()})
    def trend(totals: object) -> None: ...

    graph = graph_of(sales, totals, trend)
    return BackfillLayout.build(graph, ["sales", "totals", "trend"], days("2000-01-01", n))


def test_every_day_reading_every_day_is_stored_as_one_shared_set() -> None:
    n = 2000
    layout = all_then_partitioned(n)
    assert len(layout.units) == 3 * n
    assert len(layout.dependencies((1, "2000-01-05"))) == n
    # n x n dependencies listed per unit would be 4,000,000 references
    assert layout.stored_dependency_refs <= 5 * n


def test_ready_units_reads_each_status_once_even_when_every_unit_reads_every_unit() -> None:
    n = 2000
    layout = all_then_partitioned(n)
    statuses = CountingStatuses({u.key: "success" for u in layout.units if u.stage == 0})
    result = ready_units(layout, statuses)
    assert len(result.ready) == n
    assert statuses.reads == len(layout.units)  # one read per unit, none per dependency


def test_build_reads_each_key_once_per_partitions_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"key_to_index": 0, "all_index_ranges": 0}
    original_index = TimeWindowPartitionsDefinition.key_to_index
    original_ranges = TimeWindowPartitionsDefinition.all_index_ranges

    def key_to_index(self: Any, *args: Any, **kwargs: Any) -> int:
        calls["key_to_index"] += 1
        return original_index(self, *args, **kwargs)

    def all_index_ranges(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["all_index_ranges"] += 1
        return original_ranges(self, *args, **kwargs)

    monkeypatch.setattr(TimeWindowPartitionsDefinition, "key_to_index", key_to_index)
    monkeypatch.setattr(TimeWindowPartitionsDefinition, "all_index_ranges", all_index_ranges)
    n = 3000
    all_then_partitioned(n)
    assert calls == {"key_to_index": n, "all_index_ranges": 1}


class NextKeyMapping(PartitionMapping):
    """Each key reads the next key of the same static definition; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def upstream_keys_for(
        self,
        downstream_keys: Sequence[str] | None,
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        self.calls += 1
        assert downstream_keys is not None and upstream_def is not None
        keys = upstream_def.get_partition_keys()
        position = {k: i for i, k in enumerate(keys)}
        return [keys[position[k] + 1] for k in downstream_keys if position[k] + 1 < len(keys)]

    def validate(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> str | None:
        return None


def test_any_other_mapping_is_asked_once_per_unit() -> None:
    letters = dg.StaticPartitionsDefinition(["a", "b", "c", "d"])
    mapping = NextKeyMapping()

    @dg.asset(partitions_def=letters)
    def first() -> None: ...

    @dg.asset(partitions_def=letters, ins={"first": dg.AssetIn(partition_mapping=mapping)})
    def second(first: object) -> None: ...

    layout = BackfillLayout.build(graph_of(first, second), ["first", "second"], ["a", "b", "c"])
    assert layout.stages == [["first"], ["second"]]
    assert mapping.calls == 3
    assert layout.dependencies((1, "a")) == [(0, "b")]
    assert layout.dependencies((1, "c")) == []  # 'd' is not backfilled
