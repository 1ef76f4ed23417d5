"""Time-window partitions: keys, counts, index space, DST, parsing and error messages."""

from __future__ import annotations

import itertools
import pickle
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from deras._core.errors import DefinitionError, PartitionKeyError
from deras._defs.periodic_partitions import (
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from deras._defs.time_partitions import TimeWindow, TimeWindowPartitionsDefinition

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2025, 6, 15, 10, 30, tzinfo=UTC)


def hours(window: TimeWindow) -> float:
    return (window.end.timestamp() - window.start.timestamp()) / 3600


# -- keys and counts -----------------------------------------------------------------------------


def test_daily_keys_stop_before_end_date() -> None:
    days = DailyPartitionsDefinition("2025-01-01", end_date="2025-01-05")
    assert days.get_partition_keys() == ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]


def test_daily_keys_honour_an_end_date_in_the_future() -> None:
    days = DailyPartitionsDefinition("2025-01-01", end_date="2025-01-04")
    assert days.get_partition_keys(current_time=datetime(2024, 6, 1)) == [
        "2025-01-01",
        "2025-01-02",
        "2025-01-03",
    ]


def test_daily_keys_without_end_date_stop_at_the_last_complete_day() -> None:
    days = DailyPartitionsDefinition("2025-06-10")
    assert days.get_partition_keys(current_time=NOW) == [f"2025-06-{d}" for d in range(10, 15)]
    assert days.get_last_partition_key(current_time=NOW) == "2025-06-14"


def test_end_offset_adds_or_removes_windows_at_the_end() -> None:
    ahead = DailyPartitionsDefinition("2025-06-10", end_offset=1)
    behind = DailyPartitionsDefinition("2025-06-10", end_offset=-2)
    assert ahead.get_last_partition_key(current_time=NOW) == "2025-06-15"
    assert behind.get_last_partition_key(current_time=NOW) == "2025-06-12"
    assert ahead.get_num_partitions(current_time=NOW) == 6


def test_no_complete_window_yet_means_no_keys() -> None:
    days = DailyPartitionsDefinition("2025-06-15")
    assert days.get_partition_keys(current_time=NOW) == []
    assert days.get_num_partitions(current_time=NOW) == 0
    assert days.all_index_ranges(current_time=NOW) == []
    assert days.get_last_partition_key(current_time=NOW) is None


def test_naive_current_time_is_utc() -> None:
    days = DailyPartitionsDefinition("2025-06-10", timezone="America/New_York")
    # 03:00 UTC on the 15th is still the 14th in New York: the 13th is the last complete day.
    assert days.get_last_partition_key(current_time=datetime(2025, 6, 15, 3)) == "2025-06-13"


def test_start_date_accepts_strings_dates_and_datetimes() -> None:
    by_str = DailyPartitionsDefinition("2025-01-01", end_date="2025-02-01")
    by_date = DailyPartitionsDefinition(date(2025, 1, 1), end_date=date(2025, 2, 1))
    by_datetime = DailyPartitionsDefinition(datetime(2025, 1, 1), end_date=datetime(2025, 2, 1, tzinfo=UTC))
    assert by_str == by_date == by_datetime
    assert by_str.get_num_partitions() == 31


def test_start_in_the_middle_of_a_day_begins_with_the_next_whole_day() -> None:
    days = DailyPartitionsDefinition("2025-01-01T12:00", end_date="2025-01-04")
    assert days.get_partition_keys() == ["2025-01-02", "2025-01-03"]


def test_hourly_keys_use_dagster_format() -> None:
    hours_def = HourlyPartitionsDefinition("2025-01-01-22:00", end_date="2025-01-02-01:00")
    assert hours_def.get_partition_keys() == ["2025-01-01-22:00", "2025-01-01-23:00", "2025-01-02-00:00"]


def test_weekly_partitions_start_on_sunday() -> None:
    weeks = WeeklyPartitionsDefinition("2025-01-01", end_date="2025-01-26")  # a Wednesday
    assert weeks.get_partition_keys() == ["2025-01-05", "2025-01-12", "2025-01-19"]
    assert all(date.fromisoformat(k).weekday() == 6 for k in weeks.get_partition_keys())


