"""``@run_status_sensor`` and ``@run_failure_sensor``: react to runs that ended (e.g. notify).

A tick reads the runs that finished since its cursor, oldest first, and calls the function
once per run that ended with the sensor's status (and, with ``monitored_jobs``, ran one of
those jobs or DAGs). The cursor is JSON ``{"end_time": ..., "run_ids": [...]}``: the last end
time the sensor read, and the runs ending at exactly that time it has handled (usually one).
The first tick only sets it to now: a new sensor does not fire for history.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from typing import Any

from .._core.errors import DefinitionError
from .._core.events import EventRecord, EventType
from .._core.records import RunRecord
from .._core.status import RunStatus
from .job_target import job_name_of
from .run_request import RunRequest, SensorResult, SkipReason, TickEvaluationError
from .sensor import DefaultSensorStatus, SensorDefinition, SensorEvaluationContext
from .tick_result import evaluate, sensor_outcome

#: Runs looked at per tick; the rest wait for the next tick.
RUNS_PER_TICK = 100
_FINISHED = (RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED)


class RunStatusSensorContext:
    """What a run status sensor's function gets: the run that ended, the instance, a logger.

    >>> ctx = RunStatusSensorContext("notify", RunRecord("r1", "dag:etl", RunStatus.SUCCESS), None)
    >>> ctx.run.run_id, ctx.dagster_run.status, ctx.log.name
    ('r1', <RunStatus.SUCCESS: 'success'>, 'deras.sensor.notify')
    """

    def __init__(
        self, sensor_name: str, run: RunRecord, instance: Any, *, log: logging.Logger | None = None
    ) -> None:
        self.sensor_name = sensor_name
        self.run = run
        self.instance = instance
        self._log = log

    @property
    def dagster_run(self) -> RunRecord:
        """The run (Dagster's name for ``.run``)."""
        return self.run

    @property
    def log(self) -> logging.Logger:
        return self._log or logging.getLogger(f"deras.sensor.{self.sensor_name}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sensor={self.sensor_name!r}, run={self.run.run_id!r})"


class RunFailureSensorContext(RunStatusSensorContext):
    """A run status context for a failed run: ``.failure_event`` says what failed first.

    >>> from deras._instance.instance import DerasInstance
    >>> ctx = RunFailureSensorContext("alert", RunRecord("r1", "dag:etl"), DerasInstance.ephemeral())
    >>> ctx.failure_event is None, ctx.get_step_failure_events()  # a run with no events
    (True, [])
    """

    @cached_property
    def _events(self) -> list[EventRecord]:
        return list(self.instance.get_events(self.run.run_id))

    @property
    def failure_event(self) -> EventRecord | None:
        """The run's first failure event (a step's failure with its error, or the run's)."""
        failures = (EventType.STEP_FAILURE, EventType.RUN_FAILURE)
        return next((e for e in self._events if e.event_type in failures), None)

    def get_step_failure_events(self) -> list[EventRecord]:
        """Every step failure of the run, in order (retried attempts included)."""
        return [e for e in self._events if e.event_type == EventType.STEP_FAILURE]


class RunStatusSensorDefinition(SensorDefinition):
    """A sensor whose function is called with a ``RunStatusSensorContext`` per run that ended
    with ``run_status``. Its run requests run ``request_job``."""

    sensor_type = "run_status"

    def __init__(
        self,
        name: str | None = None,
        *,
        run_status: RunStatus | str,
        evaluation_fn: Callable[..., Any],
        monitored_jobs: Sequence[Any] | None = None,
        request_job: Any = None,
        minimum_interval_seconds: float = 30,
        description: str | None = None,
        default_status: DefaultSensorStatus | str = DefaultSensorStatus.STOPPED,
    ) -> None:
        super().__init__(
            name,
            evaluation_fn=evaluation_fn,
            job=request_job,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
        )
        what = f"run status sensor '{self.name}'"
        try:
            self.run_status = RunStatus(str(run_status).lower())
        except ValueError:
            self.run_status = None  # type: ignore[assignment]
        if self.run_status not in _FINISHED:
            raise DefinitionError(
                f"{what}: run_status={run_status!r} is not a status a run ends with; use one of "
                + ", ".join(f"RunStatus.{s.name}" for s in _FINISHED)
            )
        if isinstance(monitored_jobs, str) or (
            monitored_jobs is not None and not isinstance(monitored_jobs, Sequence)
        ):
            raise DefinitionError(f"{what}: monitored_jobs= is a list of jobs, DAGs or their names")
        self.monitored_jobs: frozenset[str] | None = (
            None
            if monitored_jobs is None
            else frozenset(j if isinstance(j, str) else job_name_of(j, what) for j in monitored_jobs)
        )

    def _context_for(self, run: RunRecord, context: SensorEvaluationContext) -> RunStatusSensorContext:
        cls = RunFailureSensorContext if self.run_status == RunStatus.FAILURE else RunStatusSensorContext
        return cls(self.name, run, context.instance, log=context.log)

    def _run_tick(self, context: SensorEvaluationContext) -> Any:
        what = f"run status sensor '{self.name}'"
        position = _read_cursor(context.cursor)
        if position is None:
            context.update_cursor(_cursor(time.time(), []))
            return SkipReason("first tick: watching the runs that end from now on")
        end_time, seen = position
        # Runs that ended at exactly ``end_time`` after the last tick read it are still to come:
        # read from just below it, and skip the ones already handled.
        runs = context.instance.store.get_runs_finished_after(
            math.nextafter(end_time, -math.inf), limit=RUNS_PER_TICK + len(seen)
        )
        requests: list[RunRequest] = []
        skips: list[str] = []
        partition_requests: list[Any] = []
        matched = 0
        for run in runs:
            ended = run.end_time or 0.0
            if ended < end_time or (ended == end_time and run.run_id in seen):
                continue
            if run.status == self.run_status and (
                self.monitored_jobs is None or run.job_name in self.monitored_jobs
            ):
                matched += 1
                about = f"{what} (for run {run.run_id})"
                value = evaluate(self.evaluation_fn, self._nargs, (self._context_for(run, context),), about)
                outcome = sensor_outcome(value, about, None, False)
                if outcome.cursor is not None:
                    raise TickEvaluationError(
                        f"{about} returned SensorResult(cursor=...): a run status sensor keeps its own "
                        "cursor; leave it unset"
                    )
                requests += outcome.run_requests
                partition_requests += outcome.dynamic_partitions_requests
                if outcome.skip_reason:
                    skips.append(outcome.skip_reason)
            if ended > end_time:
                end_time, seen = ended, set()
            seen.add(run.run_id)
        context.update_cursor(_cursor(end_time, seen))
        context._cursor_updated = False  # the sensor's own bookkeeping, not the user's
        if requests:
            return SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests)
        skip: str | None = "; ".join(skips) or None
        if not matched:
            skip = f"no run ended with status {self.run_status.value} since the last tick"
        return SensorResult(skip_reason=skip, dynamic_partitions_requests=partition_requests)


def run_status_sensor(
    run_status: RunStatus | str = RunStatus.SUCCESS,
    *,
    name: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    request_job: Any = None,
    minimum_interval_seconds: float = 30,
    default_status: DefaultSensorStatus | str = DefaultSensorStatus.STOPPED,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], RunStatusSensorDefinition]:
    """Turn a function of ``context`` (a ``RunStatusSensorContext``) into a sensor called once per
    run that ended with ``run_status``.

    ``monitored_jobs`` (jobs, DAGs or their names) narrows the runs watched; the function may
    return ``RunRequest``s for ``request_job``, a ``SkipReason`` or None.

    >>> @run_status_sensor(RunStatus.SUCCESS, monitored_jobs=["etl"])
    ... def etl_done(context):
    ...     context.log.info("run %s of etl succeeded", context.run.run_id)
    >>> etl_done.run_status, sorted(etl_done.monitored_jobs)
    (<RunStatus.SUCCESS: 'success'>, ['etl'])
    """

    def decorate(fn: Callable[..., Any]) -> RunStatusSensorDefinition:
        return RunStatusSensorDefinition(
            name,
            run_status=run_status,
            evaluation_fn=fn,
            monitored_jobs=monitored_jobs,
            request_job=request_job,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
        )

    if callable(run_status) and not isinstance(run_status, str):
        raise DefinitionError(
            "@run_status_sensor needs a status: write @run_status_sensor(run_status=dg.RunStatus.SUCCESS)"
        )
    return decorate


