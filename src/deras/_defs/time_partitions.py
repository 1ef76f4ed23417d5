"""Time-window partitions: one key per window of a cron schedule, in a timezone.

``DailyPartitionsDefinition`` and friends (``periodic_partitions.py``) are this class with a
fixed schedule, so a daily definition equals the generic one built from ``"0 0 * * *"``. Counting,
membership and key <-> index conversions are O(1) arithmetic for hourly, daily, weekly and
monthly schedules (see ``time_cadence.py``): a million daily partitions are never listed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deras._core.errors import DefinitionError, PartitionKeyError

from .partitions import DynamicPartitionsStore, PartitionsDefinition, Ranges
from .time_cadence import Cadence, at_wall_time, cadence_for_cron, is_repeated_wall_time

DAILY_FORMAT = "%Y-%m-%d"
HOURLY_FORMAT = "%Y-%m-%d-%H:%M"
_OFFSET_SUFFIX = re.compile(r"[+-]\d\d:\d\d")
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%p", "%z", "%X", "%c", "%f", "%T", "%R")
_PATTERN_NAMES = {
    "%Y": "YYYY",
    "%m": "MM",
    "%d": "DD",
    "%H": "HH",
    "%M": "MM",
    "%S": "SS",
    "%y": "YY",
    "%z": "+HHMM",
    "%j": "DDD",
    "%b": "Mon",
    "%B": "Month",
    "%%": "%",
}


class TimeWindow(NamedTuple):
    """The half-open interval ``[start, end)`` of a partition, as aware datetimes.

    Both ends are in the definition's timezone. Python compares and subtracts two datetimes of
    the same zone by wall clock, so use ``.timestamp()`` for real durations across DST.
    """

    start: datetime
    end: datetime


class TimeWindowPartitionsDefinition(PartitionsDefinition):
    """One partition per window between consecutive ticks of ``cron_schedule``.

    Keys are window starts formatted with ``fmt``. Without ``end`` the keys run up to the last
    *complete* window before now, shifted by ``end_offset`` windows (1 adds the window in
    progress); with ``end`` they stop at the last window ending at or before ``end``, even
    if that is in the future (``end_offset`` then does not apply).

    >>> every_6h = TimeWindowPartitionsDefinition(
    ...     cron_schedule="0 */6 * * *", start="2025-01-01-00:00", fmt="%Y-%m-%d-%H:%M",
    ...     end="2025-01-02-00:00")
    >>> every_6h.get_partition_keys()
    ['2025-01-01-00:00', '2025-01-01-06:00', '2025-01-01-12:00', '2025-01-01-18:00']

    A wall-clock time that a DST fall-back repeats gets its UTC offset appended to the key
    (``'2025-10-26-02:00+02:00'`` then ``'2025-10-26-02:00+01:00'``) unless ``fmt`` has ``%z``;
    daily, weekly and monthly keys never repeat, so they never carry it.
    """

    def __init__(
        self,
        *,
        cron_schedule: str,
        start: str | datetime | date,
        fmt: str,
        end: str | datetime | date | None = None,
        timezone: str | None = "UTC",
        end_offset: int = 0,
    ) -> None:
        if not isinstance(fmt, str) or "%" not in fmt:
            raise DefinitionError(f"fmt must be a strftime format like '%Y-%m-%d', got {fmt!r}")
        if not isinstance(end_offset, int) or isinstance(end_offset, bool):
            raise DefinitionError(
                f"end_offset must be an int (windows after the last complete one), got {end_offset!r}"
            )
        self._timezone = timezone or "UTC"
        self._tz = _zone(self._timezone)
        self._fmt = fmt
        self._cron = cron_schedule
        self._end_offset = end_offset
        # Keys are parsed with the cadence known, so the start is parsed in two steps.
        self._suffixed = "%z" not in fmt
        self._date_keys = not any(d in fmt for d in _TIME_DIRECTIVES)
        self._start = self._coerce_time(start, "start")
        self._cadence: Cadence = cadence_for_cron(cron_schedule, self._tz, self._start)
        self._suffixed = self._suffixed and not self._cadence.calendar
        self._end = None if end is None else self._coerce_time(end, "end")
        self._first: int | None = None
        self._end_index: int | None = None
        self._display: list[tuple[str, object]] = [
            ("cron_schedule", cron_schedule),
            ("start", display_time_arg(start)),
            ("fmt", fmt),
            *([("end", display_time_arg(end))] if end is not None else []),
            *([("timezone", self._timezone)] if self._timezone != "UTC" else []),
            *([("end_offset", end_offset)] if end_offset else []),
        ]

    # -- attributes ----------------------------------------------------------------------------

    @property
    def start(self) -> datetime:
        return self._start

    @property
    def end(self) -> datetime | None:
        return self._end

    @property
    def timezone(self) -> str:
        return self._timezone

    @property
    def fmt(self) -> str:
        return self._fmt

    @property
    def cron_schedule(self) -> str:
        return self._cron

    @property
    def end_offset(self) -> int:
        return self._end_offset

    # -- index bounds --------------------------------------------------------------------------

    def _first_index(self) -> int:
        if self._first is None:  # lazy: a generic cron iterates croniter to find it
            self._first = self._cadence.index_at_or_after(self._start)
        return self._first

    def _stop_index(self, current_time: datetime | None) -> int:
        """One past the last window's index."""
        if self._end is not None:
            if self._end_index is None:
                self._end_index = self._cadence.index_of(self._end)
            return self._end_index
        now = _aware(current_time) if current_time is not None else datetime.now(UTC)
        return self._cadence.index_of(now) + self._end_offset

    def all_index_ranges(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Ranges:
        first, stop = self._first_index(), self._stop_index(current_time)
        return [(first, stop)] if stop > first else []

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        return max(0, self._stop_index(current_time) - self._first_index())

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return [self.index_to_key(i) for i in range(self._first_index(), self._stop_index(current_time))]

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        i = self._canonical_index(key)
        return i is not None and self._first_index() <= i < self._stop_index(current_time)

    # -- index space ---------------------------------------------------------------------------

    @property
    def index_space_id(self) -> str:
        return f"{self._cadence.name}|{self._timezone}|{self._fmt}"

    def key_to_index(self, key: str, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> int:
        i = self._canonical_index(key)
        if i is None:
            raise PartitionKeyError(
                f"partition key {key!r} is not in {self!r}: {self._describe_valid_keys(key, None, None)}"
            )
        return i

    def index_to_key(self, index: int, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> str:
        try:
            if self._date_keys and (day := self._cadence.date_of(index)) is not None:
                return day.isoformat() if self._fmt == DAILY_FORMAT else day.strftime(self._fmt)
            return self._format(self._cadence.start_of(index))
        except (ValueError, OverflowError, OSError):
            raise IndexError(f"index {index} is outside the index space of {self!r}") from None

    def _format(self, start: datetime) -> str:
        if self._fmt == HOURLY_FORMAT:  # strftime drops the zero padding of years before 1000
            key = f"{start.year:04d}-{start.month:02d}-{start.day:02d}-{start.hour:02d}:{start.minute:02d}"
        else:
            key = start.strftime(self._fmt)
        if self._suffixed and is_repeated_wall_time(start):
            key += _offset_text(start.utcoffset() or timedelta())
        return key

    def _index_of_key(self, key: object) -> int | None:
        """The window a key names, or None when it does not parse (not yet checked canonical)."""
        if not isinstance(key, str):
            return None
        if self._fmt == DAILY_FORMAT and self._cadence.calendar:
            try:
                return self._cadence.index_of_date(date.fromisoformat(key))
            except ValueError:
                return None
        t = self._parse_time(key)
        return None if t is None else self._cadence.index_at_or_after(t)

    def _canonical_index(self, key: object) -> int | None:
        # Parsing is lenient (strptime accepts '2025-1-5'); a key is valid only if it is
        # exactly the key its window formats to, which also rejects non-window starts.
        i = self._index_of_key(key)
        if i is None:
            return None
        try:
            return i if self.index_to_key(i) == key else None
        except IndexError:
            return None

    def _parse_time(self, text: str) -> datetime | None:
        """The aware instant that a key (or a start/end string) names under ``fmt``."""
        parsed = _strptime(text, self._fmt)
        offset = None
        # Only when the whole text does not parse: '...-00:00' ends like an offset but is an hour.
        if parsed is None and self._suffixed and len(text) > 6 and _OFFSET_SUFFIX.fullmatch(text[-6:]):
            parsed, offset = _strptime(text[:-6], self._fmt), _parse_offset(text[-6:])
        if parsed is None:
            return None
        if parsed.tzinfo is not None:
            return parsed.astimezone(self._tz)
        if offset is None:
            return at_wall_time(parsed, self._tz)
        for fold in (0, 1):
            candidate = parsed.replace(tzinfo=self._tz, fold=fold)
            if candidate.utcoffset() == offset:
                return candidate.astimezone(UTC).astimezone(self._tz)
        return None

    def _coerce_time(self, value: str | datetime | date, what: str) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(self._tz) if value.tzinfo else at_wall_time(value, self._tz)
        if isinstance(value, date):
            return at_wall_time(datetime.combine(value, datetime.min.time()), self._tz)
        if isinstance(value, str):
            parsed = self._parse_time(value)
            if parsed is not None:
                return parsed
            for parse in (datetime.fromisoformat, lambda s: datetime.strptime(s, HOURLY_FORMAT)):
                try:
                    return self._coerce_time(parse(value), what)
                except ValueError:
                    pass
        raise DefinitionError(
            f"{what} {value!r} is not a time: give a date or datetime, or a string in the format "
            f"{self._fmt!r} ('{describe_format(self._fmt)}') or ISO 8601"
        )

    # -- time windows --------------------------------------------------------------------------

    def time_window_for_index(self, index: int) -> TimeWindow:
        return TimeWindow(self._cadence.start_of(index), self._cadence.start_of(index + 1))

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        return self.time_window_for_index(self.key_to_index(partition_key))

    def time_window_for_partition_key_range(self, first: str, last: str) -> TimeWindow:
        """The window from the start of ``first`` to the end of ``last`` (a single-run backfill)."""
        a, b = self.key_to_index(first), self.key_to_index(last)
        if b < a:
            raise PartitionKeyError(f"partition key range {first!r}..{last!r} of {self!r} is reversed")
        return TimeWindow(self._cadence.start_of(a), self._cadence.start_of(b + 1))

    def index_for_time(self, t: datetime) -> int:
        """The index of the window containing ``t`` (naive means UTC), in range or not."""
        return self._cadence.index_of(_aware(t))

    def index_range_for_time_window(self, start: datetime, end: datetime) -> tuple[int, int]:
        """The half-open index range of the windows overlapping ``[start, end)``."""
        start, end = _aware(start), _aware(end)
        a = self._cadence.index_of(start)
        if end.timestamp() <= start.timestamp():
            return (a, a)
        return (a, self._cadence.index_at_or_after(end))

    def partition_key_for_time(self, t: datetime) -> str:
        """The key of the window containing ``t`` (naive means UTC).

        Raises ``PartitionKeyError`` before the first window or at/after ``end``; a time after
        now is fine (its window may still be in progress).
        """
        i = self.index_for_time(t)
        if i < self._first_index() or (self._end is not None and i >= self._stop_index(None)):
            raise PartitionKeyError(
                f"no partition of {self!r} contains {_aware(t).isoformat()}: "
                f"{self._describe_valid_keys(None, None, None)}"
            )
        return self.index_to_key(i)

    # -- messages and value semantics ----------------------------------------------------------

    def _describe_valid_keys(
        self, key: object, current_time: datetime | None, store: DynamicPartitionsStore | None
    ) -> str:
        expected = f"expected {self._cadence.noun} '{describe_format(self._fmt)}'"
        first, stop = self._first_index(), self._stop_index(current_time)
        try:
            first_key = self.index_to_key(first)
            if stop > first:
                expected += f" from {first_key} to {self.index_to_key(stop - 1)}"
            elif self._end is not None:
                expected += (
                    f" from {first_key}, but it ends at {self._end.isoformat()} before its first window"
                )
            else:
                expected += f" from {first_key}, but no window is complete yet"
        except IndexError:
            pass
        i = self._index_of_key(key)
        if isinstance(key, str) and i is not None:
            # Most likely a repeated DST hour written without its UTC offset.
            meant = [
                k for k in (self._try_key(i), self._try_key(i + 1)) if k and k != key and k.startswith(key)
            ]
            if meant:
                expected += "; did you mean " + " or ".join(repr(k) for k in meant) + "?"
        return expected

    def _try_key(self, index: int) -> str | None:
        try:
            return self.index_to_key(index)
        except IndexError:
            return None

    def _identity(self) -> tuple[object, ...]:
        end = None if self._end is None else self._end.timestamp()
        return (
            "time",
            self._cadence.name,
            self._timezone,
            self._fmt,
            self._start.timestamp(),
            end,
            self._end_offset,
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self._display)
        return f"{type(self).__name__}({args})"


# -- helpers -------------------------------------------------------------------------------------


def describe_format(fmt: str) -> str:
    """A strftime format as people write it: ``'%Y-%m-%d'`` -> ``'YYYY-MM-DD'``."""
    return re.sub(r"%.", lambda m: _PATTERN_NAMES.get(m.group(), m.group()), fmt)


def _zone(name: str) -> tzinfo:
    if name == "UTC":
        return UTC  # the fast path of the cadences checks identity with datetime.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DefinitionError(
            f"unknown timezone {name!r}: use an IANA name such as 'UTC', 'Europe/Berlin' or "
            "'America/New_York'"
        ) from None


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _strptime(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _parse_offset(text: str) -> timedelta:
    sign = -1 if text[0] == "-" else 1
    return sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6]))


def display_time_arg(value: object) -> object:
    """A start/end argument as ``repr`` shows it."""
    return value.isoformat() if isinstance(value, date) else value