def test_weekly_day_offset_starts_weeks_on_another_day() -> None:
    mondays = WeeklyPartitionsDefinition("2025-01-01", end_date="2025-01-20", day_offset=1)
    assert mondays.get_partition_keys() == ["2025-01-06", "2025-01-13"]


def test_monthly_keys_are_first_days_of_months() -> None:
    months = MonthlyPartitionsDefinition("2024-11-15", end_date="2025-03-01")
    assert months.get_partition_keys() == ["2024-12-01", "2025-01-01", "2025-02-01"]


def test_generic_cron_definition_lists_ticks() -> None:
    quarter_days = TimeWindowPartitionsDefinition(
        cron_schedule="0 */6 * * *", start="2025-01-01-00:00", fmt="%Y-%m-%d-%H:%M", end="2025-01-02-00:00"
    )
    assert quarter_days.get_partition_keys() == [
        "2025-01-01-00:00",
        "2025-01-01-06:00",
        "2025-01-01-12:00",
        "2025-01-01-18:00",
    ]


def test_weekday_cron_skips_weekends() -> None:
    weekdays = TimeWindowPartitionsDefinition(
        cron_schedule="0 0 * * 1-5", start="2025-01-03", fmt="%Y-%m-%d", end="2025-01-09"
    )  # Friday 3rd .. Thursday 9th
    assert weekdays.get_partition_keys() == ["2025-01-03", "2025-01-06", "2025-01-07", "2025-01-08"]
    assert weekdays.time_window_for_partition_key("2025-01-03").end == datetime(2025, 1, 6, tzinfo=UTC)
    assert not weekdays.has_partition_key("2025-01-04")


SWEEP = [
    DailyPartitionsDefinition("2024-01-01"),
    DailyPartitionsDefinition("2024-01-01", timezone="Europe/Berlin"),
    DailyPartitionsDefinition("2024-02-27", end_date="2024-03-03"),
    DailyPartitionsDefinition("2024-01-01", hour_offset=6, minute_offset=30, timezone="America/New_York"),
    DailyPartitionsDefinition("2024-01-01", fmt="%Y%m%d"),
    HourlyPartitionsDefinition("2025-03-25-00:00", timezone="Europe/Berlin"),
    HourlyPartitionsDefinition("2024-10-30-00:00", end_date="2024-11-05-00:00", timezone="America/New_York"),
    HourlyPartitionsDefinition("2025-06-01-00:00", minute_offset=15),
    HourlyPartitionsDefinition("2025-06-01-00:00", timezone="Asia/Kolkata"),
    HourlyPartitionsDefinition("2025-06-01-00:00", timezone="Europe/Berlin", fmt="%Y-%m-%dT%H:%M%z"),
    WeeklyPartitionsDefinition("2023-01-01"),
    WeeklyPartitionsDefinition("2023-01-01", day_offset=3, timezone="Europe/Berlin"),
    MonthlyPartitionsDefinition("2020-01-01"),
    MonthlyPartitionsDefinition("2020-01-01", day_offset=15, hour_offset=2, timezone="Europe/Berlin"),
    TimeWindowPartitionsDefinition(
        cron_schedule="0 */4 * * *", start="2025-05-01-00:00", fmt="%Y-%m-%d-%H:%M"
    ),
    TimeWindowPartitionsDefinition(cron_schedule="15 9 * * 1-5", start="2025-01-01", fmt="%Y-%m-%d %H:%M"),
]