def run_failure_sensor(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    request_job: Any = None,
    minimum_interval_seconds: float = 30,
    default_status: DefaultSensorStatus | str = DefaultSensorStatus.STOPPED,
    description: str | None = None,
) -> Any:
    """A run status sensor for failed runs; its context has ``.failure_event``.

    >>> @run_failure_sensor
    ... def notify(context):
    ...     print(f"run {context.run.run_id} failed: {context.failure_event.message}")
    >>> notify.run_status
    <RunStatus.FAILURE: 'failure'>
    """

    def decorate(f: Callable[..., Any]) -> RunStatusSensorDefinition:
        return RunStatusSensorDefinition(
            name,
            run_status=RunStatus.FAILURE,
            evaluation_fn=f,
            monitored_jobs=monitored_jobs,
            request_job=request_job,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
        )

    return decorate(fn) if fn is not None else decorate


def _cursor(end_time: float, run_ids: Iterable[str]) -> str:
    """``{"end_time": ..., "run_ids": [...]}``: the last end time read, and the runs that ended
    at exactly that time which the sensor has handled."""
    return json.dumps({"end_time": end_time, "run_ids": sorted(run_ids)})


def _read_cursor(cursor: str | None) -> tuple[float, set[str]] | None:
    if cursor is None:
        return None
    try:
        data = json.loads(cursor)
        return float(data["end_time"]), {str(r) for r in data["run_ids"]}
    except (ValueError, KeyError, TypeError):
        return None  # not ours (or from an older format): start from now
