"""Daily, hourly, weekly and monthly partitions: time windows of a fixed schedule.

Each is a ``TimeWindowPartitionsDefinition`` whose cron schedule is built from its offsets, so
``DailyPartitionsDefinition("2025-01-01")`` equals the generic definition of ``"0 0 * * *"``
with the same start and format. Their cadences are pure arithmetic (``time_cadence.py``).
"""

from __future__ import annotations

from datetime import date, datetime

from deras._core.errors import DefinitionError

from .time_partitions import DAILY_FORMAT, HOURLY_FORMAT, TimeWindowPartitionsDefinition, display_time_arg


class DailyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per calendar day, keys ``'YYYY-MM-DD'``; index = the date's ``toordinal()``.

    In a DST timezone the windows are local calendar days, 23 or 25 hours long on transition
    days.

    >>> days = DailyPartitionsDefinition("2025-01-01", end_date="2025-01-04")
    >>> days.get_partition_keys(), days.get_num_partitions()
    (['2025-01-01', '2025-01-02', '2025-01-03'], 3)
    """

    def __init__(
        self,
        start_date: str | datetime | date,
        end_date: str | datetime | date | None = None,
        *,
        minute_offset: int = 0,
        hour_offset: int = 0,
        timezone: str | None = "UTC",
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            cron_schedule=f"{_minute_hour(minute_offset, hour_offset)} * * *",
            start=start_date,
            end=end_date,
            fmt=fmt or DAILY_FORMAT,
            timezone=timezone,
            end_offset=end_offset,
        )
        self._display = _display_args(
            start_date,
            end_date,
            timezone,
            fmt,
            end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
        )


class HourlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per hour, keys ``'YYYY-MM-DD-HH:MM'``; index = hours since 1970-01-01T00Z.

    Windows are real hours, keyed by their local start time: a spring-forward day skips the
    missing hour's key and has 23 keys. On a fall-back day the repeated local hour would give two
    equal keys, so those two (and only those) carry their UTC offset, e.g. in Europe/Berlin
    ``'2025-10-26-02:00+02:00'`` then ``'2025-10-26-02:00+01:00'``. (Dagster instead asks for a
    ``fmt`` with ``%z`` outside UTC; with such a ``fmt`` no suffix is added.)

    >>> hours = HourlyPartitionsDefinition("2025-01-01-00:00", end_date="2025-01-01-03:00")
    >>> hours.get_partition_keys()
    ['2025-01-01-00:00', '2025-01-01-01:00', '2025-01-01-02:00']
    """

    def __init__(
        self,
        start_date: str | datetime | date,
        end_date: str | datetime | date | None = None,
        *,
        minute_offset: int = 0,
        timezone: str | None = "UTC",
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            cron_schedule=f"{_int(minute_offset, 'minute_offset', 59)} * * * *",
            start=start_date,
            end=end_date,
            fmt=fmt or HOURLY_FORMAT,
            timezone=timezone,
            end_offset=end_offset,
        )
        self._display = _display_args(
            start_date, end_date, timezone, fmt, end_offset, minute_offset=minute_offset
        )


class WeeklyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per week, starting Sunday (``day_offset`` 0; 1 is Monday ... 6 Saturday).

    Keys are the week's first day ``'YYYY-MM-DD'``; index = that day's ``toordinal() // 7``.

    >>> weeks = WeeklyPartitionsDefinition("2025-01-05", end_date="2025-01-19")
    >>> weeks.get_partition_keys()
    ['2025-01-05', '2025-01-12']
    """

    def __init__(
        self,
        start_date: str | datetime | date,
        end_date: str | datetime | date | None = None,
        *,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 0,
        timezone: str | None = "UTC",
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        cron = f"{_minute_hour(minute_offset, hour_offset)} * * {_int(day_offset, 'day_offset', 6)}"
        super().__init__(
            cron_schedule=cron,
            start=start_date,
            end=end_date,
            fmt=fmt or DAILY_FORMAT,
            timezone=timezone,
            end_offset=end_offset,
        )
        self._display = _display_args(
            start_date,
            end_date,
            timezone,
            fmt,
            end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
        )


class MonthlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per month, keys the first day ``'YYYY-MM-01'``; index = ``year * 12 + month - 1``.

    ``day_offset`` (1-28) starts the months on another day.

    >>> months = MonthlyPartitionsDefinition("2025-01-01", end_date="2025-04-01")
    >>> months.get_partition_keys()
    ['2025-01-01', '2025-02-01', '2025-03-01']
    """

    def __init__(
        self,
        start_date: str | datetime | date,
        end_date: str | datetime | date | None = None,
        *,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 1,
        timezone: str | None = "UTC",
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        if _int(day_offset, "day_offset", 28) < 1:
            raise DefinitionError(f"day_offset of a month must be 1-28, got {day_offset!r}")
        cron = f"{_minute_hour(minute_offset, hour_offset)} {day_offset} * *"
        super().__init__(
            cron_schedule=cron,
            start=start_date,
            end=end_date,
            fmt=fmt or DAILY_FORMAT,
            timezone=timezone,
            end_offset=end_offset,
        )
        self._display = _display_args(
            start_date,
            end_date,
            timezone,
            fmt,
            end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset if day_offset != 1 else 0,  # 0 is not shown: 1 is the default
        )


def _int(value: int, name: str, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= hi:
        raise DefinitionError(f"{name} must be an int from 0 to {hi}, got {value!r}")
    return value


def _minute_hour(minute_offset: int, hour_offset: int) -> str:
    """The minute and hour fields of a cron schedule, checked."""
    return f"{_int(minute_offset, 'minute_offset', 59)} {_int(hour_offset, 'hour_offset', 23)}"


def _display_args(
    start: object, end: object, timezone: str | None, fmt: str | None, end_offset: int, **offsets: int
) -> list[tuple[str, object]]:
    """Constructor arguments for ``repr``: the start and every argument not at its default."""
    args: list[tuple[str, object]] = [("start_date", display_time_arg(start))]
    if end is not None:
        args.append(("end_date", display_time_arg(end)))
    args += [(name, value) for name, value in offsets.items() if value]
    if timezone not in (None, "UTC"):
        args.append(("timezone", timezone))
    if fmt is not None:
        args.append(("fmt", fmt))
    if end_offset:
        args.append(("end_offset", end_offset))
    return args