@pytest.mark.parametrize("partitions_def", SWEEP, ids=repr)
def test_counts_indices_and_keys_agree(partitions_def: TimeWindowPartitionsDefinition) -> None:
    keys = partitions_def.get_partition_keys(current_time=NOW)
    assert len(keys) == partitions_def.get_num_partitions(current_time=NOW) > 0
    assert len(set(keys)) == len(keys)
    indices = [partitions_def.key_to_index(k) for k in keys]
    assert indices == list(range(indices[0], indices[0] + len(keys)))  # consecutive, in key order
    assert [partitions_def.index_to_key(i) for i in indices] == keys
    assert partitions_def.keys_to_ranges(keys) == partitions_def.all_index_ranges(current_time=NOW)
    assert list(partitions_def.ranges_to_keys(partitions_def.all_index_ranges(current_time=NOW))) == keys
    assert all(partitions_def.has_partition_key(k, current_time=NOW) for k in keys)
    windows = [partitions_def.time_window_for_partition_key(k) for k in keys]
    assert all(w.start.timestamp() < w.end.timestamp() for w in windows)
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))  # windows tile time
    assert [partitions_def.partition_key_for_time(w.start) for w in windows] == keys
    assert [
        partitions_def.partition_key_for_time(w.end.astimezone(UTC) - timedelta(seconds=1)) for w in windows
    ] == keys


# -- index space ---------------------------------------------------------------------------------


def test_index_of_daily_key_is_date_ordinal() -> None:
    days = DailyPartitionsDefinition("2025-01-01")
    assert days.key_to_index("2025-03-04") == date(2025, 3, 4).toordinal()
    assert days.index_to_key(date(2025, 3, 4).toordinal()) == "2025-03-04"
    assert days.index_space_id == "daily|UTC|%Y-%m-%d"


def test_index_of_hourly_key_is_hours_since_epoch_of_window_start() -> None:
    utc_hours = HourlyPartitionsDefinition("2025-01-01-00:00")
    berlin_hours = HourlyPartitionsDefinition("2025-01-01-00:00", timezone="Europe/Berlin")
    expected = int(datetime(2025, 1, 2, 5, tzinfo=UTC).timestamp()) // 3600
    assert utc_hours.key_to_index("2025-01-02-05:00") == expected
    assert berlin_hours.key_to_index("2025-01-02-06:00") == expected  # 06:00 CET is 05:00 UTC


def test_index_of_weekly_and_monthly_keys() -> None:
    weeks = WeeklyPartitionsDefinition("2025-01-05")
    months = MonthlyPartitionsDefinition("2025-01-01")
    assert weeks.key_to_index("2025-01-12") == date(2025, 1, 12).toordinal() // 7
    assert months.key_to_index("2025-03-01") == 2025 * 12 + 2


def test_indices_do_not_shift_when_start_or_end_date_changes() -> None:
    early = DailyPartitionsDefinition("2020-01-01")
    late = DailyPartitionsDefinition("2024-06-01", end_date="2025-01-01")
    assert early.index_space_id == late.index_space_id
    assert early.key_to_index("2024-07-04") == late.key_to_index("2024-07-04")
    monthly_early, monthly_late = (
        MonthlyPartitionsDefinition("2020-01-01"),
        MonthlyPartitionsDefinition("2024-01-01"),
    )
    assert monthly_early.keys_to_ranges(["2024-05-01"]) == monthly_late.keys_to_ranges(["2024-05-01"])


def test_index_space_id_names_timezone_and_format() -> None:
    ids = {
        DailyPartitionsDefinition("2025-01-01").index_space_id,
        DailyPartitionsDefinition("2025-01-01", timezone="Europe/Berlin").index_space_id,
        DailyPartitionsDefinition("2025-01-01", fmt="%Y/%m/%d").index_space_id,
        DailyPartitionsDefinition("2025-01-01", hour_offset=6).index_space_id,
        HourlyPartitionsDefinition("2025-01-01-00:00").index_space_id,
    }
    assert len(ids) == 5
    assert "daily|Europe/Berlin|%Y-%m-%d" in ids


def test_key_to_index_accepts_keys_outside_the_current_range() -> None:
    days = DailyPartitionsDefinition("2025-01-01", end_date="2025-02-01")
    assert days.key_to_index("2024-12-31") == date(2024, 12, 31).toordinal()
    assert not days.has_partition_key("2024-12-31")


