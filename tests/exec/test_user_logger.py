"""``dg.get_dagster_logger``: records written in a step land in that step's log."""

from __future__ import annotations

import logging

import pytest

import deras as dg


def _logs(result: dg.ExecutionResult, node: str) -> list[tuple[str | None, str]]:
    return [
        (e.level, e.message) for e in result.events if e.event_type == dg.EventType.LOG and e.node == node
    ]


def helper_without_context() -> None:
    dg.get_dagster_logger().info("from a helper")


def test_records_land_in_the_running_steps_log() -> None:
    @dg.asset
    def first() -> int:
        dg.get_dagster_logger("prices").warning("odd price %s", 3)
        return 1

    @dg.asset
    def second(first: int) -> int:
        helper_without_context()
        dg.get_logger().debug("details")
        return first

    result = dg.materialize([first, second])
    assert _logs(result, "first") == [("WARNING", "odd price 3")]
    assert _logs(result, "second") == [("INFO", "from a helper"), ("DEBUG", "details")]


def test_records_outside_a_step_reach_no_run(caplog: pytest.LogCaptureFixture) -> None:
    @dg.asset
    def quiet() -> int:
        return 1

    with caplog.at_level(logging.INFO, logger="deras.user"):
        dg.get_dagster_logger().info("before the run")
        result = dg.materialize([quiet])
    assert not [e for e in result.events if e.event_type == dg.EventType.LOG]
    assert "before the run" in caplog.text  # still an ordinary logger


def test_records_of_a_multiprocess_step_are_captured() -> None:
    result = dg.materialize([logs_in_child], executor=dg.MultiprocessExecutor(max_concurrent=1))
    assert ("INFO", "hello from the child") in _logs(result, "logs_in_child")


@dg.asset
def logs_in_child() -> int:
    dg.get_dagster_logger().info("hello from the child")
    return 1
