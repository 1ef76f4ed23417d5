"""Cadences: the arithmetic that numbers time windows, one per kind of cron schedule.

A cadence numbers the windows of a schedule in one timezone: window ``i`` is
``[start_of(i), start_of(i + 1))``. The numbers are the partition index space, so they are
absolute (never relative to a definition's start date) wherever arithmetic allows:

- hourly: hours since 1970-01-01T00:00Z of the window start (windows are real hours, so a DST
  day has 23 or 25 of them);
- daily: the ``date.toordinal()`` of the window's local date (windows are calendar days, 23 h
  or 25 h long on DST days);
- weekly: ``toordinal()`` of the week's first day, divided by 7;
- monthly: ``year * 12 + month - 1``;
- any other cron: the number of ticks since the definition's start (iterated with croniter and
  cached, so the id of that index space includes the start).
"""

from __future__ import annotations

import math
import re
import threading
from abc import ABC, abstractmethod
from array import array
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from deras._core.errors import DefinitionError

_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def at_wall_time(naive: datetime, tz: tzinfo) -> datetime:
    """The instant a local wall-clock time names, as an aware datetime in ``tz``.

    A wall time that occurs twice (DST fall-back) means its first occurrence unless
    ``naive.fold`` is 1; one that does not occur (spring-forward gap) moves forward by the
    length of the gap, as zoneinfo resolves it.
    """
    local = naive.replace(tzinfo=tz)
    if tz is UTC:
        return local
    return local.astimezone(UTC).astimezone(tz)  # normalises gaps and sets fold


def is_repeated_wall_time(local: datetime) -> bool:
    """Whether the wall-clock time of aware ``local`` occurs twice (the DST fall-back hour)."""
    if local.tzinfo is UTC:
        return False
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


class Cadence(ABC):
    """Numbered time windows in one timezone: window ``i`` is ``[start_of(i), start_of(i + 1))``."""

    tz: tzinfo
    #: Names the numbering inside ``index_space_id``.
    name: str
    #: What a key denotes, for error messages ("a date").
    noun: str
    #: Whole local days, weeks or months: a key never needs a UTC offset to be unambiguous.
    calendar: bool = False

    @abstractmethod
    def index_of(self, t: datetime) -> int:
        """The window containing the aware instant ``t``."""

    @abstractmethod
    def start_of(self, i: int) -> datetime:
        """The aware start of window ``i``, in the cadence's timezone."""

    def index_at_or_after(self, t: datetime) -> int:
        """The first window starting at or after ``t``."""
        i = self.index_of(t)
        return i if self.start_of(i).timestamp() >= t.timestamp() else i + 1

    def date_of(self, i: int) -> date | None:
        """The local date naming window ``i`` (calendar cadences only)."""
        return None

    def index_of_date(self, d: date) -> int | None:
        """The window named by local date ``d`` (calendar cadences only), without building datetimes."""
        return None


class _CalendarCadence(Cadence):
    """Windows starting at a fixed local time of day on calendar days."""

    calendar = True

    def __init__(self, tz: tzinfo, hour: int, minute: int) -> None:
        self.tz = tz
        self._time = time(hour, minute)
        self._offset = timedelta(hours=hour, minutes=minute)

    def _local_wall(self, t: datetime) -> datetime:
        """Naive local wall time of ``t`` shifted so that window starts fall on midnight."""
        return t.astimezone(self.tz).replace(tzinfo=None) - self._offset

    def _settle(self, i: int, t: datetime) -> int:
        # A window start inside a DST gap moves forward, so the wall-clock arithmetic can be
        # one window ahead for instants in that gap.
        if self.tz is not UTC and self.start_of(i).timestamp() > t.timestamp():
            return i - 1
        return i

    def _suffix(self) -> str:
        return "" if self._offset == timedelta() else f"+{self._time:%H:%M}"