def test_keys_to_ranges_merges_and_sorts() -> None:
    days = DailyPartitionsDefinition("2025-01-01")
    o = date(2025, 1, 1).toordinal()
    keys = ["2025-01-05", "2025-01-01", "2025-01-02", "2025-01-03", "2025-01-02"]
    assert days.keys_to_ranges(keys) == [(o, o + 3), (o + 4, o + 5)]
    span = days.to_span(keys)
    assert (span.def_id, span.count) == ("daily|UTC|%Y-%m-%d", 4)


def test_cron_index_counts_ticks_from_start() -> None:
    every_4h = TimeWindowPartitionsDefinition(
        cron_schedule="0 */4 * * *", start="2025-05-01-00:00", fmt="%Y-%m-%d-%H:%M"
    )
    assert every_4h.key_to_index("2025-05-01-00:00") == 0
    assert every_4h.key_to_index("2025-05-02-08:00") == 8
    assert "0 */4 * * *" in every_4h.index_space_id and "2025-05-01" in every_4h.index_space_id


def test_million_daily_partitions_are_counted_without_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    end = date(2900, 1, 1)
    start = date.fromordinal(end.toordinal() - 1_000_000)
    days = DailyPartitionsDefinition(start, end_date=end)
    calls = {"index_to_key": 0}
    original = DailyPartitionsDefinition.index_to_key

    def counting(self: DailyPartitionsDefinition, index: int, store: object = None) -> str:
        calls["index_to_key"] += 1
        return original(self, index)

    def no_listing(*args: object, **kwargs: object) -> list[str]:
        raise AssertionError("a million keys must not be listed")

    monkeypatch.setattr(DailyPartitionsDefinition, "index_to_key", counting)
    monkeypatch.setattr(DailyPartitionsDefinition, "get_partition_keys", no_listing)

    assert days.get_num_partitions() == 1_000_000
    assert days.all_index_ranges() == [(start.toordinal(), end.toordinal())]
    last = (end - timedelta(days=1)).isoformat()
    assert days.has_partition_key(last) and not days.has_partition_key(end.isoformat())
    assert days.partition_key_range_to_ranges(start.isoformat(), last) == [
        (start.toordinal(), end.toordinal())
    ]
    assert days.to_span([start.isoformat(), last]).count == 2
    assert days.get_first_partition_key() == start.isoformat()
    assert calls["index_to_key"] < 20


def test_hourly_count_is_arithmetic_over_decades() -> None:
    hours_def = HourlyPartitionsDefinition(
        "1990-01-01-00:00", end_date="2100-01-01-00:00", timezone="Europe/Berlin"
    )
    start = datetime(1990, 1, 1, tzinfo=BERLIN).timestamp()
    end = datetime(2100, 1, 1, tzinfo=BERLIN).timestamp()
    assert hours_def.get_num_partitions() == int(end - start) // 3600


# -- DST -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "spring", "autumn"),
    [("Europe/Berlin", "2025-03-30", "2025-10-26"), ("America/New_York", "2025-03-09", "2025-11-02")],
)
def test_daily_windows_are_calendar_days_across_dst(timezone: str, spring: str, autumn: str) -> None:
    days = DailyPartitionsDefinition("2025-01-01", end_date="2026-01-01", timezone=timezone)
    assert days.get_num_partitions() == 365
    assert hours(days.time_window_for_partition_key(spring)) == 23
    assert hours(days.time_window_for_partition_key(autumn)) == 25
    window = days.time_window_for_partition_key(autumn)
    assert (window.start.hour, window.end.hour, str(window.start.tzinfo)) == (0, 0, timezone)


def test_weekly_and_monthly_windows_follow_local_calendar_across_dst() -> None:
    weeks = WeeklyPartitionsDefinition("2025-01-05", timezone="Europe/Berlin")
    months = MonthlyPartitionsDefinition("2025-01-01", timezone="Europe/Berlin")
    assert hours(weeks.time_window_for_partition_key("2025-03-30")) == 7 * 24 - 1
    assert hours(months.time_window_for_partition_key("2025-10-01")) == 31 * 24 + 1


