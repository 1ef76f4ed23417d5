"""``build_schedule_from_partitioned_job``: a schedule that runs each time partition once it is complete."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .._core.errors import DefinitionError
from .asset import AssetsDefinition
from .dag_schedule import PRESETS, DagSchedule, parse_schedule
from .job import AssetJob
from .run_request import RunRequest, SkipReason
from .schedule import DefaultScheduleStatus, ScheduleDefinition, ScheduleEvaluationContext
from .time_partitions import TimeWindowPartitionsDefinition

_LONG_AGO = datetime(1, 1, 2, tzinfo=UTC)


def build_schedule_from_partitioned_job(
    job: Any,
    name: str | None = None,
    minute_of_hour: int | None = None,
    hour_of_day: int | None = None,
    day_of_week: int | None = None,
    day_of_month: int | None = None,
    default_status: DefaultScheduleStatus | str = DefaultScheduleStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
) -> ScheduleDefinition:
    """A schedule that runs ``job`` for each partition of its time-window partitions, once complete.

    The schedule ticks on the partitions' own cron, in their timezone (a daily job at midnight
    for the day that just ended); ``minute_of_hour``, ``hour_of_day``, ``day_of_week`` (0 is
    Sunday, weekly partitions) and ``day_of_month`` (monthly partitions) move the tick later.
    Each tick requests the partitions that became complete since the previous tick: normally
    one, two at the tick after a DST fall-back hour of hourly partitions (that tick fires once).
    Called at a time that is not a tick, it requests the last complete partition.

    >>> from deras._defs.job import define_asset_job
    >>> from deras._defs.periodic_partitions import DailyPartitionsDefinition
    >>> from deras._defs.schedule import build_schedule_context
    >>> job = define_asset_job("prices", partitions_def=DailyPartitionsDefinition("2025-01-01"))
    >>> daily = build_schedule_from_partitioned_job(job, hour_of_day=3)
    >>> daily.cron_schedule
    '0 3 * * *'
    >>> ctx = build_schedule_context(scheduled_execution_time=datetime(2025, 3, 2, 3, tzinfo=UTC))
    >>> [r.partition_key for r in daily.evaluate_tick(ctx).run_requests]
    ['2025-03-01']
    """
    partitions_def = _time_partitions_of(job)
    where = f"build_schedule_from_partitioned_job(job '{job.name}')"
    cron = _cron_with_offsets(
        partitions_def.cron_schedule, where, minute_of_hour, hour_of_day, day_of_week, day_of_month
    )
    ticks = parse_schedule(cron, where=where, timezone=partitions_def.timezone)

    def partitions_to_run(context: ScheduleEvaluationContext) -> list[RunRequest] | SkipReason:
        return _requests_at(partitions_def, ticks, context.scheduled_execution_time)

    return ScheduleDefinition(
        name or f"{job.name}_schedule",
        cron_schedule=cron,
        job=job,
        execution_timezone=partitions_def.timezone,
        default_status=default_status,
        tags=tags,
        description=description or f"Runs each partition of job '{job.name}' once it is complete",
        execution_fn=partitions_to_run,
    )


def _requests_at(
    partitions_def: TimeWindowPartitionsDefinition, ticks: DagSchedule, t: datetime
) -> list[RunRequest] | SkipReason:
    now = _complete(partitions_def, t)
    if now is None:
        return SkipReason(f"no partition of {partitions_def!r} is complete at {t.isoformat()}")
    first, stop = now
    latest = ticks.ticks_between(_LONG_AGO, t, limit=2)
    if latest and latest[-1].timestamp() == t.timestamp():
        before = _complete(partitions_def, latest[0]) if len(latest) == 2 else None
        start = max(first, before[1]) if before else first
        if start >= stop:
            return SkipReason(
                f"no partition became complete since the previous tick ({latest[0].isoformat()})"
            )
    else:
        start = stop - 1  # not a tick (a test, a manual evaluation): the latest complete partition
    return [RunRequest(partition_key=partitions_def.index_to_key(i)) for i in range(start, stop)]


def _complete(partitions_def: TimeWindowPartitionsDefinition, t: datetime) -> tuple[int, int] | None:
    """The index range of the partitions complete at ``t`` (shifted by ``end_offset``), if any.

    A definition with an ``end`` lists its future windows too; a schedule never runs those.
    """
    ranges = partitions_def.all_index_ranges(current_time=t)
    if not ranges:
        return None
    first, stop = ranges[0][0], ranges[-1][1]
    stop = min(stop, partitions_def.index_for_time(t) + partitions_def.end_offset)
    return (first, stop) if stop > first else None


def _time_partitions_of(job: Any) -> TimeWindowPartitionsDefinition:
    if not isinstance(job, AssetJob):
        what = f"DAG '{job.dag_id}'" if hasattr(job, "dag_id") else repr(job)
        raise DefinitionError(
            f"build_schedule_from_partitioned_job: {what} is not a partitioned asset job; "
            "use define_asset_job(..., partitions_def=...) (a DAG has its own schedule=)"
        )
    where = f"build_schedule_from_partitioned_job(job '{job.name}')"
    partitions_def = job.partitions_def
    if partitions_def is None:
        partitions_def = _partitions_of_selection(job, where)
    if not isinstance(partitions_def, TimeWindowPartitionsDefinition):
        raise DefinitionError(
            f"{where}: its partitions are {partitions_def!r}, which have no time to schedule by; "
            "only time-window partitions (daily, hourly, weekly, monthly, cron) can be scheduled. "
            "Fix: use a @schedule or a sensor that returns RunRequest(partition_key=...)"
        )
    return partitions_def


def _partitions_of_selection(job: AssetJob, where: str) -> Any:
    selection = job.selection
    if not isinstance(selection, list | tuple) or not all(isinstance(a, AssetsDefinition) for a in selection):
        raise DefinitionError(
            f"{where}: the job has no partitions_def= and its selection {selection!r} is only "
            "resolved when Definitions are built. Fix: define_asset_job(..., partitions_def=...)"
        )
    found = {a.partitions_def for a in selection if a.partitions_def is not None}
    if len(found) != 1:
        problem = "none of its assets is partitioned" if not found else "its assets have several"
        raise DefinitionError(f"{where}: {problem}; give define_asset_job(..., partitions_def=...)")
    return found.pop()


def _cron_with_offsets(
    cron: str,
    where: str,
    minute_of_hour: int | None,
    hour_of_day: int | None,
    day_of_week: int | None,
    day_of_month: int | None,
) -> str:
    """The partitions' cron with the schedule's offsets in place of theirs."""
    fields = PRESETS.get(cron.strip().lower(), cron).split()
    if len(fields) != 5:
        fields = ["?"] * 5  # no known shape: no offset applies
    minute, hour, dom, month, dow = fields
    numbers = [f for f in (minute, hour, dom, dow) if f != "*"]
    shape = None
    if month == "*" and all(f.isdigit() for f in numbers) and minute != "*":
        shape = {
            ("*", "*", "*"): "hourly",
            ("n", "*", "*"): "daily",
            ("n", "*", "n"): "weekly",
            ("n", "n", "*"): "monthly",
        }.get(tuple("*" if f == "*" else "n" for f in (hour, dom, dow)))  # type: ignore[arg-type]
    allowed = {
        "hourly": {"minute_of_hour"},
        "daily": {"minute_of_hour", "hour_of_day"},
        "weekly": {"minute_of_hour", "hour_of_day", "day_of_week"},
        "monthly": {"minute_of_hour", "hour_of_day", "day_of_month"},
    }.get(shape or "", set())
    given = {
        "minute_of_hour": (minute_of_hour, 0, 59),
        "hour_of_day": (hour_of_day, 0, 23),
        "day_of_week": (day_of_week, 0, 6),
        "day_of_month": (day_of_month, 1, 31),
    }
    for arg, (value, lo, hi) in given.items():
        if value is None:
            continue
        if arg not in allowed:
            kind = f"{shape} partitions" if shape else f"partitions on the cron {cron!r}"
            raise DefinitionError(f"{where}: {arg}= does not apply to {kind}")
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise DefinitionError(f"{where}: {arg}={value!r} must be an integer from {lo} to {hi}")
    if shape is None:
        return cron
    if minute_of_hour is not None:
        minute = str(minute_of_hour)
    if hour_of_day is not None:
        hour = str(hour_of_day)
    if day_of_week is not None:
        dow = str(day_of_week)
    if day_of_month is not None:
        dom = str(day_of_month)
    return f"{minute} {hour} {dom} {month} {dow}"
