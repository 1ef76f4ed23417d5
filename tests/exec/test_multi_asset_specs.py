"""``@multi_asset(specs=[dg.AssetSpec(...)])``: one step, several assets, each with its own deps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import deras as dg


def _materialized(result: dg.ExecutionResult) -> dict[str, dict[str, object]]:
    return {
        e.asset_key: e.data["metadata"]
        for e in result.events
        if e.event_type == dg.EventType.ASSET_MATERIALIZATION and e.asset_key
    }


def test_spec_multi_asset_records_a_materialization_per_materialize_result() -> None:
    raw = dg.AssetSpec("raw")

    @dg.multi_asset(specs=[dg.AssetSpec("orders", deps=["raw"]), dg.AssetSpec("users", deps=[raw])])
    def load() -> Iterator[dg.MaterializeResult]:
        yield dg.MaterializeResult(asset_key="orders", metadata={"rows": 3})
        yield dg.MaterializeResult(asset_key="users", metadata={"rows": 5})

    result = dg.materialize([raw, load])
    assert result.success
    assert _materialized(result) == {"orders": {"rows": 3}, "users": {"rows": 5}}


def test_spec_deps_order_the_step_after_its_upstream_asset() -> None:
    @dg.asset
    def raw() -> int:
        return 1

    @dg.multi_asset(specs=[dg.AssetSpec("a", deps=[raw]), dg.AssetSpec("b", deps=["a"])])
    def both() -> Iterator[dg.MaterializeResult]:
        yield dg.MaterializeResult(asset_key="a")
        yield dg.MaterializeResult(asset_key="b")

    defs = dg.Definitions(assets=[raw, both])
    assert defs.asset_graph.order == ["raw", "both"]  # b's dep on its sibling a makes no edge
    assert dg.materialize([raw, both]).success


def test_materialize_result_for_an_asset_not_in_specs_fails_the_step() -> None:
    @dg.multi_asset(specs=[dg.AssetSpec("a"), dg.AssetSpec("b")])
    def wrong() -> Iterator[dg.MaterializeResult]:
        yield dg.MaterializeResult(asset_key="a")
        yield dg.MaterializeResult(asset_key="c")

    result = dg.materialize([wrong], raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.events if e.event_type == dg.EventType.STEP_FAILURE]
    assert "MaterializeResult for asset 'c', which it does not produce (it produces a, b)" in failure.message


def test_a_spec_without_result_fails_unless_skippable() -> None:
    @dg.multi_asset(specs=[dg.AssetSpec("a"), dg.AssetSpec("b")])
    def half() -> Iterator[dg.MaterializeResult]:
        yield dg.MaterializeResult(asset_key="a")

    failed = dg.materialize([half], raise_on_error=False)
    assert not failed.success
    assert "produced no value for output(s) ['b']" in failed.failure_events()[0].message

    @dg.multi_asset(specs=[dg.AssetSpec("a"), dg.AssetSpec("b", skippable=True)])
    def optional() -> Iterator[dg.MaterializeResult]:
        yield dg.MaterializeResult(asset_key="a")

    result = dg.materialize([optional])
    assert list(_materialized(result)) == ["a"]


def test_can_subset_lets_the_step_yield_only_selected_keys() -> None:
    seen: list[set[str]] = []

    @dg.multi_asset(specs=[dg.AssetSpec("a"), dg.AssetSpec("b")], can_subset=True)
    def subsettable(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        seen.append({k.to_user_string() for k in context.selected_asset_keys})
        yield dg.MaterializeResult(asset_key="b")

    result = dg.materialize([subsettable])
    assert seen == [{"a", "b"}]
    assert list(_materialized(result)) == ["b"]


def test_asset_spec_fields_reach_the_definition() -> None:
    spec = dg.AssetSpec(
        ["warehouse", "orders"],
        deps=["raw"],
        description="all orders",
        metadata={"owner_team": "sales"},
        group_name="sales",
        owners=["team:sales"],
        tags={"tier": "gold"},
        kinds={"duckdb", "python"},
        skippable=True,
        code_version="2",
    )
    [out] = spec.specs
    assert spec.key == dg.AssetKey(["warehouse", "orders"])
    assert spec.deps == ["raw"]
    assert (out.description, out.group_name, out.owners, out.code_version) == (
        "all orders",
        "sales",
        ("team:sales",),
        "2",
    )
    assert out.metadata == {"owner_team": "sales"}
    assert out.tags == {"tier": "gold", "dagster/kind/duckdb": "", "dagster/kind/python": ""}
    assert out.skippable
    assert out.output_name == "warehouse__orders"


def test_multi_asset_group_name_applies_to_specs_without_one() -> None:
    @dg.multi_asset(specs=[dg.AssetSpec("a"), dg.AssetSpec("b", group_name="own")], group_name="shared")
    def grouped() -> None: ...

    assert [s.group_name for s in grouped.specs] == ["shared", "own"]


def test_kinds_given_as_a_string_is_an_error() -> None:
    with pytest.raises(TypeError, match="kinds= takes a set of strings"):
        dg.AssetSpec("a", kinds="python")  # type: ignore[arg-type]


def test_multi_asset_needs_outs_or_specs_and_not_both() -> None:
    with pytest.raises(ValueError, match="either outs= or specs="):
        dg.multi_asset()
    with pytest.raises(ValueError, match="either outs= or specs="):
        dg.multi_asset(outs={"a": dg.AssetOut()}, specs=[dg.AssetSpec("b")])


def test_specs_must_be_asset_specs_and_unique() -> None:
    @dg.asset
    def real() -> int:
        return 1

    with pytest.raises(TypeError, match=r"specs= takes dg\.AssetSpec"):
        dg.multi_asset(specs=[real])(lambda: None)
    with pytest.raises(ValueError, match="asset 'a' is listed twice"):
        dg.multi_asset(specs=[dg.AssetSpec("a"), dg.AssetSpec("a")])(lambda: None)


def test_spec_deps_on_an_unknown_asset_are_a_definition_error() -> None:
    @dg.multi_asset(specs=[dg.AssetSpec("a", deps=["nowhere"])])
    def lonely() -> None: ...

    with pytest.raises(dg.DefinitionError, match="lists deps=\\['nowhere'\\]"):
        dg.Definitions(assets=[lonely])


def test_an_out_that_is_not_required_may_be_left_out() -> None:
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut(is_required=False)})
    def maybe() -> Iterator[dg.Output]:
        yield dg.Output(1, output_name="a")

    result = dg.materialize([maybe])
    assert list(_materialized(result)) == ["a"]


def test_asset_spec_reads_like_dagsters() -> None:
    spec = dg.AssetSpec("a", metadata={"m": 1}, tags={"t": "v"}, owners=["me"], kinds={"s3"}, skippable=True)
    assert (spec.metadata, spec.tags, spec.owners, spec.kinds, spec.skippable) == (
        {"m": 1},
        {"t": "v", "dagster/kind/s3": ""},
        ["me"],
        {"s3"},
        True,
    )


def test_replace_attributes_makes_a_changed_copy() -> None:
    spec = dg.AssetSpec("a", group_name="x", tags={"t": "v"}, kinds={"s3"}, deps=["up"])
    moved = spec.replace_attributes(group_name="y", key="b", kinds={"duckdb"})
    assert (moved.key, moved.group_name, moved.kinds, moved.tags["t"], moved.deps) == (
        dg.AssetKey("b"),
        "y",
        {"duckdb"},
        "v",
        ["up"],
    )
    assert (spec.key, spec.group_name) == (dg.AssetKey("a"), "x")
    with pytest.raises(TypeError, match="AssetSpec has no field 'colour'"):
        spec.replace_attributes(colour="red")


def test_merge_attributes_adds_to_what_is_there() -> None:
    spec = dg.AssetSpec("a", metadata={"m": 1}, owners=["me"], kinds={"s3"}, deps=["up"])
    merged = spec.merge_attributes(metadata={"n": 2}, owners=["you"], kinds={"duckdb"}, deps=["other"])
    assert merged.metadata == {"m": 1, "n": 2}
    assert merged.owners == ["me", "you"]
    assert merged.kinds == {"s3", "duckdb"}
    assert merged.deps == ["up", "other"]
    with pytest.raises(TypeError, match="not 'group_name'"):
        spec.merge_attributes(group_name="g")


def test_replace_attributes_on_a_real_asset_is_an_error() -> None:
    @dg.asset
    def real() -> int:
        return 1

    with pytest.raises(TypeError, match=r"apply to dg\.AssetSpec"):
        real.replace_attributes(group_name="g")


def test_each_spec_has_its_own_deps_in_the_lineage() -> None:
    from deras._snapshot.build import snapshot_of
    from deras._snapshot.snapshot import LocationRef

    @dg.asset
    def raw() -> int:
        return 1

    @dg.multi_asset(specs=[dg.AssetSpec("a", deps=[raw]), dg.AssetSpec("b", deps=["a"]), dg.AssetSpec("c")])
    def abc() -> None: ...

    snap = snapshot_of(dg.Definitions(assets=[raw, abc]), LocationRef(file="defs.py"))
    assert {s.key: s.deps for s in snap.assets} == {"raw": [], "a": ["raw"], "b": ["a"], "c": []}


def test_an_asset_reading_a_skipped_spec_that_has_no_value_is_skipped() -> None:
    @dg.multi_asset(specs=[dg.AssetSpec("kept"), dg.AssetSpec("left_out", skippable=True)])
    def producer() -> Iterator[dg.Output]:
        yield dg.Output(1, output_name="kept")

    @dg.asset
    def reader(left_out: int) -> int:
        return left_out

    @dg.asset
    def other(kept: int) -> int:
        return kept

    result = dg.materialize([producer, reader, other])
    assert result.success
    assert result.node_statuses["reader"] == dg.NodeStatus.SKIPPED
    assert result.node_statuses["other"] == dg.NodeStatus.SUCCESS
    [skip] = [e for e in result.events if e.event_type == dg.EventType.STEP_SKIPPED]
    assert skip.data["reason"] == "asset 'left_out' has no value: its step did not yield it"