def test_hourly_spring_forward_day_has_23_hours_and_no_missing_hour_key() -> None:
    hours_def = HourlyPartitionsDefinition(
        "2025-03-30-00:00", end_date="2025-03-31-00:00", timezone="Europe/Berlin"
    )
    keys = hours_def.get_partition_keys()
    assert len(keys) == 23
    assert keys[:3] == ["2025-03-30-00:00", "2025-03-30-01:00", "2025-03-30-03:00"]
    assert not hours_def.has_partition_key("2025-03-30-02:00")
    assert all(hours(hours_def.time_window_for_partition_key(k)) == 1 for k in keys)


def test_hourly_fall_back_day_keys_the_repeated_hour_with_its_utc_offset() -> None:
    hours_def = HourlyPartitionsDefinition(
        "2025-10-26-00:00", end_date="2025-10-27-00:00", timezone="Europe/Berlin"
    )
    keys = hours_def.get_partition_keys()
    assert len(keys) == 25
    assert keys[1:5] == [
        "2025-10-26-01:00",
        "2025-10-26-02:00+02:00",
        "2025-10-26-02:00+01:00",
        "2025-10-26-03:00",
    ]
    first, second = (hours_def.time_window_for_partition_key(k) for k in keys[2:4])
    assert first.start.timestamp() == datetime(2025, 10, 26, 0, tzinfo=UTC).timestamp()
    assert second.start.timestamp() == datetime(2025, 10, 26, 1, tzinfo=UTC).timestamp()
    assert hours_def.key_to_index(keys[3]) == hours_def.key_to_index(keys[2]) + 1


def test_hourly_fall_back_in_new_york_uses_negative_offsets() -> None:
    hours_def = HourlyPartitionsDefinition(
        "2025-11-02-00:00", end_date="2025-11-02-03:00", timezone="America/New_York"
    )
    assert hours_def.get_partition_keys() == [
        "2025-11-02-00:00",
        "2025-11-02-01:00-04:00",
        "2025-11-02-01:00-05:00",
        "2025-11-02-02:00",
    ]


def test_repeated_hour_without_offset_is_rejected_with_a_hint() -> None:
    hours_def = HourlyPartitionsDefinition(
        "2025-10-26-00:00", end_date="2025-10-27-00:00", timezone="Europe/Berlin"
    )
    with pytest.raises(PartitionKeyError) as err:
        hours_def.validate_partition_key("2025-10-26-02:00")
    assert "'2025-10-26-02:00+02:00' or '2025-10-26-02:00+01:00'" in str(err.value)
    assert not hours_def.has_partition_key("2025-10-26-03:00+01:00")  # offsets only where needed


def test_hourly_with_offset_in_fmt_needs_no_suffix() -> None:
    hours_def = HourlyPartitionsDefinition(
        "2025-10-26-00:00", end_date="2025-10-26-04:00", timezone="Europe/Berlin", fmt="%Y-%m-%dT%H:%M%z"
    )
    assert hours_def.get_partition_keys()[2:4] == ["2025-10-26T02:00+0200", "2025-10-26T02:00+0100"]


def test_hourly_in_half_hour_offset_zone_starts_at_local_full_hours() -> None:
    hours_def = HourlyPartitionsDefinition(
        "2025-01-01-00:00", end_date="2025-01-01-03:00", timezone="Asia/Kolkata"
    )
    window = hours_def.time_window_for_partition_key("2025-01-01-01:00")
    assert (window.start.hour, window.start.minute, window.end.hour) == (1, 0, 2)
    assert hours_def.get_num_partitions() == 3


# -- time helpers ----------------------------------------------------------------------------------


def test_time_window_is_aware_in_the_definition_timezone() -> None:
    days = DailyPartitionsDefinition("2025-01-01", timezone="Europe/Berlin")
    assert days.time_window_for_partition_key("2025-01-02") == TimeWindow(
        datetime(2025, 1, 2, tzinfo=BERLIN), datetime(2025, 1, 3, tzinfo=BERLIN)
    )


