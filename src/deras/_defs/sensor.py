"""``SensorDefinition`` and ``@sensor``: a function the daemon calls every few seconds to start runs.

A sensor keeps a cursor (a string it owns) between ticks and may name each run with a
``run_key``, which the daemon launches at most once, ever. ``evaluate_tick`` normalises what
the function returned into a ``SensorEvaluation``; storing it is the daemon's business.
Asset sensors and run status sensors (``asset_sensor.py``, ``run_status_sensor.py``) are
sensors whose tick reads the instance before calling the user's function.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from typing import Any, overload

from .._core.errors import DefinitionError, DerasError
from .job_target import job_target
from .run_request import RunRequest, TickEvaluationError
from .schedule import check_name, coerce_status, first_doc_line
from .tick_result import SensorEvaluation, accepted_args, call, evaluate, sensor_outcome


class DefaultSensorStatus(StrEnum):
    """Whether a sensor runs as soon as the daemon sees it (``deras sensor start/stop`` wins)."""

    RUNNING = "running"
    STOPPED = "stopped"


class SensorEvaluationContext:
    """What a sensor function gets: the cursor it left last time, the instance, a logger.

    >>> ctx = SensorEvaluationContext(cursor="3")
    >>> ctx.update_cursor("4")
    >>> ctx.cursor
    '4'
    """

    def __init__(
        self,
        instance: Any = None,
        cursor: str | None = None,
        last_run_key: str | None = None,
        last_tick_completion_time: float | None = None,
        definitions: Any = None,
        *,
        sensor_name: str | None = None,
    ) -> None:
        _check_cursor(cursor, "SensorEvaluationContext(cursor=...)")
        self._instance = instance
        self._cursor = cursor
        self._cursor_updated = False
        self.last_run_key = last_run_key
        self.last_tick_completion_time = last_tick_completion_time
        self.definitions = definitions
        self.sensor_name = sensor_name

    @property
    def repository_def(self) -> Any:
        """The ``Definitions`` (Dagster's name for ``.definitions``)."""
        return self.definitions

    @property
    def cursor(self) -> str | None:
        """The cursor the sensor stored on its last tick (None on the first)."""
        return self._cursor

    def update_cursor(self, cursor: str | None) -> None:
        """Store ``cursor`` for the next tick (kept only if this tick succeeds)."""
        _check_cursor(cursor, "context.update_cursor()")
        self._cursor = cursor
        self._cursor_updated = True

    @property
    def instance(self) -> Any:
        """The ``DerasInstance`` (an error if the context was built without one)."""
        if self._instance is None:
            raise DerasError(
                "this sensor context has no instance: build it with "
                "build_sensor_context(instance=dg.DerasInstance.ephemeral(), ...)"
            )
        return self._instance

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"deras.sensor.{self.sensor_name or 'sensor'}")

    def __repr__(self) -> str:
        return f"SensorEvaluationContext(sensor={self.sensor_name!r}, cursor={self._cursor!r})"


def build_sensor_context(
    instance: Any = None,
    cursor: str | None = None,
    definitions: Any = None,
    last_run_key: str | None = None,
    last_tick_completion_time: float | None = None,
) -> SensorEvaluationContext:
    """A context to call or evaluate a sensor with in tests.

    >>> build_sensor_context(cursor="10").cursor
    '10'
    """
    return SensorEvaluationContext(
        instance=instance,
        cursor=cursor,
        last_run_key=last_run_key,
        last_tick_completion_time=last_tick_completion_time,
        definitions=definitions,
    )


