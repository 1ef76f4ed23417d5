"""Calling a schedule's or sensor's function, and reading what it returned.

A function may return (or yield) run requests, a skip reason, a run config dict (schedules)
or a ``SensorResult`` (sensors). ``ScheduleEvaluation`` and ``SensorEvaluation`` are the
normalised outcome of one tick that the daemon stores; anything else is a
``TickEvaluationError`` naming the schedule or sensor and what it returned.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .._core.errors import DefinitionError
from .run_request import (
    DynamicPartitionsRequest,
    RunRequest,
    SensorResult,
    SkipReason,
    TickEvaluationError,
    describe,
)

_SCHEDULE_RETURNS = "a RunRequest, a list of them, a SkipReason, a run config dict or None"
_SENSOR_RETURNS = "a RunRequest, a list of them, a SkipReason, a SensorResult or None"


@dataclass(frozen=True)
class ScheduleEvaluation:
    """What one schedule tick asks for: runs, or none and (maybe) why.

    >>> ScheduleEvaluation([], "holiday").skip_reason
    'holiday'
    """

    run_requests: list[RunRequest]
    skip_reason: str | None = None


@dataclass(frozen=True)
class SensorEvaluation:
    """What one sensor tick decided: runs or why none, its new cursor, partition changes.

    ``cursor`` is the cursor to store for the next tick (unchanged if the sensor did not set it).

    >>> SensorEvaluation([], "nothing new", cursor="41").cursor
    '41'
    """

    run_requests: list[RunRequest]
    skip_reason: str | None = None
    cursor: str | None = None
    dynamic_partitions_requests: list[DynamicPartitionsRequest] = field(default_factory=list)


def accepted_args(fn: Callable[..., Any], where: str, names: tuple[str, ...]) -> int:
    """How many of the arguments ``names`` (passed positionally) ``fn`` takes.

    A function may take fewer (a schedule may ignore its context), never more required ones.
    """
    if not callable(fn):
        raise DefinitionError(f"{where} is {describe(fn)}, not a function")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature: pass everything
        return len(names)
    positional = [
        p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    required = [p.name for p in positional if p.default is p.empty]
    keyword_only = [
        p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    ]
    if len(required) > len(names) or keyword_only:
        expected = f"({', '.join(names)})" if names else "no arguments"
        raise DefinitionError(
            f"{where} takes ({', '.join(sig.parameters)}), but it is called with {expected}. "
            "Fix: take only those (resources are not passed to schedules and sensors)."
        )
    if any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values()):
        return len(names)
    return min(len(positional), len(names))


def call(fn: Callable[..., Any], nargs: int, args: tuple[Any, ...]) -> Any:
    """``fn`` called with its first ``nargs`` of ``args``; a generator's items as a list."""
    result = fn(*args[:nargs])
    if isinstance(result, Iterator):
        return list(result)
    return result


def evaluate(fn: Callable[..., Any], nargs: int, args: tuple[Any, ...], what: str) -> Any:
    """``call``, with what the function raised wrapped in a ``TickEvaluationError`` naming ``what``."""
    try:
        return call(fn, nargs, args)
    except TickEvaluationError:
        raise
    except Exception as err:
        raise TickEvaluationError(f"{what} raised {type(err).__name__}: {err}") from err


def schedule_outcome(value: Any, what: str) -> ScheduleEvaluation:
    """Read a schedule function's result; ``what`` names the schedule in errors."""
    if isinstance(value, dict):
        return ScheduleEvaluation([RunRequest(run_config=value)])
    requests, skip, results = _sort(value, what, _SCHEDULE_RETURNS, allow_sensor_result=False)
    assert not results
    return ScheduleEvaluation(requests, skip)


def sensor_outcome(value: Any, what: str, cursor: str | None, cursor_updated: bool) -> SensorEvaluation:
    """Read a sensor function's result; ``cursor`` is the context's cursor after the call."""
    requests, skip, results = _sort(value, what, _SENSOR_RETURNS, allow_sensor_result=True)
    if not results:
        return SensorEvaluation(requests, skip, cursor)
    result = results[0]
    if result.cursor is not None:
        if cursor_updated:
            raise TickEvaluationError(
                f"{what} called context.update_cursor() and returned SensorResult(cursor=...): "
                "set the cursor in one place"
            )
        cursor = result.cursor
    message = result.skip_reason.skip_message if isinstance(result.skip_reason, SkipReason) else None
    return SensorEvaluation(
        list(result.run_requests or []),
        message,
        cursor,
        list(result.dynamic_partitions_requests or []),
    )


def _sort(
    value: Any, what: str, expected: str, *, allow_sensor_result: bool
) -> tuple[list[RunRequest], str | None, list[SensorResult]]:
    if value is None:
        return [], None, []
    items = list(value) if isinstance(value, list | tuple) else [value]
    requests: list[RunRequest] = []
    skips: list[SkipReason] = []
    results: list[SensorResult] = []
    for item in items:
        if isinstance(item, RunRequest):
            requests.append(item)
        elif isinstance(item, SkipReason):
            skips.append(item)
        elif isinstance(item, SensorResult) and allow_sensor_result:
            results.append(item)
        else:
            got = describe(item) if item is value else f"a list holding {describe(item)}"
            raise TickEvaluationError(f"{what} returned {got}, which is not a tick result: return {expected}")
    if results and len(items) > 1:
        raise TickEvaluationError(
            f"{what} returned a SensorResult together with other values: return the SensorResult alone, "
            "with the run requests inside it"
        )
    if skips and requests:
        raise TickEvaluationError(
            f"{what} returned both RunRequests and a SkipReason: a tick either requests runs or skips"
        )
    if len(skips) > 1:
        raise TickEvaluationError(f"{what} returned {len(skips)} SkipReasons: return one")
    return requests, (skips[0].skip_message if skips else None), results