def test_daily_hour_offset_shifts_window_start_not_key() -> None:
    days = DailyPartitionsDefinition("2025-01-01", hour_offset=6, minute_offset=30)
    window = days.time_window_for_partition_key("2025-01-02")
    assert window.start == datetime(2025, 1, 2, 6, 30, tzinfo=UTC)
    assert days.partition_key_for_time(datetime(2025, 1, 3, 6, 29, tzinfo=UTC)) == "2025-01-02"


def test_partition_key_for_time_converts_timezones() -> None:
    days = DailyPartitionsDefinition("2025-01-01", timezone="America/New_York")
    assert days.partition_key_for_time(datetime(2025, 3, 5, 2, tzinfo=UTC)) == "2025-03-04"
    with pytest.raises(PartitionKeyError, match="no partition"):
        days.partition_key_for_time(datetime(2024, 12, 31, 12, tzinfo=NEW_YORK))


def test_get_partition_keys_in_range_is_inclusive() -> None:
    days = DailyPartitionsDefinition("2025-01-01", end_date="2025-02-01")
    assert days.get_partition_keys_in_range("2025-01-30", "2025-01-31") == ["2025-01-30", "2025-01-31"]
    with pytest.raises(PartitionKeyError, match="reversed"):
        days.get_partition_keys_in_range("2025-01-31", "2025-01-30")
    with pytest.raises(PartitionKeyError, match="2025-02-01"):
        days.get_partition_keys_in_range("2025-01-30", "2025-02-01")


def test_time_window_of_a_key_range_spans_first_start_to_last_end() -> None:
    days = DailyPartitionsDefinition("2025-01-01")
    assert days.time_window_for_partition_key_range("2025-01-03", "2025-01-05") == TimeWindow(
        datetime(2025, 1, 3, tzinfo=UTC), datetime(2025, 1, 6, tzinfo=UTC)
    )


def test_index_range_for_time_window_covers_overlapping_windows() -> None:
    days = DailyPartitionsDefinition("2025-01-01")
    o = date(2025, 1, 3).toordinal()
    assert days.index_range_for_time_window(datetime(2025, 1, 3, 12), datetime(2025, 1, 5)) == (o, o + 2)
    assert days.index_range_for_time_window(datetime(2025, 1, 3), datetime(2025, 1, 3)) == (o, o)


# -- validation and messages -----------------------------------------------------------------------


def test_unknown_partition_key_error_names_the_key() -> None:
    days = DailyPartitionsDefinition("2025-01-01")
    with pytest.raises(PartitionKeyError) as err:
        days.validate_partition_key("2025-13-01", current_time=datetime(2026, 1, 1))
    assert str(err.value) == (
        "partition key '2025-13-01' is not in DailyPartitionsDefinition(start_date='2025-01-01'): "
        "expected a date 'YYYY-MM-DD' from 2025-01-01 to 2025-12-31"
    )
    assert isinstance(err.value, KeyError)


@pytest.mark.parametrize(
    "key", ["2025-1-5", "2025-01-05T00:00", "20250105", "2024-12-31", "2025-02-01", "", None, 5]
)
def test_malformed_or_out_of_range_daily_keys_are_not_partitions(key: object) -> None:
    days = DailyPartitionsDefinition("2025-01-01", end_date="2025-02-01")
    assert not days.has_partition_key(key)  # type: ignore[arg-type]
    with pytest.raises(PartitionKeyError, match="from 2025-01-01 to 2025-01-31"):
        days.validate_partition_key(key)  # type: ignore[arg-type]


def test_weekly_and_monthly_keys_must_be_window_starts() -> None:
    weeks = WeeklyPartitionsDefinition("2025-01-05")
    months = MonthlyPartitionsDefinition("2025-01-01")
    with pytest.raises(PartitionKeyError, match=r"week start \(Sunday\)"):
        weeks.key_to_index("2025-01-07")
    with pytest.raises(PartitionKeyError, match="first day of a month"):
        months.key_to_index("2025-02-15")


