"""Schedule ticks: ``next_tick_times`` and ``tick_times_between``, and the DST policy (API.md §5).

A cron time that does not exist on a DST day fires once, at the first valid instant after it; a
time that happens twice fires once, at its first occurrence. Datetimes are compared through
``isoformat()`` so that the UTC offset is part of each assertion.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import deras as dg

JOB = dg.define_asset_job("etl")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def sched(cron: str, tz: str = "UTC") -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(job=JOB, cron_schedule=cron, execution_timezone=tz)


def local_day(day: datetime) -> tuple[datetime, datetime]:
    """``(start_exclusive, end_inclusive)`` covering the local calendar day of ``day``."""
    start = day.replace(hour=0, minute=0) - timedelta(microseconds=1)
    end = (day + timedelta(days=1)).replace(hour=0, minute=0) - timedelta(microseconds=1)
    return start, end


def ticks_on(s: dg.ScheduleDefinition, day: datetime) -> list[str]:
    return [t.isoformat() for t in s.tick_times_between(*local_day(day))]


# -- Europe/Berlin: spring forward 2025-03-30 02:00 -> 03:00, fall back 2025-10-26 03:00 -> 02:00 ---


def test_berlin_nonexistent_time_fires_once_at_the_end_of_the_gap() -> None:
    s = sched("30 2 * * *", "Europe/Berlin")
    assert ticks_on(s, datetime(2025, 3, 30, tzinfo=BERLIN)) == ["2025-03-30T03:00:00+02:00"]


def test_berlin_repeated_time_fires_once_at_its_first_occurrence() -> None:
    s = sched("30 2 * * *", "Europe/Berlin")
    assert ticks_on(s, datetime(2025, 10, 26, tzinfo=BERLIN)) == ["2025-10-26T02:30:00+02:00"]


def test_berlin_days_around_the_transitions_are_unchanged() -> None:
    s = sched("30 2 * * *", "Europe/Berlin")
    ticks = s.tick_times_between(datetime(2025, 3, 28, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    assert [t.isoformat() for t in ticks] == [
        "2025-03-28T02:30:00+01:00",
        "2025-03-29T02:30:00+01:00",
        "2025-03-30T03:00:00+02:00",
        "2025-03-31T02:30:00+02:00",
    ]


def test_berlin_hourly_has_23_ticks_in_spring_and_24_in_autumn() -> None:
    s = sched("0 * * * *", "Europe/Berlin")
    spring = ticks_on(s, datetime(2025, 3, 30, tzinfo=BERLIN))
    assert len(spring) == 23 and spring[1:3] == ["2025-03-30T01:00:00+01:00", "2025-03-30T03:00:00+02:00"]
    autumn = ticks_on(s, datetime(2025, 10, 26, tzinfo=BERLIN))
    # The 25-hour day: 02:00 happens twice and fires at its first occurrence only.
    assert len(autumn) == 24
    assert autumn[1:4] == [
        "2025-10-26T01:00:00+02:00",
        "2025-10-26T02:00:00+02:00",
        "2025-10-26T03:00:00+01:00",
    ]


def test_berlin_every_quarter_hour_inside_the_gap_collapses_to_one_tick() -> None:
    s = sched("*/15 2 * * *", "Europe/Berlin")
    assert ticks_on(s, datetime(2025, 3, 30, tzinfo=BERLIN)) == ["2025-03-30T03:00:00+02:00"]
    assert ticks_on(s, datetime(2025, 10, 26, tzinfo=BERLIN)) == [
        "2025-10-26T02:00:00+02:00",
        "2025-10-26T02:15:00+02:00",
        "2025-10-26T02:30:00+02:00",
        "2025-10-26T02:45:00+02:00",
    ]


# -- America/New_York: spring forward 2025-03-09 02:00 -> 03:00, fall back 2025-11-02 02:00 -> 01:00 --


def test_new_york_nonexistent_time_fires_once_at_the_end_of_the_gap() -> None:
    s = sched("30 2 * * *", "America/New_York")
    assert ticks_on(s, datetime(2025, 3, 9, tzinfo=NEW_YORK)) == ["2025-03-09T03:00:00-04:00"]
    assert ticks_on(s, datetime(2025, 11, 2, tzinfo=NEW_YORK)) == ["2025-11-02T02:30:00-05:00"]


def test_new_york_repeated_time_fires_once_at_its_first_occurrence() -> None:
    s = sched("30 1 * * *", "America/New_York")
    assert ticks_on(s, datetime(2025, 11, 2, tzinfo=NEW_YORK)) == ["2025-11-02T01:30:00-04:00"]
    assert ticks_on(s, datetime(2025, 3, 9, tzinfo=NEW_YORK)) == ["2025-03-09T01:30:00-05:00"]


# -- Asia/Jakarta: no DST -------------------------------------------------------------------------


def test_jakarta_ticks_are_at_the_same_local_time_every_day() -> None:
    s = sched("0 2 * * *", "Asia/Jakarta")
    ticks = s.tick_times_between(datetime(2025, 3, 29, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    assert [t.isoformat() for t in ticks] == [
        "2025-03-30T02:00:00+07:00",
        "2025-03-31T02:00:00+07:00",
        "2025-04-01T02:00:00+07:00",  # 2025-03-31T19:00Z
    ]
    assert ticks[0].astimezone(UTC).isoformat() == "2025-03-29T19:00:00+00:00"


# -- the interval and the limit --------------------------------------------------------------------


def test_start_is_exclusive_and_end_inclusive() -> None:
    s = sched("0 0 * * *")
    day1, day3 = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC)
    assert [t.day for t in s.tick_times_between(day1, day3)] == [2, 3]
    assert s.tick_times_between(day3, day3) == []
    assert s.tick_times_between(day3, day1) == []


def test_limit_keeps_the_latest_ticks() -> None:
    s = sched("0 * * * *")
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)
    latest = s.tick_times_between(start, end, limit=3)
    assert [t.isoformat() for t in latest] == [
        "2025-01-01T22:00:00+00:00",
        "2025-01-01T23:00:00+00:00",
        "2025-01-02T00:00:00+00:00",
    ]
    assert s.tick_times_between(start, end, limit=0) == []
    assert len(s.tick_times_between(start, end, limit=1000)) == 24


@pytest.mark.parametrize(
    ("cron", "tz"),
    [
        ("0 * * * *", "Europe/Berlin"),
        ("30 2 * * *", "Europe/Berlin"),
        ("*/20 1-3 * * *", "America/New_York"),
        ("30 1 * * *", "America/New_York"),
        ("0 2 * * *", "Asia/Jakarta"),
        ("0 0 L * *", "Europe/Berlin"),  # croniter's extension: the last day of the month
    ],
)
def test_the_latest_ticks_are_the_tail_of_all_ticks_across_dst(cron: str, tz: str) -> None:
    s = sched(cron, tz)
    for start, end in [
        (datetime(2025, 3, 29, 20, tzinfo=UTC), datetime(2025, 3, 30, 5, 17, tzinfo=UTC)),
        (datetime(2025, 10, 25, 22, tzinfo=UTC), datetime(2025, 10, 26, 1, 40, tzinfo=UTC)),
        (datetime(2025, 11, 1, 22, tzinfo=UTC), datetime(2025, 11, 2, 8, 30, tzinfo=UTC)),
        (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC)),
    ]:
        every = s.tick_times_between(start, end)
        for k in (1, 2, 5):
            assert [t.isoformat() for t in s.tick_times_between(start, end, limit=k)] == [
                t.isoformat() for t in every[-k:]
            ], (start, end, k)


def test_ticks_between_agree_with_next_tick_times() -> None:
    s = sched("30 2 * * *", "Europe/Berlin")
    after = datetime(2025, 3, 25, tzinfo=UTC)
    following = s.next_tick_times(after, 10)
    assert following == s.tick_times_between(after, following[-1])


def test_next_tick_times_are_aware_in_the_execution_timezone() -> None:
    s = sched("30 2 * * *", "Europe/Berlin")
    ticks = s.next_tick_times(datetime(2025, 3, 29, 12, tzinfo=UTC), 2)
    assert [t.isoformat() for t in ticks] == ["2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"]
    assert all(t.tzinfo == BERLIN for t in ticks)
    assert s.next_tick_times(datetime(2025, 3, 29, 12, tzinfo=UTC), 0) == []
    assert len(s.next_tick_times(datetime(2025, 3, 29, 12, tzinfo=UTC))) == 1


def test_naive_times_are_refused() -> None:
    s = sched("@daily")
    with pytest.raises(ValueError, match="must be timezone-aware"):
        s.next_tick_times(datetime(2025, 1, 1), 1)
    with pytest.raises(ValueError, match="start_exclusive must be timezone-aware"):
        s.tick_times_between(datetime(2025, 1, 1), datetime(2025, 1, 2, tzinfo=UTC))
