"""``ScheduleDefinition`` and ``@schedule``: runs of a job on a cron schedule, in a timezone.

Ticks follow the wall clock of ``execution_timezone`` with the DST policy of
``dag_schedule.py`` (API.md §5): a cron time that does not exist on a DST day fires once, at
the first valid instant after it; one that happens twice fires once, at its first occurrence.
The daemon asks ``tick_times_between`` which ticks it owes and ``evaluate_tick`` what each
one requests; creating the runs exactly once is its business.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from .._core.errors import DefinitionError, DerasError
from .dag_schedule import DagSchedule, parse_schedule
from .job_target import job_target
from .run_config import RunConfig
from .run_request import RunRequest, TickEvaluationError, string_tags
from .tick_result import ScheduleEvaluation, accepted_args, call, evaluate, schedule_outcome

E = TypeVar("E", bound=StrEnum)


class DefaultScheduleStatus(StrEnum):
    """Whether a schedule runs as soon as the daemon sees it (``deras schedule start/stop`` wins)."""

    RUNNING = "running"
    STOPPED = "stopped"


class ScheduleEvaluationContext:
    """What a schedule function gets: the tick's time (aware, in the schedule's timezone).

    >>> ctx = ScheduleEvaluationContext(datetime(2025, 1, 2, tzinfo=UTC))
    >>> ctx.scheduled_execution_time.isoformat()
    '2025-01-02T00:00:00+00:00'
    """

    def __init__(
        self,
        scheduled_execution_time: datetime,
        instance: Any = None,
        *,
        schedule_name: str | None = None,
    ) -> None:
        if not isinstance(scheduled_execution_time, datetime) or scheduled_execution_time.utcoffset() is None:
            raise DerasError(
                f"scheduled_execution_time={scheduled_execution_time!r} must be a timezone-aware "
                "datetime, e.g. datetime(2025, 1, 1, 2, tzinfo=ZoneInfo('Asia/Jakarta'))"
            )
        self._time = scheduled_execution_time
        self._instance = instance
        self.schedule_name = schedule_name

    @property
    def scheduled_execution_time(self) -> datetime:
        return self._time

    @property
    def instance(self) -> Any:
        """The ``DerasInstance`` (an error if the context was built without one)."""
        if self._instance is None:
            raise DerasError(
                "this schedule context has no instance: build it with "
                "build_schedule_context(instance=dg.DerasInstance.ephemeral(), ...)"
            )
        return self._instance

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"deras.schedule.{self.schedule_name or 'schedule'}")

    def __repr__(self) -> str:
        return f"ScheduleEvaluationContext({self._time.isoformat()!r}, schedule={self.schedule_name!r})"


def build_schedule_context(
    instance: Any = None, scheduled_execution_time: datetime | None = None
) -> ScheduleEvaluationContext:
    """A context to call a schedule with in tests; the time defaults to now (UTC).

    >>> build_schedule_context(scheduled_execution_time=datetime(2025, 1, 1, tzinfo=UTC))
    ScheduleEvaluationContext('2025-01-01T00:00:00+00:00', schedule=None)
    """
    when = scheduled_execution_time if scheduled_execution_time is not None else datetime.now(UTC)
    return ScheduleEvaluationContext(when, instance)


class ScheduleDefinition:
    """Run a job on a cron schedule in ``execution_timezone``.

    Without ``execution_fn`` each tick requests one run with ``run_config`` and ``tags``; with
    one (what ``@schedule`` builds) the function decides. ``job`` is an asset job or a DAG;
    ``job_name`` names one instead. The name defaults to ``"<job>_schedule"``. An invalid cron
    string or timezone raises ``DefinitionError`` here, naming it.

    >>> from deras._defs.job import define_asset_job
    >>> nightly = ScheduleDefinition(job=define_asset_job("etl"), cron_schedule="0 2 * * *",
    ...                              execution_timezone="Asia/Jakarta")
    >>> nightly.name, [t.isoformat() for t in nightly.next_tick_times(datetime(2025, 1, 1, tzinfo=UTC), 2)]
    ('etl_schedule', ['2025-01-02T02:00:00+07:00', '2025-01-03T02:00:00+07:00'])
    """

    kind = "schedule"

    def __init__(
        self,
        name: str | None = None,
        *,
        cron_schedule: str | None = None,
        job: Any = None,
        job_name: str | None = None,
        execution_timezone: str | None = "UTC",
        default_status: DefaultScheduleStatus | str = DefaultScheduleStatus.STOPPED,
        run_config: Mapping[str, Any] | RunConfig | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        execution_fn: Callable[..., Any] | None = None,
    ) -> None:
        what = f"ScheduleDefinition '{name}'" if name else "ScheduleDefinition"
        self.job, self.job_name = job_target(job, job_name, what)
        if name is None:
            if self.job_name is None:
                raise DefinitionError(f"{what} needs a name= or a job= to take its name from")
            name = f"{self.job_name}_schedule"
        self.name: str = check_name(name, "schedule")
        what = f"schedule '{self.name}'"
        if self.job_name is None:
            raise DefinitionError(f"{what} runs nothing: give job= (an asset job or a DAG) or job_name=")
        if not isinstance(cron_schedule, str):
            raise DefinitionError(
                f"{what}: cron_schedule={cron_schedule!r} must be a cron string such as '0 2 * * *'"
            )
        self._schedule: DagSchedule = parse_schedule(
            cron_schedule, where=what, timezone=execution_timezone or "UTC"
        )
        if self._schedule.kind != "cron":
            raise DefinitionError(
                f"{what}: cron_schedule={cron_schedule!r} is not a cron schedule: use a cron string "
                "such as '0 2 * * *' or a preset such as '@daily'"
            )
        self.cron_schedule: str = cron_schedule.strip()
        self.execution_timezone: str = self._schedule.timezone
        self.default_status = coerce_status(default_status, DefaultScheduleStatus, what)
        if execution_fn is not None and run_config is not None:
            raise DefinitionError(f"{what}: give run_config= or execution_fn=, not both")
        if isinstance(run_config, RunConfig):
            run_config = run_config.to_dict()
        if run_config is not None and not isinstance(run_config, Mapping):
            raise DefinitionError(f"{what}: run_config={run_config!r} must be a dict")
        self.run_config: dict[str, Any] = dict(run_config or {})
        try:
            self.tags: dict[str, str] = string_tags(tags, what)
        except TypeError as err:
            raise DefinitionError(str(err)) from None
        self.description = description
        self.execution_fn = execution_fn
        self._nargs = 0 if execution_fn is None else accepted_args(execution_fn, what, ("context",))

    # -- time ----------------------------------------------------------------------------------

    def next_tick_times(self, after: datetime, n: int = 1) -> list[datetime]:
        """The next ``n`` ticks strictly after the aware instant ``after``, in the schedule's zone."""
        return self._schedule.preview(n, after)

    def tick_times_between(
        self, start_exclusive: datetime, end_inclusive: datetime, limit: int | None = None
    ) -> list[datetime]:
        """The ticks in ``(start_exclusive, end_inclusive]``, ascending, by the DST policy.

        With ``limit``, only the latest ``limit`` of them (what a daemon that was down owes).
        """
        return self._schedule.ticks_between(start_exclusive, end_inclusive, limit)

    # -- evaluation -----------------------------------------------------------------------------

    def __call__(self, context: ScheduleEvaluationContext | None = None) -> Any:
        """What the schedule's function returns for ``context`` (a generator's items as a list).

        A schedule without a function returns the one ``RunRequest`` each of its ticks asks for.
        """
        if self.execution_fn is None:
            return RunRequest(run_config=self.run_config, tags=self.tags)
        return call(self.execution_fn, self._nargs, (self._context(context),))

    def evaluate_tick(self, context: ScheduleEvaluationContext) -> ScheduleEvaluation:
        """What the tick at ``context.scheduled_execution_time`` requests, normalised.

        Each run request runs the schedule's job (naming another is an error) and carries the
        schedule's tags under its own. A function that raises or returns anything but a tick
        result raises ``TickEvaluationError`` naming the schedule.
        """
        what = f"schedule '{self.name}'"
        if self.execution_fn is None:
            value: Any = self()
        else:
            value = evaluate(self.execution_fn, self._nargs, (self._context(context),), what)
        outcome = schedule_outcome(value, what)
        return ScheduleEvaluation([self._finish(r) for r in outcome.run_requests], outcome.skip_reason)

    def _context(self, context: ScheduleEvaluationContext | None) -> ScheduleEvaluationContext:
        if context is None:
            context = build_schedule_context()
        elif not isinstance(context, ScheduleEvaluationContext):
            raise TickEvaluationError(
                f"schedule '{self.name}' was called with {type(context).__name__}: pass "
                "build_schedule_context(scheduled_execution_time=...)"
            )
        local = context.scheduled_execution_time.astimezone(self._schedule.tz)
        return ScheduleEvaluationContext(local, context._instance, schedule_name=self.name)

    def _finish(self, request: RunRequest) -> RunRequest:
        if request.job_name is not None and request.job_name != self.job_name:
            raise TickEvaluationError(
                f"schedule '{self.name}' returned a RunRequest for job '{request.job_name}', but it "
                f"runs '{self.job_name}': leave job_name unset, or schedule that job separately"
            )
        return replace(request, job_name=self.job_name, tags={**self.tags, **request.tags})

    def __repr__(self) -> str:
        zone = "" if self.execution_timezone == "UTC" else f" {self.execution_timezone}"
        return f"<ScheduleDefinition {self.name}: {self.cron_schedule!r}{zone} -> {self.job_name}>"