class DailyCadence(_CalendarCadence):
    noun = "a date"

    def __init__(self, tz: tzinfo, hour: int = 0, minute: int = 0) -> None:
        super().__init__(tz, hour, minute)
        self.name = "daily" + self._suffix()

    def index_of(self, t: datetime) -> int:
        return self._settle(self._local_wall(t).toordinal(), t)

    def start_of(self, i: int) -> datetime:
        return at_wall_time(datetime.combine(date.fromordinal(i), self._time), self.tz)

    def date_of(self, i: int) -> date:
        return date.fromordinal(i)

    def index_of_date(self, d: date) -> int:
        return d.toordinal()


class WeeklyCadence(_CalendarCadence):
    def __init__(self, tz: tzinfo, weekday: int = 0, hour: int = 0, minute: int = 0) -> None:
        super().__init__(tz, hour, minute)
        # Cron weekdays count from Sunday = 0; date ordinals have Sunday = 0 (mod 7) too
        # (ordinal 1 is Monday 0001-01-01), so a week start's ordinal is 7 * i + weekday.
        self._weekday = weekday % 7
        self.name = "weekly" + (f"-{_WEEKDAYS[self._weekday][:3].lower()}" if self._weekday else "")
        self.name += self._suffix()
        self.noun = f"a week start ({_WEEKDAYS[self._weekday]})"

    def index_of(self, t: datetime) -> int:
        return self._settle((self._local_wall(t).toordinal() - self._weekday) // 7, t)

    def start_of(self, i: int) -> datetime:
        return at_wall_time(datetime.combine(self.date_of(i), self._time), self.tz)

    def date_of(self, i: int) -> date:
        return date.fromordinal(7 * i + self._weekday)

    def index_of_date(self, d: date) -> int:
        return (d.toordinal() - self._weekday) // 7


class MonthlyCadence(_CalendarCadence):
    def __init__(self, tz: tzinfo, day: int = 1, hour: int = 0, minute: int = 0) -> None:
        super().__init__(tz, hour, minute)
        self._day = day
        self.name = "monthly" + (f"-{day}" if day != 1 else "") + self._suffix()
        self.noun = "the first day of a month" if day == 1 else f"day {day} of a month"

    def index_of(self, t: datetime) -> int:
        wall = self._local_wall(t)
        i = wall.year * 12 + wall.month - 1
        if wall.day < self._day:
            i -= 1
        return self._settle(i, t)

    def start_of(self, i: int) -> datetime:
        return at_wall_time(datetime.combine(self.date_of(i), self._time), self.tz)

    def date_of(self, i: int) -> date:
        year, month0 = divmod(i, 12)
        return date(year, month0 + 1, self._day)

    def index_of_date(self, d: date) -> int:
        return d.year * 12 + d.month - 1 - (1 if d.day < self._day else 0)


class HourlyCadence(Cadence):
    """Real hours: the index is the hours since the epoch (UTC) of the window start.

    Windows start at ``minute`` past each local hour; in a zone with a half-hour offset
    (Asia/Kolkata) that is half past a UTC hour, which the phase accounts for.
    """

    noun = "an hour"

    def __init__(self, tz: tzinfo, minute: int = 0) -> None:
        self.tz = tz
        self._minute = minute
        self.name = "hourly" + (f"+{minute:02d}" if minute else "")

    def _phase(self, t: datetime) -> int:
        """Seconds past a UTC hour at which local windows start, at instant ``t``."""
        offset = t.astimezone(self.tz).utcoffset() or timedelta()
        return (self._minute * 60 - int(offset.total_seconds())) % 3600

    def index_of(self, t: datetime) -> int:
        return math.floor((t.timestamp() - self._phase(t)) / 3600)

    def start_of(self, i: int) -> datetime:
        base = i * 3600
        phase = self._phase(datetime.fromtimestamp(base, UTC))
        return datetime.fromtimestamp(base + phase, self.tz)


class CronCadence(Cadence):
    """Any other cron schedule: window ``i`` starts at the ``i``-th tick at or after ``anchor``.

    Ticks come from croniter (imported here, lazily, to keep ``import deras`` fast) and are
    cached as timestamps, shared by equal definitions through ``cron_cadence``.
    """

    def __init__(self, cron: str, anchor: datetime, tz: tzinfo) -> None:
        self.tz = tz
        self._cron = cron
        self._anchor = anchor
        self.name = f"cron({cron})@{anchor.isoformat()}"
        self.noun = f"a tick of {cron!r}"
        self._ticks = array("d")
        self._lock = threading.Lock()
        self._iter: object | None = None

    def __reduce__(self) -> tuple[object, ...]:
        return (cron_cadence, (self._cron, self._anchor, self.tz))  # the cache and lock stay behind

    def _next_tick(self) -> float:
        if self._iter is None:
            from croniter import croniter

            # croniter yields ticks strictly after its start; one second before the anchor
            # makes an anchor that is itself a tick window 0.
            self._iter = croniter(self._cron, self._anchor - timedelta(seconds=1))
        return float(self._iter.get_next(float))  # type: ignore[union-attr]

    def _extend_past(self, ts: float) -> None:
        with self._lock:
            while not self._ticks or self._ticks[-1] <= ts:
                self._ticks.append(self._next_tick())

    def _extend_to(self, count: int) -> None:
        with self._lock:
            while len(self._ticks) < count:
                self._ticks.append(self._next_tick())

    def index_of(self, t: datetime) -> int:
        ts = t.timestamp()
        self._extend_past(ts)
        return bisect_right(self._ticks, ts) - 1  # -1 before the anchor

    def start_of(self, i: int) -> datetime:
        if i < 0:
            return self._start_before_anchor(-i)
        self._extend_to(i + 1)
        return datetime.fromtimestamp(self._ticks[i], self.tz)

    def _start_before_anchor(self, steps: int) -> datetime:
        # Only mappings with negative offsets look before the start; not worth caching.
        from croniter import croniter

        it = croniter(self._cron, self._anchor)
        ts = 0.0
        for _ in range(steps):
            ts = float(it.get_prev(float))
        return datetime.fromtimestamp(ts, self.tz)


@lru_cache(maxsize=128)
def cron_cadence(cron: str, anchor: datetime, tz: tzinfo) -> CronCadence:
    return CronCadence(cron, anchor, tz)


_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}
_NUMBER = re.compile(r"\d{1,2}")


