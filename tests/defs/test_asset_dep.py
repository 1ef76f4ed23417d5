"""``dg.AssetDep``: an order-only upstream with its own partition mapping."""

from __future__ import annotations

import pytest

import deras as dg
from deras._plan.backfill_edges import upstream_edges

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01")


def test_asset_dep_orders_the_asset_after_its_upstream() -> None:
    @dg.asset
    def raw() -> int:
        return 1

    @dg.asset(deps=[dg.AssetDep(raw)])
    def clean() -> None: ...

    assert dg.Definitions(assets=[raw, clean]).asset_graph.upstream["clean"] == ["raw"]


def test_asset_dep_partition_mapping_shapes_backfill_edges() -> None:
    @dg.asset(partitions_def=DAILY)
    def events() -> int:
        return 1

    mapping = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)

    @dg.asset(partitions_def=DAILY, deps=[dg.AssetDep("events", partition_mapping=mapping)])
    def rolling() -> None: ...

    @dg.asset(partitions_def=DAILY, deps=["events"])
    def same_day() -> None: ...

    graph = dg.Definitions(assets=[events, rolling, same_day]).asset_graph
    [edge] = upstream_edges(graph, "rolling", {"events", "rolling"})
    assert edge.mapping is mapping
    assert not edge.identity  # the day before: not the same key
    [plain] = upstream_edges(graph, "same_day", {"events", "same_day"})
    assert plain.identity


def test_asset_dep_mapping_that_does_not_fit_is_a_definition_error() -> None:
    @dg.asset(partitions_def=DAILY)
    def events() -> int:
        return 1

    letters = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(
        partitions_def=letters,
        deps=[dg.AssetDep(events, partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))],
    )
    def letters_asset() -> None: ...

    with pytest.raises(dg.DefinitionError, match="the partition mapping from 'events' does not fit"):
        dg.Definitions(assets=[events, letters_asset])


def test_asset_dep_with_a_bad_key_fails_where_written() -> None:
    with pytest.raises(ValueError, match="invalid asset key"):
        dg.AssetDep("a//b")
