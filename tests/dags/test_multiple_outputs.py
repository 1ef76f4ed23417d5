"""``@task(multiple_outputs=True)``: each key of a returned dict is an XCom; ``out["key"]`` passes one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

import pytest

import deras as dg
from deras._core.errors import DefinitionError

DAY = datetime(2025, 1, 1, tzinfo=UTC)


class Summary(TypedDict):
    total: int


def test_a_subscripted_output_passes_that_key_downstream() -> None:
    @dg.dag
    def orders():
        @dg.task(multiple_outputs=True)
        def summarize():
            return {"total": 42, "count": 3}

        @dg.task
        def report(total: int, count: int) -> str:
            return f"{count} orders, {total} in all"

        summary = summarize()
        report(summary["total"], count=summary["count"])

    run = orders().test(logical_date=DAY)
    assert run.state == "success"
    assert run.xcom("report") == "3 orders, 42 in all"
    assert run.xcom("summarize") == {"total": 42, "count": 3}  # the whole dict stays the return value
    assert run.xcom("summarize", key="total") == 42


def test_a_dict_return_annotation_infers_multiple_outputs() -> None:
    @dg.dag
    def inferred():
        @dg.task
        def plain() -> dict[str, int]:
            return {"total": 1}

        @dg.task
        def typed() -> Summary:
            return {"total": 2}

        @dg.task(multiple_outputs=False)
        def refused() -> dict[str, int]:
            return {"total": 3}

        plain(), typed(), refused()

    run = inferred().test(logical_date=DAY)
    assert run.xcom("plain", key="total") == 1
    assert run.xcom("typed", key="total") == 2
    with pytest.raises(KeyError, match="no XCom 'total' from task 'refused'"):
        run.xcom("refused", key="total")


def test_a_task_without_multiple_outputs_pushes_only_its_return_value() -> None:
    @dg.dag
    def single():
        @dg.task
        def whole():
            return {"total": 1}

        @dg.task
        def use(total: int) -> int:
            return total

        use(whole()["total"])

    run = single().test(logical_date=DAY)
    assert run.state == "failed"
    assert run.get_task_instance("use").state == "failed"


def test_multiple_outputs_with_a_non_dict_result_fails_the_task_saying_so() -> None:
    @dg.dag
    def wrong():
        @dg.task(multiple_outputs=True)
        def listy():
            return [1, 2]

        listy()

    run = wrong().test(logical_date=DAY)
    assert run.get_task_instance("listy").state == "failed"
    failure = [e.message for e in run.result.events if e.event_type == dg.EventType.STEP_FAILURE]
    assert any("multiple_outputs=True" in m and "returned list, not a dict" in m for m in failure)


def test_an_output_is_subscripted_by_string_keys_and_cannot_be_unpacked() -> None:
    with dg.DAG("keys"):

        @dg.task
        def pair():
            return (1, 2)

        out = pair()
        with pytest.raises(DefinitionError, match="an XCom key is a string"):
            out[0]  # type: ignore[index]
        with pytest.raises(TypeError, match="cannot be unpacked"):
            _first, _second = out  # type: ignore[misc]