def cadence_for_cron(cron: str, tz: tzinfo, anchor: datetime) -> Cadence:
    """The cadence of ``cron``: arithmetic for hourly/daily/weekly/monthly shapes, else croniter."""
    if not isinstance(cron, str):
        raise DefinitionError(f"cron_schedule must be a string like '0 0 * * *', got {cron!r}")
    expr = _ALIASES.get(cron.strip(), cron)
    fields = expr.split()
    if len(fields) == 5:
        minute, hour, dom, month, dow = fields
        m = _number(minute, 0, 59)
        h = _number(hour, 0, 23)
        if m is not None and month == "*":
            if (hour, dom, dow) == ("*", "*", "*"):
                return HourlyCadence(tz, m)
            if h is not None and (dom, dow) == ("*", "*"):
                return DailyCadence(tz, h, m)
            d = _number(dow, 0, 7)
            if h is not None and dom == "*" and d is not None:
                return WeeklyCadence(tz, d, h, m)
            # Days 29-31 are skipped by cron in short months, so they stay with croniter.
            day = _number(dom, 1, 28)
            if h is not None and day is not None and dow == "*":
                return MonthlyCadence(tz, day, h, m)
    from croniter import croniter

    if len(fields) != 5 or not croniter.is_valid(expr):
        raise DefinitionError(
            f"cron_schedule {cron!r} is not a valid cron expression: "
            "expected 5 fields 'minute hour day-of-month month day-of-week', e.g. '0 0 * * *'"
        )
    return cron_cadence(expr, anchor, tz)


def _number(text: str, lo: int, hi: int) -> int | None:
    if not _NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if lo <= value <= hi else None
