"""``dg.Failure`` and ``dg.RetryRequested`` raised by a step."""

from __future__ import annotations

import re

import pytest

import deras as dg


def _of_type(result: dg.ExecutionResult, kind: dg.EventType) -> list[dg.EventRecord]:
    return [e for e in result.events if e.event_type == kind]


def test_failure_records_its_description_and_metadata() -> None:
    @dg.asset
    def fetch() -> int:
        raise dg.Failure(description="the API answered 503", metadata={"status": 503, "url": "https://x"})

    result = dg.materialize([fetch], raise_on_error=False)
    [failure] = result.failure_events()
    assert failure.message == "Failure: the API answered 503"
    assert failure.metadata == {"status": 503, "url": "https://x"}


def test_failure_respects_the_retry_policy_by_default() -> None:
    attempts: list[int] = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky(context: dg.AssetExecutionContext) -> int:
        attempts.append(context.retry_number)
        raise dg.Failure(description="down", metadata={"try": context.retry_number})

    result = dg.materialize([flaky], raise_on_error=False)
    assert attempts == [0, 1, 2]
    retries = _of_type(result, dg.EventType.STEP_RETRY)
    assert [e.data["metadata"] for e in retries] == [{"try": 0}, {"try": 1}]


def test_failure_without_retries_stops_the_retry_policy() -> None:
    attempts: list[int] = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=3))
    def doomed(context: dg.AssetExecutionContext) -> int:
        attempts.append(context.retry_number)
        raise dg.Failure(description="bad credentials", allow_retries=False)

    result = dg.materialize([doomed], raise_on_error=False)
    assert attempts == [0]
    assert not _of_type(result, dg.EventType.STEP_RETRY)
    assert result.node_statuses["doomed"] == dg.NodeStatus.FAILED


def test_retry_requested_retries_without_a_policy_then_fails() -> None:
    attempts: list[int] = []

    @dg.asset
    def eventually(context: dg.AssetExecutionContext) -> int:
        attempts.append(context.retry_number)
        raise dg.RetryRequested(max_retries=2, seconds_to_wait=0)

    result = dg.materialize([eventually], raise_on_error=False)
    assert attempts == [0, 1, 2]
    assert [e.data["delay"] for e in _of_type(result, dg.EventType.STEP_RETRY)] == [0.0, 0.0]
    [failure] = result.failure_events()
    assert failure.message.endswith("exceeded max_retries=2")


def test_retry_requested_succeeds_on_a_later_attempt() -> None:
    @dg.asset
    def second_time(context: dg.AssetExecutionContext) -> int:
        if context.retry_number == 0:
            raise dg.RetryRequested(max_retries=1)
        return 7

    result = dg.materialize([second_time])
    assert result.asset_value("second_time") == 7


def test_retry_requested_waits_its_seconds() -> None:
    @dg.asset
    def slow_retry(context: dg.AssetExecutionContext) -> int:
        if context.retry_number == 0:
            raise dg.RetryRequested(max_retries=1, seconds_to_wait=0.05)
        return 1

    result = dg.materialize([slow_retry])
    [retry] = _of_type(result, dg.EventType.STEP_RETRY)
    assert retry.data["delay"] == 0.05


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"description": 503}, "description=) takes a string"),
        ({"metadata": ["status"]}, "metadata=) takes a dict"),
        ({"allow_retries": "no"}, "allow_retries=) takes True or False"),
    ],
)
def test_bad_failure_arguments_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        dg.Failure(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_retries": -1}, "max_retries=) takes an int >= 0"),
        ({"max_retries": 1.5}, "max_retries=) takes an int >= 0"),
        ({"seconds_to_wait": -2}, "seconds_to_wait=) takes a number >= 0"),
        ({"seconds_to_wait": "soon"}, "seconds_to_wait=) takes a number >= 0"),
    ],
)
def test_bad_retry_requested_arguments_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        dg.RetryRequested(**kwargs)  # type: ignore[arg-type]


def test_failure_in_a_multiprocess_run_keeps_its_metadata() -> None:
    result = dg.materialize(
        [_failing_asset()], executor=dg.MultiprocessExecutor(max_concurrent=1), raise_on_error=False
    )
    [failure] = result.failure_events()
    assert failure.metadata == {"rows": 0}


def _failing_asset() -> dg.AssetsDefinition:
    return failing_in_child


@dg.asset
def failing_in_child() -> int:
    raise dg.Failure(description="no rows", metadata={"rows": 0})
