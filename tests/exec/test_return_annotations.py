"""An asset's return annotation is checked: a value of another type fails the node, unstored."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import deras as dg


def _failure(result: dg.ExecutionResult, node: str) -> str:
    (event,) = [e for e in result.failure_events() if e.node == node]
    return str(event.data["error"])


def test_a_value_of_the_wrong_type_fails_the_asset_and_never_reaches_downstream() -> None:
    @dg.asset
    def count() -> int:
        return "three"  # type: ignore[return-value]

    received: list[object] = []

    @dg.asset
    def doubled(count: int) -> int:
        received.append(count)
        return count * 2

    instance = dg.DerasInstance.ephemeral()
    result = dg.materialize([count, doubled], instance=instance, raise_on_error=False)
    assert result.node_statuses["count"] == dg.NodeStatus.FAILED
    assert result.node_statuses["doubled"] == dg.NodeStatus.UPSTREAM_FAILED
    assert received == []
    assert instance.get_latest_materialization("count") is None
    assert _failure(result, "count") == (
        "TypeError: asset 'count' returned str, but its return annotation is int. "
        "Fix: return a value of that type, or change the annotation (-> Any is not checked)."
    )


class Report:
    """A user class, resolved from this module's globals (string annotations)."""


@pytest.mark.parametrize(
    ("annotation", "good", "bad", "shown"),
    [
        (int, 3, 3.5, "int"),
        (float, 3, "3", "float"),  # an int is a float (PEP 484)
        (str, dg.MultiPartitionKey({"a": "x", "b": "y"}), b"x", "str"),
        (list[int], [1, 2], (1, 2), "list[int]"),
        (dict[str, int], {"a": 1}, [("a", 1)], "dict[str, int]"),
        (typing.Optional[int], None, "1", "typing.Optional[int]"),  # noqa: UP045
        (int | None, 1, "1", "int | None"),
        (typing.Sequence[int], (1, 2), {1, 2}, "typing.Sequence[int]"),
        (None, None, 0, "None"),
        (Report, Report(), object(), "test_return_annotations.Report"),
        (pd.DataFrame, pd.DataFrame({"a": [1]}), pa.table({"a": [1]}), "pandas.DataFrame"),
        (pa.Table, pa.table({"a": [1]}), pd.DataFrame({"a": [1]}), "pyarrow.lib.Table"),
    ],
)
def test_simple_annotations_accept_their_type_and_refuse_others(
    annotation: Any, good: object, bad: object, shown: str
) -> None:
    def make(value: object) -> dg.AssetsDefinition:
        def produce():  # type: ignore[no-untyped-def]
            return value

        produce.__annotations__["return"] = annotation
        return dg.asset(name="produce")(produce)

    assert dg.materialize([make(good)]).success
    result = dg.materialize([make(bad)], raise_on_error=False)
    assert f"but its return annotation is {shown}." in _failure(result, "produce")


def test_numpy_scalars_count_as_numbers() -> None:
    @dg.asset
    def total() -> int:
        return pd.Series([1, 2]).sum()  # numpy.int64, not int

    assert dg.materialize([total]).asset_value("total") == 3


def test_string_annotations_resolve_in_the_functions_module() -> None:
    @dg.asset
    def report() -> Report:  # a string here (from __future__ import annotations)
        return "not a report"  # type: ignore[return-value]

    assert report.fn.__annotations__["return"] == "Report"
    result = dg.materialize([report], raise_on_error=False)
    assert "returned str, but its return annotation is Report." in _failure(result, "report")


@pytest.mark.parametrize("annotation", [Any, "NotImportedAnywhere", "typing.Optional[Any]", "list["])
def test_any_and_unresolvable_annotations_are_not_checked(annotation: Any) -> None:
    @dg.asset
    def anything():  # type: ignore[no-untyped-def]
        return 1

    anything.fn.__annotations__["return"] = annotation
    assert dg.materialize([anything]).asset_value("anything") == 1


def test_no_annotation_is_not_checked() -> None:
    @dg.asset
    def loose():  # type: ignore[no-untyped-def]
        return object()

    assert dg.materialize([loose]).success


def test_output_is_checked_by_its_value_and_materialize_result_passes() -> None:
    @dg.asset
    def wrapped() -> int:
        return dg.Output("x")  # type: ignore[return-value]

    @dg.asset
    def wrapped_ok() -> int:
        return dg.Output(1, metadata={"n": 1})  # type: ignore[return-value]

    @dg.asset
    def recorded() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 1})

    @dg.asset
    def recorded_none() -> None:
        return dg.MaterializeResult(metadata={"rows": 1})  # type: ignore[return-value]

    result = dg.materialize([wrapped, wrapped_ok, recorded, recorded_none], raise_on_error=False)
    assert "returned str, but its return annotation is int" in _failure(result, "wrapped")
    statuses = result.node_statuses
    assert [statuses[n] for n in ("wrapped_ok", "recorded", "recorded_none")] == [dg.NodeStatus.SUCCESS] * 3


def test_returning_a_value_from_an_asset_annotated_none_fails_it() -> None:
    @dg.asset
    def side_effect() -> None:
        return 42  # type: ignore[return-value]

    result = dg.materialize([side_effect], raise_on_error=False)
    assert "returned int, but its return annotation is None" in _failure(result, "side_effect")


def test_generators_and_multi_asset_tuples() -> None:
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def pair() -> tuple[int, str]:
        return 1, "b"

    @dg.multi_asset(outs={"c": dg.AssetOut(), "d": dg.AssetOut()})
    def yielded() -> Iterator[dg.Output]:
        yield dg.Output(1, "c")
        yield dg.Output(2, "d")

    @dg.multi_asset(outs={"e": dg.AssetOut(), "f": dg.AssetOut()})
    def not_a_tuple() -> tuple[int, int]:
        return [1, 2]  # type: ignore[return-value]

    result = dg.materialize([pair, yielded, not_a_tuple], raise_on_error=False)
    assert result.node_statuses["pair"] == result.node_statuses["yielded"] == dg.NodeStatus.SUCCESS
    assert "asset 'not_a_tuple' returned list, but its return annotation is tuple[int, int]" in _failure(
        result, "not_a_tuple"
    )


def test_a_retry_policy_applies_to_a_wrong_type_like_any_failure() -> None:
    calls: list[int] = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def sometimes() -> dict:
        calls.append(1)
        return None if len(calls) == 1 else {"ok": True}  # type: ignore[return-value]

    assert dg.materialize([sometimes]).asset_value("sometimes") == {"ok": True}
    assert len(calls) == 2


def test_dag_tasks_are_not_checked() -> None:
    @dg.dag(schedule=None)
    def loose() -> None:
        @dg.task
        def count() -> int:
            return "three"  # type: ignore[return-value]

        count()

    assert loose().test().state == "success"
