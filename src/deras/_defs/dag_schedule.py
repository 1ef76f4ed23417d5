"""Schedules of DAGs: what ``schedule=`` accepts, logical dates, data intervals and due runs.

A DAG run for logical date ``D`` covers the data interval ``[D, next tick after D)`` and becomes
due once that interval has ended, as in Airflow: the ``@daily`` run for 2025-01-01 starts
just after midnight on 2025-01-02.

Cron schedules are evaluated on the wall clock of the schedule's timezone, with one DST policy
(API §5) for every cron expression:

- a wall time that does not exist (the spring-forward gap) fires once, at the first valid
  instant after it: the end of the gap (02:30 in Europe/Berlin on 2025-03-30 fires at 03:00+02:00);
- a wall time that happens twice (the fall-back hour) fires once, at its first occurrence
  (02:30 in Europe/Berlin on 2025-10-26 fires at 02:30+02:00 only).

croniter (7.x) follows neither rule everywhere: it fires a repeated wall time twice, and for
crons that run more often than daily it drops a tick in the gap instead of moving it. So
croniter only parses the expression here; the wall-clock ticks come from our own enumerator
(or from croniter on naive datetimes for its extensions ``L`` and ``#``), and ``_resolve``
turns each wall time into an instant by the policy above.

timedelta schedules are absolute durations: ticks at ``anchor + k * delta`` (the anchor is the
DAG's start_date), whatever the wall clock does.

Dates come back aware, in the schedule's timezone. Compare them as instants (``.astimezone(UTC)``
or ``.timestamp()``): by PEP 495, ``==`` between zones is False for a time in a repeated hour.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as FixedOffset
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deras._core.errors import DefinitionError
from deras._core.keys import AssetKey

from .wall_clock import WallClock, aware, resolve, tz_for, utc, wall_clock

ScheduleKind = Literal["cron", "timedelta", "once", "none", "assets"]

PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_CRON_HELP = (
    "expected 5 fields 'minute hour day-of-month month day-of-week', "
    "e.g. '30 2 * * *' (02:30 every day), or a preset such as '@daily'"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class DueRun:
    """A DAG run that should exist and does not yet.

    >>> day = datetime(2025, 1, 1, tzinfo=UTC)
    >>> DueRun(day, day, day + timedelta(days=1)).run_type
    'scheduled'
    """

    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    run_type: str = "scheduled"


@dataclass(frozen=True, repr=False)
class DagSchedule:
    """When a DAG runs: a parsed ``schedule=`` (build it with ``parse_schedule``).

    ``anchor`` is the start of a timedelta schedule's ticks (``anchor + k * delta``; the Unix
    epoch when unset) and the one logical date of ``@once``.

    >>> s = parse_schedule("30 2 * * *", timezone="Europe/Berlin")
    >>> s.next_logical_date(datetime(2025, 3, 29, 12, tzinfo=UTC)).isoformat()
    '2025-03-30T03:00:00+02:00'
    """

    kind: ScheduleKind
    cron: str | None = None
    delta: timedelta | None = None
    timezone: str = "UTC"
    asset_keys: tuple[AssetKey, ...] = ()
    anchor: datetime | None = None
    preset: str | None = field(default=None, compare=False)  # '@daily' equals '0 0 * * *'

    def __post_init__(self) -> None:
        if self.kind == "cron" and not self.cron:
            raise ValueError("a cron DagSchedule needs cron='...'; build it with parse_schedule()")
        if self.kind == "timedelta" and (self.delta is None or self.delta <= timedelta()):
            raise ValueError("a timedelta DagSchedule needs a positive delta")
        if self.anchor is not None and self.anchor.tzinfo is None:
            raise ValueError("DagSchedule.anchor must be timezone-aware")

    def __repr__(self) -> str:
        parts = [f"kind={self.kind!r}"]
        if self.preset:
            parts.append(f"preset={self.preset!r}")
        if self.cron:
            parts.append(f"cron={self.cron!r}")
        if self.delta is not None:
            parts.append(f"delta={str(self.delta)!r}")
        if self.asset_keys:
            parts.append(f"asset_keys={[k.to_user_string() for k in self.asset_keys]!r}")
        if self.anchor is not None:
            parts.append(f"anchor={self.anchor.isoformat()!r}")
        if self.kind in ("cron", "timedelta"):
            parts.append(f"timezone={self.timezone!r}")
        return f"DagSchedule({', '.join(parts)})"

    @property
    def summary(self) -> str:
        """One line for the CLI and the UI: ``'@daily'``, ``'30 2 * * *'``, ``'every 6:00:00'``."""
        if self.kind == "cron":
            return self.preset or str(self.cron)
        if self.kind == "timedelta":
            return f"every {self.delta}"
        if self.kind == "assets":
            return "on " + ", ".join(k.to_user_string() for k in self.asset_keys)
        return "@once" if self.kind == "once" else "None"

    @property
    def is_periodic(self) -> bool:
        """Whether the clock creates runs with data intervals (cron and timedelta schedules)."""
        return self.kind in ("cron", "timedelta")

    @cached_property
    def tz(self) -> tzinfo:
        """The zone the cron is read in (``datetime.UTC`` for UTC)."""
        return tz_for(self.timezone)

    @cached_property
    def _walls(self) -> WallClock:
        assert self.cron is not None  # checked in __post_init__
        return wall_clock(self.cron)

    # -- the public questions ----------------------------------------------------------------

    def next_logical_date(self, after: datetime) -> datetime | None:
        """The first logical date strictly after the aware instant ``after`` (None if none)."""
        after_utc = utc(after, "after")
        if self.kind == "once":
            anchor = self.anchor
            return anchor.astimezone(self.tz) if anchor and utc(anchor) > after_utc else None
        if not self.is_periodic:
            return None
        return next(self._ticks_after(after_utc))[1]

    def data_interval(self, logical_date: datetime) -> tuple[datetime, datetime]:
        """``[logical_date, next tick)`` for cron and timedelta schedules, else ``[D, D]``."""
        start = utc(logical_date, "logical_date").astimezone(self.tz)
        if not self.is_periodic:
            return start, start
        return start, next(self._ticks_after(utc(start)))[1]

    def infer_logical_date(self, now: datetime) -> datetime:
        """The logical date of a run triggered by hand at ``now``.

        Cron and timedelta schedules: the start of the latest complete interval (what Airflow's
        ``infer_manual_data_interval`` gives); other schedules: ``now`` itself.
        """
        now_utc = utc(now, "now")
        if not self.is_periodic:
            return now_utc.astimezone(self.tz)
        end = self._tick_at_or_before(now_utc)
        return self._tick_at_or_before(end - _TINY).astimezone(self.tz)

    def preview(self, n: int, after: datetime) -> list[datetime]:
        """The next ``n`` logical dates strictly after ``after`` (for ``deras schedule preview``)."""
        if n <= 0:
            return []
        after_utc = utc(after, "after")
        if not self.is_periodic:
            first = self.next_logical_date(after_utc)
            return [first] if first is not None else []
        ticks = self._ticks_after(after_utc)
        return [next(ticks)[1] for _ in range(n)]

    def ticks_between(
        self, start_exclusive: datetime, end_inclusive: datetime, limit: int | None = None
    ) -> list[datetime]:
        """The ticks in ``(start_exclusive, end_inclusive]``, ascending, by the DST policy.

        With ``limit`` only the latest ``limit`` of them (a daemon that was down catches up on
        the most recent ticks), found walking back from the end. Cron and timedelta schedules
        only; others have no ticks.

        >>> s = parse_schedule("30 2 * * *", timezone="Europe/Berlin")
        >>> [t.isoformat() for t in s.ticks_between(datetime(2025, 10, 25, tzinfo=UTC),
        ...                                          datetime(2025, 10, 27, tzinfo=UTC))]
        ['2025-10-25T02:30:00+02:00', '2025-10-26T02:30:00+02:00']
        """
        start_utc, end_utc = utc(start_exclusive, "start_exclusive"), utc(end_inclusive, "end_inclusive")
        if not self.is_periodic or end_utc <= start_utc or (limit is not None and limit <= 0):
            return []
        tz = self.tz
        if limit is None:
            found = []
            for t, local in self._ticks_after(start_utc):
                if t > end_utc:
                    break
                found.append(local)
            return found
        latest: list[datetime] = []
        t = self._tick_at_or_before(end_utc)
        while t > start_utc and len(latest) < limit:
            latest.append(t.astimezone(tz))
            t = self._tick_at_or_before(t - _TINY)
        return latest[::-1]

    # -- ticks ---------------------------------------------------------------------------------

    def _ticks_after(self, after_utc: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The ticks strictly after ``after_utc``, ascending, as (UTC, local) pairs; endless."""
        tz = self.tz
        if self.kind == "timedelta":
            assert self.delta is not None
            anchor = utc(self.anchor) if self.anchor is not None else _EPOCH
            k = (after_utc - anchor) // self.delta + 1
            while True:
                t = anchor + k * self.delta
                yield t, t.astimezone(tz)
                k += 1
        last = after_utc
        wall = after_utc.astimezone(tz).replace(tzinfo=None)
        # Wall times at or before `after`'s wall time resolve to instants at or before it
        # (resolution is monotonic), so enumeration can start just after it.
        for w in self._walls.after(wall):
            local = resolve(w, tz)
            t = local.astimezone(UTC)
            if t > last:  # equal instants come from gap times collapsed onto the gap's end
                last = t
                yield t, local

    def _tick_at_or_before(self, t_utc: datetime) -> datetime:
        """The last tick at or before ``t_utc``, in UTC."""
        if self.kind == "timedelta":
            assert self.delta is not None
            anchor = utc(self.anchor) if self.anchor is not None else _EPOCH
            return anchor + ((t_utc - anchor) // self.delta) * self.delta
        tz = self.tz
        local = t_utc.astimezone(tz)
        slack = timedelta()
        if local.fold:
            # `t` is the second occurrence of a repeated wall time: the first occurrences of
            # the wall times up to the end of the repeated hour are earlier instants.
            slack = (local.replace(fold=0).utcoffset() or slack) - (local.utcoffset() or slack)
        start = local.replace(tzinfo=None) + slack + _TINY
        for w in self._walls.before(start):
            t = resolve(w, tz).astimezone(UTC)
            if t <= t_utc:
                return t
        raise AssertionError("unreachable: a valid cron has ticks in the past")  # pragma: no cover


def parse_schedule(
    schedule: object,
    *,
    where: str = "",
    timezone: str | tzinfo = "UTC",
    start_date: datetime | None = None,
) -> DagSchedule:
    """Parse a DAG's ``schedule=``; raise ``DefinitionError`` (naming ``where``) if it is invalid.

    Accepts a 5-field cron string, a preset (``@hourly @daily @weekly @monthly @yearly
    @annually @once``, also ``@midnight @quarterly``), ``None``, a positive ``timedelta``, or a
    list of asset keys (``AssetKey`` or ``"prefix/name"`` strings) for an asset-triggered DAG.
    ``timezone`` is the DAG's: its start_date's zone if aware, else UTC. ``start_date`` anchors
    timedelta ticks and is the logical date of ``@once``; naive means wall time in ``timezone``.

    An invalid cron string fails here, at definition time: ``parse_schedule("0 25 * * *",
    where="DAG 'etl'")`` raises "DAG 'etl': schedule '0 25 * * *' is not a valid cron
    expression ([0 25 * * *] is not acceptable, out of range): expected 5 fields ...".

    >>> parse_schedule("@daily")
    DagSchedule(kind='cron', preset='@daily', cron='0 0 * * *', timezone='UTC')
    """
    prefix = f"{where}: " if where else ""
    zone = _zone_name(timezone, prefix)
    anchor = None if start_date is None else aware(start_date, tz_for(zone))
    if schedule is None:
        return DagSchedule("none", timezone=zone)
    if isinstance(schedule, timedelta):
        if schedule <= timedelta():
            raise DefinitionError(
                f"{prefix}schedule {schedule!r} must be a positive duration, e.g. timedelta(hours=6)"
            )
        return DagSchedule("timedelta", delta=schedule, timezone=zone, anchor=anchor)
    if isinstance(schedule, str):
        text = schedule.strip()
        if text.lower() == "@once":
            return DagSchedule("once", timezone=zone, anchor=anchor)
        if text.startswith("@"):
            return _parse_preset(text, zone, prefix)
        _check_cron(text, schedule, prefix)
        return DagSchedule("cron", cron=" ".join(text.split()), timezone=zone)
    if isinstance(schedule, (list, tuple)):
        return DagSchedule("assets", asset_keys=_asset_keys(schedule, prefix), timezone=zone)
    raise DefinitionError(
        f"{prefix}schedule {schedule!r} ({type(schedule).__name__}) is not a schedule: use a cron "
        "string like '0 3 * * *', a preset like '@daily', None, a timedelta, or a list of asset keys"
    )


def due_runs(
    schedule: DagSchedule,
    *,
    start_date: datetime,
    end_date: datetime | None,
    catchup: bool,
    existing_logical_dates: Collection[datetime],
    now: datetime,
    max_runs: int | None = None,
) -> list[DueRun]:
    """The scheduled runs that should exist by ``now`` and do not yet, oldest first.

    A run is due once its data interval has ended (its end is at or before ``now``). With
    ``catchup`` every missed interval since ``start_date`` is due (logical dates up to
    ``end_date`` inclusive, the oldest ``max_runs`` of them); without, only the latest complete
    interval. ``@once`` is due at ``start_date`` once; ``None`` and asset schedules never are.
    Naive ``start_date``/``end_date`` are wall times in the schedule's timezone; ``now`` and
    the existing logical dates must be aware (stores keep instants, not wall times).

    >>> daily = parse_schedule("@daily")
    >>> runs = due_runs(daily, start_date=datetime(2025, 1, 1, tzinfo=UTC), end_date=None,
    ...                 catchup=True, existing_logical_dates=[], now=datetime(2025, 1, 3, 1, tzinfo=UTC))
    >>> [r.logical_date.day for r in runs]
    [1, 2]
    """
    tz = schedule.tz
    now_utc = utc(now, "now")
    start_utc = utc(aware(start_date, tz))
    end_utc = None if end_date is None else utc(aware(end_date, tz))
    if (end_utc is not None and end_utc < start_utc) or (max_runs is not None and max_runs <= 0):
        return []
    existing = {utc(d, "an existing logical date") for d in existing_logical_dates}
    if schedule.kind == "once":
        if start_utc <= now_utc and start_utc not in existing:
            local = start_utc.astimezone(tz)
            return [DueRun(local, local, local)]
        return []
    if not schedule.is_periodic:
        return []
    if schedule.kind == "timedelta" and schedule.anchor is None:
        # The DAG's own start_date anchors the ticks when the schedule was parsed without it.
        schedule = DagSchedule(
            "timedelta", delta=schedule.delta, timezone=schedule.timezone, anchor=start_utc
        )
    if not catchup:
        return _latest_due(schedule, start_utc, end_utc, existing, now_utc)
    runs: list[DueRun] = []
    ticks = schedule._ticks_after(start_utc - _TINY)
    begin_utc, begin = next(ticks)
    for end_tick_utc, end_tick in ticks:
        if end_tick_utc > now_utc or (end_utc is not None and begin_utc > end_utc):
            break
        if begin_utc not in existing:
            runs.append(DueRun(begin, begin, end_tick))
            if max_runs is not None and len(runs) >= max_runs:
                break
        begin_utc, begin = end_tick_utc, end_tick
    return runs


def _latest_due(
    schedule: DagSchedule,
    start_utc: datetime,
    end_utc: datetime | None,
    existing: set[datetime],
    now_utc: datetime,
) -> list[DueRun]:
    """The latest complete interval as a due run, if it starts in [start, end] and is missing."""
    interval_end = schedule._tick_at_or_before(now_utc)
    begin = schedule._tick_at_or_before(interval_end - _TINY)
    if begin < start_utc or (end_utc is not None and begin > end_utc) or begin in existing:
        return []
    tz = schedule.tz
    local = begin.astimezone(tz)
    return [DueRun(local, local, interval_end.astimezone(tz))]


# -- parsing helpers ------------------------------------------------------------------------------


def _parse_preset(text: str, zone: str, prefix: str) -> DagSchedule:
    preset = text.lower()
    if preset in PRESETS:
        return DagSchedule("cron", cron=PRESETS[preset], timezone=zone, preset=preset)
    if preset == "@continuous":
        raise DefinitionError(
            f"{prefix}schedule '@continuous' is not supported: use a frequent cron such as '* * * * *', "
            "or an asset-triggered schedule"
        )
    import difflib

    known = [*PRESETS, "@once"]
    close = difflib.get_close_matches(preset, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise DefinitionError(
        f"{prefix}schedule {text!r} is not a known preset.{hint} Known presets: {', '.join(known)}; "
        "or use a cron string like '0 3 * * *'"
    )


def _check_cron(text: str, original: str, prefix: str) -> None:
    fields = text.split()
    if len(fields) != 5:
        problem = f"it has {len(fields)} field{'' if len(fields) == 1 else 's'}"
    else:
        problem = ""
        from croniter import croniter

        try:
            croniter.expand(text)
        except (ValueError, KeyError, IndexError, TypeError) as e:  # croniter's errors are ValueErrors
            problem = str(e) or type(e).__name__
    if not problem:
        try:
            next(wall_clock(text).after(datetime(2000, 1, 1)))
        except DefinitionError:
            problem = "it never fires: no month has that day"
    if problem:
        raise DefinitionError(
            f"{prefix}schedule {original!r} is not a valid cron expression ({problem}): {_CRON_HELP}"
        )


def _asset_keys(items: Sequence[object], prefix: str) -> tuple[AssetKey, ...]:
    if not items:
        raise DefinitionError(
            f"{prefix}schedule=[] names no assets, so the DAG would never run: "
            "list them, e.g. schedule=[dg.AssetKey('raw_data')], or use schedule=None"
        )
    keys: dict[AssetKey, None] = {}
    for item in items:
        if isinstance(item, AssetKey):
            key = item
        elif isinstance(getattr(item, "key", None), AssetKey):  # an asset, or Airflow's Dataset/Asset
            key = item.key  # type: ignore[attr-defined]
        elif isinstance(item, str) or callable(getattr(item, "to_user_string", None)):
            text = item if isinstance(item, str) else item.to_user_string()  # type: ignore[attr-defined]
            try:
                key = AssetKey.from_user_string(text)
            except ValueError as e:
                raise DefinitionError(f"{prefix}schedule lists an invalid asset key {item!r}: {e}") from e
        else:
            raise DefinitionError(
                f"{prefix}schedule lists {item!r}, which is not an asset key: "
                "use dg.AssetKey('raw_data') or the string 'raw_data'"
            )
        keys[key] = None  # a dict keeps the order and drops repeats
    return tuple(keys)


def _zone_name(tz: str | tzinfo, prefix: str) -> str:
    """The IANA name of ``tz``: a name, a ZoneInfo, UTC, pendulum's zones, whole-hour offsets."""
    if tz is UTC:
        return "UTC"
    if isinstance(tz, ZoneInfo):
        return tz.key
    name = tz if isinstance(tz, str) else getattr(tz, "key", None) or getattr(tz, "name", None)
    if isinstance(tz, FixedOffset) and name is None:
        offset = tz.utcoffset(None)
        hours, rest = divmod(offset, timedelta(hours=1))
        if not rest:
            # POSIX-style names invert the sign: Etc/GMT-2 is two hours ahead of UTC.
            name = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
    if isinstance(name, str):
        try:
            return ZoneInfo(name).key
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise DefinitionError(
        f"{prefix}timezone {tz!r} is not an IANA timezone: use a name like 'Europe/Berlin' "
        "or a start_date with tzinfo=ZoneInfo('Europe/Berlin')"
    )