def schedule(
    cron_schedule: str,
    *,
    job: Any = None,
    job_name: str | None = None,
    name: str | None = None,
    execution_timezone: str | None = "UTC",
    default_status: DefaultScheduleStatus | str = DefaultScheduleStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], ScheduleDefinition]:
    """Turn a function of ``context`` into a schedule; it decides what each tick requests.

    The function returns a ``RunRequest``, a list of them (or yields them), a ``SkipReason``,
    a run config dict, or None (nothing to run).

    >>> from deras._defs.job import define_asset_job
    >>> @schedule("0 6 * * 1-5", job=define_asset_job("report"))
    ... def weekdays(context):
    ...     return RunRequest(run_key=context.scheduled_execution_time.strftime("%Y-%m-%d"))
    >>> weekdays(build_schedule_context(scheduled_execution_time=datetime(2025, 1, 6, 6, tzinfo=UTC))).run_key
    '2025-01-06'
    """

    def decorate(fn: Callable[..., Any]) -> ScheduleDefinition:
        return ScheduleDefinition(
            name or getattr(fn, "__name__", None),
            cron_schedule=cron_schedule,
            job=job,
            job_name=job_name,
            execution_timezone=execution_timezone,
            default_status=default_status,
            tags=tags,
            description=description if description is not None else first_doc_line(fn),
            execution_fn=fn,
        )

    if callable(cron_schedule):
        raise DefinitionError(
            "@schedule needs a cron schedule: write @schedule('0 2 * * *', job=...) above the function"
        )
    return decorate


def check_name(name: object, what: str) -> str:
    """A schedule's or sensor's name: letters, digits, ``_``, ``-`` and ``.``."""
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-." for c in name):
        raise DefinitionError(f"{what} name {name!r}: use letters, digits, '_', '-' and '.' only")
    return name


def coerce_status(value: object, enum: type[E], what: str) -> E:
    """``value`` as a member of ``enum``; its names and values are accepted in any case."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        for member in enum:
            if value.lower() in (member.value, member.name.lower()):
                return member
    choices = ", ".join(f"{enum.__name__}.{m.name}" for m in enum)
    raise DefinitionError(f"{what}: default_status={value!r} is not one of {choices}")


def first_doc_line(fn: Callable[..., Any]) -> str | None:
    doc = getattr(fn, "__doc__", None)
    return doc.strip().split("\n\n")[0].strip() or None if doc else None
