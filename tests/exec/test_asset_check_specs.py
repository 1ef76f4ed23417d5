"""Checks a step evaluates itself: ``@asset(check_specs=...)`` and ``@multi_asset_check``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import deras as dg


def _verdicts(result: dg.ExecutionResult) -> dict[str, bool]:
    return {f"{c.asset_key}:{c.check_name}": c.passed for c in result.check_results()}


def test_asset_yields_its_value_and_a_result_per_check_spec() -> None:
    specs = [dg.AssetCheckSpec("not_empty", asset="orders"), dg.AssetCheckSpec("small", "orders")]

    @dg.asset(check_specs=specs)
    def orders() -> Iterator[object]:
        rows = [1, 2, 3]
        yield dg.Output(rows)
        yield dg.AssetCheckResult(check_name="not_empty", passed=bool(rows), metadata={"rows": len(rows)})
        yield dg.AssetCheckResult(check_name="small", passed=len(rows) < 2)

    result = dg.materialize([orders])
    assert result.success  # a failed non-blocking check does not fail the run
    assert result.asset_value("orders") == [1, 2, 3]
    assert _verdicts(result) == {"orders:not_empty": True, "orders:small": False}
    [not_empty] = [c for c in result.check_results() if c.check_name == "not_empty"]
    assert not_empty.metadata == {"rows": 3}


def test_materialize_result_carries_check_results() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("fresh", asset="table")])
    def table() -> dg.MaterializeResult:
        return dg.MaterializeResult(
            metadata={"rows": 1}, check_results=[dg.AssetCheckResult(passed=True, check_name="fresh")]
        )

    assert _verdicts(dg.materialize([table])) == {"table:fresh": True}


def test_a_single_check_spec_needs_no_check_name() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="n")])
    def n() -> Iterator[object]:
        yield dg.Output(5)
        yield dg.AssetCheckResult(passed=True)

    assert _verdicts(dg.materialize([n])) == {"n:positive": True}


def test_a_check_spec_without_result_fails_the_step_after_materializing() -> None:
    @dg.asset(
        check_specs=[dg.AssetCheckSpec("a_check", asset="a"), dg.AssetCheckSpec("b_check", asset="a")],
        retry_policy=dg.RetryPolicy(max_retries=2),
    )
    def a() -> Iterator[object]:
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="a_check", passed=True)

    result = dg.materialize([a], raise_on_error=False)
    assert result.node_statuses["a"] == dg.NodeStatus.FAILED
    [failure] = result.failure_events()
    assert "yielded no AssetCheckResult for check(s) a:b_check" in failure.message
    assert _verdicts(result) == {"a:a_check": True}  # what it did yield is still recorded
    # no retry for it: the same code would leave the result out again
    assert not [e for e in result.events if e.event_type == dg.EventType.STEP_RETRY]


def test_a_result_for_a_check_not_in_specs_fails_the_step() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("known", asset="a")])
    def a() -> Iterator[object]:
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="unknown", passed=True)

    result = dg.materialize([a], raise_on_error=False)
    assert "check 'unknown' on '?', which is not one of its check specs (a:known)" in (
        result.failure_events()[0].message
    )


def test_failed_blocking_check_spec_fails_the_asset_and_skips_downstream() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("no_zero", asset="source", blocking=True)])
    def source() -> Iterator[object]:
        yield dg.Output([3, 0])
        yield dg.AssetCheckResult(passed=False, description="found a zero")

    @dg.asset
    def downstream(source: list[int]) -> int:
        return len(source)

    result = dg.materialize([source, downstream], raise_on_error=False)
    assert result.node_statuses["source"] == dg.NodeStatus.FAILED
    assert result.node_statuses["downstream"] != dg.NodeStatus.SUCCESS
    mats = [e.asset_key for e in result.events if e.event_type == dg.EventType.ASSET_MATERIALIZATION]
    assert mats == ["source"]  # recorded before the check failed the step
    assert "blocking check no_zero on source failed: found a zero" in result.failure_events()[0].message


def test_check_spec_on_an_asset_the_step_does_not_produce_is_a_definition_error() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("c", asset="other")])
    def mine() -> int:
        return 1

    @dg.asset
    def other() -> int:
        return 2

    with pytest.raises(dg.DefinitionError, match="does not produce 'other'"):
        dg.Definitions(assets=[mine, other])


def test_a_check_spec_and_an_asset_check_of_the_same_name_clash() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("dup", asset="a")])
    def a() -> int:
        return 1

    @dg.asset_check(asset=a, name="dup")
    def dup() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    with pytest.raises(dg.DefinitionError, match="check 'a:dup' is defined twice"):
        dg.Definitions(assets=[a], asset_checks=[dup])


def test_bad_check_specs_fail_at_the_decorator() -> None:
    with pytest.raises(TypeError, match=r"check_specs= takes dg\.AssetCheckSpec"):
        dg.asset(check_specs=["no_nulls"])(lambda: 1)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="listed twice"):
        dg.asset(check_specs=[dg.AssetCheckSpec("c", "a"), dg.AssetCheckSpec("c", "a")])(lambda: 1)
    with pytest.raises(ValueError, match="non-empty string"):
        dg.AssetCheckSpec("", asset="a")


def test_multi_asset_check_yields_results_for_several_assets() -> None:
    @dg.asset
    def a() -> int:
        return 1

    @dg.asset
    def b() -> int:
        return -1

    @dg.multi_asset_check(
        specs=[dg.AssetCheckSpec("positive", asset=a), dg.AssetCheckSpec("positive", asset=b)]
    )
    def positives(a: int, b: int) -> Iterator[dg.AssetCheckResult]:
        yield dg.AssetCheckResult(asset_key="a", check_name="positive", passed=a > 0)
        yield dg.AssetCheckResult(asset_key=dg.AssetKey("b"), check_name="positive", passed=b > 0)

    defs = dg.Definitions(assets=[a, b], asset_checks=[positives])
    assert set(defs.asset_graph.upstream["positives"]) == {"a", "b"}
    result = dg.materialize([a, b, positives])
    assert _verdicts(result) == {"a:positive": True, "b:positive": False}


def test_multi_asset_check_missing_a_result_fails() -> None:
    @dg.asset
    def a() -> int:
        return 1

    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("x", asset="a"), dg.AssetCheckSpec("y", asset="a")])
    def partial() -> Iterator[dg.AssetCheckResult]:
        yield dg.AssetCheckResult(check_name="x", passed=True)

    result = dg.materialize([a, partial], raise_on_error=False)
    assert result.node_statuses["partial"] == dg.NodeStatus.FAILED
    assert "no AssetCheckResult for check(s) a:y" in result.failure_events()[0].message


def test_blocking_multi_asset_check_blocks_downstream_of_its_failing_asset() -> None:
    @dg.asset
    def a() -> int:
        return 0

    @dg.asset
    def after(a: int) -> int:
        return a

    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("nonzero", asset="a", blocking=True)])
    def guard(a: int) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=a != 0)

    defs = dg.Definitions(assets=[a, after], asset_checks=[guard])
    assert "guard" in defs.asset_graph.upstream["after"]
    result = dg.materialize([a, after, guard], raise_on_error=False)
    assert result.node_statuses["guard"] == dg.NodeStatus.FAILED
    assert result.node_statuses["after"] == dg.NodeStatus.SKIPPED


def test_multi_asset_check_on_an_unknown_asset_is_a_definition_error() -> None:
    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("x", asset="ghost")])
    def haunted() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    with pytest.raises(dg.DefinitionError, match="checks asset\\(s\\) \\['ghost'\\]"):
        dg.Definitions(asset_checks=[haunted])


def test_spec_checks_appear_in_the_snapshot() -> None:
    from deras._snapshot.build import snapshot_of
    from deras._snapshot.snapshot import LocationRef

    @dg.asset(check_specs=[dg.AssetCheckSpec("inline", asset="a", blocking=True)])
    def a() -> int:
        return 1

    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("multi", asset="a")])
    def many() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    snap = snapshot_of(dg.Definitions(assets=[a], asset_checks=[many]), LocationRef(file="defs.py"))
    assert {(c.name, c.asset_key, c.blocking, c.node_id) for c in snap.checks} == {
        ("inline", "a", True, "a"),
        ("multi", "a", False, "many"),
    }
    [asset_snap] = snap.assets
    assert sorted(asset_snap.check_names) == ["inline", "multi"]


def test_an_asset_yielding_only_its_check_result_fails_for_want_of_a_value() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("c", asset="a")])
    def a() -> Iterator[object]:
        yield dg.AssetCheckResult(passed=True)

    result = dg.materialize([a], raise_on_error=False)
    assert "a produced no value for output(s) ['result']" in result.failure_events()[0].message


def test_multi_asset_check_context_names_every_checked_asset() -> None:
    seen: list[list[str]] = []

    @dg.asset
    def a() -> int:
        return 1

    @dg.asset
    def b() -> int:
        return 1

    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("x", asset="a"), dg.AssetCheckSpec("x", asset="b")])
    def both(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        seen.append([str(k) for k in context.asset_keys])
        for key in context.asset_keys:
            yield dg.AssetCheckResult(asset_key=key, check_name="x", passed=True)

    assert dg.materialize([a, b, both]).success
    assert seen == [["a", "b"]]