class SensorDefinition:
    """A function of a ``SensorEvaluationContext`` that the daemon calls every
    ``minimum_interval_seconds`` to decide which runs to start.

    Run requests without ``job_name`` run the sensor's ``job`` (or its ``asset_selection``).

    >>> from deras._defs.job import define_asset_job
    >>> def new_files(context):
    ...     return [RunRequest(run_key=name) for name in ("a.csv", "b.csv")]
    >>> s = SensorDefinition(evaluation_fn=new_files, job=define_asset_job("ingest"))
    >>> [(r.run_key, r.job_name) for r in s.evaluate_tick(build_sensor_context()).run_requests]
    [('a.csv', 'ingest'), ('b.csv', 'ingest')]
    """

    kind = "sensor"
    #: ``standard``, ``asset`` or ``run_status``: what the tick reads before calling the function.
    sensor_type = "standard"
    _arg_names: tuple[str, ...] = ("context",)

    def __init__(
        self,
        name: str | None = None,
        *,
        evaluation_fn: Callable[..., Any],
        job: Any = None,
        job_name: str | None = None,
        minimum_interval_seconds: float = 30,
        description: str | None = None,
        default_status: DefaultSensorStatus | str = DefaultSensorStatus.STOPPED,
        asset_selection: Any = None,
    ) -> None:
        if name is None:
            name = getattr(evaluation_fn, "__name__", None)
        self.name: str = check_name(name, "sensor")
        what = f"sensor '{self.name}'"
        self.job, self.job_name = job_target(job, job_name, what)
        if (
            isinstance(minimum_interval_seconds, bool)
            or not isinstance(minimum_interval_seconds, int | float)
            or minimum_interval_seconds <= 0
        ):
            raise DefinitionError(
                f"{what}: minimum_interval_seconds={minimum_interval_seconds!r} must be a positive number"
            )
        self.minimum_interval_seconds = minimum_interval_seconds
        self.description = description if description is not None else first_doc_line(evaluation_fn)
        self.default_status = coerce_status(default_status, DefaultSensorStatus, what)
        if self.job_name is not None and asset_selection is not None:
            raise DefinitionError(f"{what}: give job= / job_name= or asset_selection=, not both")
        self.asset_selection = asset_selection
        self.evaluation_fn = evaluation_fn
        self._nargs = accepted_args(evaluation_fn, what, self._arg_names)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """What the sensor's function returns (a generator's items as a list).

        Called without arguments, the function gets a context built by ``build_sensor_context()``.
        """
        if kwargs:
            return call(lambda: self.evaluation_fn(*args, **kwargs), 0, ())
        if not args and self._nargs:
            args = (build_sensor_context(),)
        return call(self.evaluation_fn, self._nargs, args)

    def evaluate_tick(self, context: SensorEvaluationContext) -> SensorEvaluation:
        """One tick: the run requests or skip reason, the cursor to store, partition changes.

        A function that raises or returns anything but a tick result raises
        ``TickEvaluationError`` naming the sensor (the cursor is then not to be stored).
        """
        what = f"sensor '{self.name}'"
        if not isinstance(context, SensorEvaluationContext):
            raise TickEvaluationError(
                f"{what} was evaluated with {type(context).__name__}: pass build_sensor_context(...)"
            )
        context.sensor_name = self.name
        context._cursor_updated = False
        value = self._run_tick(context)
        outcome = sensor_outcome(value, what, context.cursor, context._cursor_updated)
        return replace(outcome, run_requests=[self._finish(r) for r in outcome.run_requests])

    def _run_tick(self, context: SensorEvaluationContext) -> Any:
        """The raw result of this tick (kinds of sensors read the instance first)."""
        return evaluate(self.evaluation_fn, self._nargs, (context,), f"sensor '{self.name}'")

    def _finish(self, request: RunRequest) -> RunRequest:
        what = f"sensor '{self.name}'"
        if request.job_name is None:
            if self.job_name is not None:
                return replace(request, job_name=self.job_name)
            if request.asset_selection is None and self.asset_selection is not None:
                return replace(request, asset_selection=self.asset_selection)
            if request.asset_selection is None:
                raise TickEvaluationError(
                    f"{what} returned a RunRequest that runs nothing: the sensor has no job, so give "
                    "RunRequest(job_name=...) or asset_selection=, or give the sensor job="
                )
        elif self.job_name is not None and request.job_name != self.job_name:
            raise TickEvaluationError(
                f"{what} returned a RunRequest for job '{request.job_name}', but it runs "
                f"'{self.job_name}': leave job_name unset, or drop job= from the sensor"
            )
        return request

    def __repr__(self) -> str:
        target = f" -> {self.job_name}" if self.job_name else ""
        return f"<SensorDefinition {self.name} ({self.sensor_type}){target}>"


@overload
def sensor(fn: Callable[..., Any], /) -> SensorDefinition: ...
@overload
def sensor(
    fn: None = None,
    /,
    *,
    job: Any = None,
    job_name: str | None = None,
    name: str | None = None,
    minimum_interval_seconds: float = 30,
    default_status: DefaultSensorStatus | str = DefaultSensorStatus.STOPPED,
    description: str | None = None,
    asset_selection: Any = None,
) -> Callable[[Callable[..., Any]], SensorDefinition]: ...


def sensor(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    job: Any = None,
    job_name: str | None = None,
    name: str | None = None,
    minimum_interval_seconds: float = 30,
    default_status: DefaultSensorStatus | str = DefaultSensorStatus.STOPPED,
    description: str | None = None,
    asset_selection: Any = None,
) -> SensorDefinition | Callable[[Callable[..., Any]], SensorDefinition]:
    """Turn a function of ``context`` into a sensor.

    The function returns or yields ``RunRequest``s, or returns a ``SkipReason``, a
    ``SensorResult`` or None; it may keep state in ``context.cursor`` with
    ``context.update_cursor(...)``.

    >>> from deras._defs.job import define_asset_job
    >>> @sensor(job=define_asset_job("ingest"), minimum_interval_seconds=60)
    ... def new_files(context):
    ...     seen = int(context.cursor or 0)
    ...     context.update_cursor(str(seen + 1))
    ...     yield RunRequest(run_key=f"file-{seen + 1}")
    >>> ctx = build_sensor_context(cursor="4")
    >>> [r.run_key for r in new_files(ctx)], ctx.cursor
    (['file-5'], '5')
    """

    def decorate(f: Callable[..., Any]) -> SensorDefinition:
        return SensorDefinition(
            name,
            evaluation_fn=f,
            job=job,
            job_name=job_name,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
            asset_selection=asset_selection,
        )

    if fn is not None and not callable(fn):
        raise DefinitionError(f"@sensor got {fn!r}: pass arguments by keyword, e.g. @sensor(job=...)")
    return decorate(fn) if fn is not None else decorate


def _check_cursor(cursor: object, where: str) -> None:
    if cursor is not None and not isinstance(cursor, str):
        raise DerasError(
            f"{where}: a cursor is a string or None, got {type(cursor).__name__}; serialise it, "
            "e.g. json.dumps(...) or str(last_id)"
        )
