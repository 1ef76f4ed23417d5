"""Calling asset functions directly with ``dg.build_asset_context``; runtime materializations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import deras as dg


class Greeter(dg.ConfigurableResource):
    greeting: str = "hello"

    def greet(self, name: str) -> str:
        return f"{self.greeting} {name}"


def test_context_gives_partition_key_and_resources() -> None:
    @dg.asset
    def greeting(context: dg.AssetExecutionContext) -> str:
        return context.resources.greeter.greet(context.partition_key)

    context = dg.build_asset_context(resources={"greeter": Greeter(greeting="hi")}, partition_key="bob")
    assert greeting(context) == "hi bob"


def test_resource_parameters_are_filled_from_the_context() -> None:
    @dg.asset
    def greeting(context: dg.AssetExecutionContext, greeter: Greeter, name: str) -> str:
        return greeter.greet(name)

    context = dg.build_asset_context(resources={"greeter": Greeter()})
    assert greeting(context, name="ann") == "hello ann"
    # a parameter given by the caller wins
    assert greeting(context, greeter=Greeter(greeting="yo"), name="ann") == "yo ann"


def test_partition_key_range_spells_out_keys_with_a_partitions_def() -> None:
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    context = dg.build_asset_context(partition_key_range=("2024-01-01", "2024-01-03"), partitions_def=daily)
    assert context.partition_keys == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert context.partition_time_window.start.day == 1
    assert context.partition_time_window.end.day == 4
    with pytest.raises(ValueError, match="not both"):
        dg.build_asset_context(partition_key="a", partition_key_range=("a", "b"))


def test_unknown_resource_on_a_direct_context_is_a_clear_error() -> None:
    context = dg.build_asset_context()
    with pytest.raises(dg.ConfigError, match="no resource 'missing'"):
        _ = context.resources.missing


def test_logged_and_yielded_asset_materializations_are_recorded() -> None:
    @dg.asset
    def exporter(context: dg.AssetExecutionContext) -> Iterator[object]:
        context.log_event(dg.AssetMaterialization(asset_key="exports/csv", metadata={"rows": 2}))
        yield dg.AssetMaterialization(asset_key=["exports", "parquet"], description="columnar")
        yield dg.Output(2)

    result = dg.materialize([exporter])
    events = result.asset_materializations_for_node("exporter")
    assert [(e.asset_key, e.metadata) for e in events] == [
        ("exporter", {}),
        ("exports/csv", {"rows": 2}),
        ("exports/parquet", {}),
    ]
    assert events[2].data["description"] == "columnar"


def test_log_event_takes_only_asset_materializations() -> None:
    with pytest.raises(TypeError, match=r"takes a dg\.AssetMaterialization"):
        dg.build_asset_context().log_event({"asset_key": "x"})


def test_output_for_node_reads_a_multi_asset_output_by_name() -> None:
    @dg.multi_asset(outs={"left": dg.AssetOut(), "right": dg.AssetOut()})
    def split() -> tuple[int, int]:
        return 1, 2

    result = dg.materialize([split])
    assert result.output_for_node("split", "right") == 2
    with pytest.raises(KeyError, match="has no output 'middle'"):
        result.output_for_node("split", "middle")


def test_an_op_records_logged_and_yielded_asset_materializations() -> None:
    @dg.op
    def export(context: dg.OpExecutionContext) -> Iterator[object]:
        context.log_event(dg.AssetMaterialization(asset_key="exports/csv", metadata={"rows": 2}))
        yield dg.AssetMaterialization(asset_key="exports/parquet")
        yield dg.Output(1)

    @dg.job
    def exporting() -> None:
        export()

    result = exporting.execute_in_process()
    assert result.success
    events = result.get_asset_materialization_events()
    assert [(e.asset_key, e.metadata, e.node) for e in events] == [
        ("exports/csv", {"rows": 2}, "exporting.export"),
        ("exports/parquet", {}, "exporting.export"),
    ]
    with pytest.raises(TypeError, match=r"takes a dg\.AssetMaterialization"):
        dg.build_op_context().log_event("not an event")