def test_error_for_a_definition_without_complete_windows_says_so() -> None:
    days = DailyPartitionsDefinition("2025-06-15")
    with pytest.raises(PartitionKeyError, match="no window is complete yet"):
        days.validate_partition_key("2025-06-15", current_time=NOW)


@pytest.mark.parametrize(
    "build",
    [
        lambda: DailyPartitionsDefinition("not a date"),
        lambda: DailyPartitionsDefinition("2025-01-01", timezone="Mars/Olympus"),
        lambda: DailyPartitionsDefinition("2025-01-01", hour_offset=24),
        lambda: MonthlyPartitionsDefinition("2025-01-01", day_offset=31),
        lambda: TimeWindowPartitionsDefinition(cron_schedule="every day", start="2025-01-01", fmt="%Y-%m-%d"),
        lambda: TimeWindowPartitionsDefinition(cron_schedule="0 0 * * *", start="2025-01-01", fmt="plain"),
    ],
)
def test_bad_arguments_raise_definition_errors(build: object) -> None:
    with pytest.raises(DefinitionError):
        build()  # type: ignore[operator]


# -- value semantics -------------------------------------------------------------------------------


def test_definitions_with_same_arguments_are_equal() -> None:
    assert DailyPartitionsDefinition("2025-01-01") == DailyPartitionsDefinition("2025-01-01")
    assert hash(DailyPartitionsDefinition("2025-01-01")) == hash(DailyPartitionsDefinition(date(2025, 1, 1)))
    assert DailyPartitionsDefinition("2025-01-01") != DailyPartitionsDefinition("2025-01-02")
    assert DailyPartitionsDefinition("2025-01-01") != DailyPartitionsDefinition(
        "2025-01-01", timezone="Europe/Berlin"
    )
    assert DailyPartitionsDefinition("2025-01-01") != WeeklyPartitionsDefinition("2025-01-01")


def test_daily_equals_the_generic_definition_of_its_cron() -> None:
    generic = TimeWindowPartitionsDefinition(cron_schedule="@daily", start="2025-01-01", fmt="%Y-%m-%d")
    assert generic == DailyPartitionsDefinition("2025-01-01")
    assert generic.index_space_id == "daily|UTC|%Y-%m-%d"


def test_repr_shows_the_arguments_given() -> None:
    assert (
        repr(DailyPartitionsDefinition("2025-01-01")) == "DailyPartitionsDefinition(start_date='2025-01-01')"
    )
    assert repr(HourlyPartitionsDefinition(date(2025, 1, 1), timezone="Europe/Berlin", end_offset=1)) == (
        "HourlyPartitionsDefinition(start_date='2025-01-01', timezone='Europe/Berlin', end_offset=1)"
    )
    assert "cron_schedule='0 */6 * * *'" in repr(
        TimeWindowPartitionsDefinition(cron_schedule="0 */6 * * *", start="2025-01-01", fmt="%Y-%m-%d-%H")
    )


@pytest.mark.parametrize("partitions_def", SWEEP, ids=repr)
def test_definitions_survive_pickling(partitions_def: TimeWindowPartitionsDefinition) -> None:
    copy = pickle.loads(pickle.dumps(partitions_def))
    assert copy == partitions_def
    assert copy.get_partition_keys(current_time=NOW) == partitions_def.get_partition_keys(current_time=NOW)


def test_importing_and_building_periodic_partitions_does_not_import_croniter() -> None:
    code = (
        "import sys\n"
        "from deras._defs.partition_mapping import default_partition_mapping\n"
        "from deras._defs.periodic_partitions import DailyPartitionsDefinition, HourlyPartitionsDefinition\n"
        "DailyPartitionsDefinition('2025-01-01', timezone='Europe/Berlin').get_num_partitions()\n"
        "HourlyPartitionsDefinition('2025-01-01-00:00').get_partition_keys()\n"
        "assert 'croniter' not in sys.modules, 'croniter imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": "src"}, cwd=_repo_root())


def _repo_root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2])
