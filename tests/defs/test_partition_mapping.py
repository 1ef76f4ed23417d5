"""Partition mappings: which upstream keys each downstream key reads, and when a mapping does not fit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deras._core.errors import DefinitionError
from deras._defs.partition_mapping import (
    AllPartitionMapping,
    IdentityPartitionMapping,
    LastPartitionMapping,
    PartitionMapping,
    StaticPartitionMapping,
    TimeWindowPartitionMapping,
    default_partition_mapping,
)
from deras._defs.partitions import DynamicPartitionsDefinition, StaticPartitionsDefinition
from deras._defs.periodic_partitions import (
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from deras._defs.time_partitions import TimeWindowPartitionsDefinition

DAYS = DailyPartitionsDefinition("2025-01-01", end_date="2026-01-01")
HOURS = HourlyPartitionsDefinition("2025-01-01-00:00", end_date="2026-01-01-00:00")
REGIONS = StaticPartitionsDefinition(["eu", "us", "apac"])
PREVIOUS = TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)


# -- identity ------------------------------------------------------------------------------------


def test_identity_maps_each_key_to_itself() -> None:
    assert IdentityPartitionMapping().upstream_keys_for(["us", "eu"], REGIONS, REGIONS) == ["eu", "us"]
    assert IdentityPartitionMapping().validate(REGIONS, REGIONS) is None


def test_identity_drops_keys_the_upstream_lacks() -> None:
    later_days = DailyPartitionsDefinition("2025-01-02", end_date="2026-01-01")
    assert IdentityPartitionMapping().upstream_keys_for(["2025-01-01", "2025-01-02"], DAYS, later_days) == [
        "2025-01-02"
    ]
    assert IdentityPartitionMapping().validate(DAYS, later_days) is None  # same index space


def test_identity_between_static_definitions_with_different_keys_is_a_problem() -> None:
    upstream = StaticPartitionsDefinition(["eu", "us"])
    problem = IdentityPartitionMapping().validate(REGIONS, upstream)
    assert problem is not None and "'apac'" in problem and "lacks" in problem
    assert IdentityPartitionMapping().validate(upstream, REGIONS) is None  # the upstream may have more keys
    assert IdentityPartitionMapping().upstream_keys_for(["apac", "us"], REGIONS, upstream) == ["us"]


def test_identity_between_different_time_partitionings_suggests_time_window_mapping() -> None:
    problem = IdentityPartitionMapping().validate(DAYS, HOURS)
    assert problem is not None and "use TimeWindowPartitionMapping" in problem


def test_identity_with_unpartitioned_sides() -> None:
    assert IdentityPartitionMapping().validate(None, REGIONS) is not None
    assert "not partitioned" in (IdentityPartitionMapping().validate(REGIONS, None) or "")
    assert IdentityPartitionMapping().upstream_keys_for(["eu"], REGIONS, None) == []
    with pytest.raises(DefinitionError, match="AllPartitionMapping"):
        IdentityPartitionMapping().upstream_keys_for(None, None, REGIONS)


# -- time windows --------------------------------------------------------------------------------


def test_default_time_window_mapping_is_the_same_window() -> None:
    assert TimeWindowPartitionMapping().upstream_keys_for(["2025-03-04"], DAYS, DAYS) == ["2025-03-04"]


def test_previous_partition_mapping_reads_the_day_before() -> None:
    assert PREVIOUS.upstream_keys_for(["2025-03-04"], DAYS, DAYS) == ["2025-03-03"]


def test_previous_partition_mapping_of_first_day_is_empty() -> None:
    assert PREVIOUS.upstream_keys_for(["2025-01-01"], DAYS, DAYS) == []


def test_start_offset_widens_the_window() -> None:
    two_days = TimeWindowPartitionMapping(start_offset=-1, end_offset=0)
    assert two_days.upstream_keys_for(["2025-03-04"], DAYS, DAYS) == ["2025-03-03", "2025-03-04"]
    assert two_days.upstream_keys_for(["2025-01-01"], DAYS, DAYS) == ["2025-01-01"]


def test_mapping_several_downstream_keys_unions_their_windows() -> None:
    keys = ["2025-03-04", "2025-03-05", "2025-03-09"]
    assert PREVIOUS.upstream_keys_for(keys, DAYS, DAYS) == ["2025-03-03", "2025-03-04", "2025-03-08"]


def test_daily_downstream_of_hourly_upstream_reads_the_24_hours() -> None:
    keys = TimeWindowPartitionMapping().upstream_keys_for(["2025-03-04"], DAYS, HOURS)
    assert len(keys) == 24
    assert (keys[0], keys[-1]) == ("2025-03-04-00:00", "2025-03-04-23:00")


def test_daily_downstream_of_hourly_upstream_on_a_dst_day_reads_23_hours() -> None:
    days = DailyPartitionsDefinition("2025-01-01", end_date="2026-01-01", timezone="Europe/Berlin")
    hours = HourlyPartitionsDefinition(
        "2025-01-01-00:00", end_date="2026-01-01-00:00", timezone="Europe/Berlin"
    )
    assert len(TimeWindowPartitionMapping().upstream_keys_for(["2025-03-30"], days, hours)) == 23
    assert len(TimeWindowPartitionMapping().upstream_keys_for(["2025-10-26"], days, hours)) == 25


def test_hourly_downstream_of_daily_upstream_reads_its_day() -> None:
    assert TimeWindowPartitionMapping().upstream_keys_for(["2025-03-04-13:00"], HOURS, DAYS) == ["2025-03-04"]
    assert PREVIOUS.upstream_keys_for(["2025-03-04-00:00"], HOURS, DAYS) == ["2025-03-03"]


def test_coarser_and_finer_calendar_windows_map_by_overlap() -> None:
    weeks = WeeklyPartitionsDefinition("2025-01-05", end_date="2026-01-04")
    months = MonthlyPartitionsDefinition("2025-01-01", end_date="2026-01-01")
    week_days = TimeWindowPartitionMapping().upstream_keys_for(["2025-03-02"], weeks, DAYS)
    assert week_days == [f"2025-03-0{d}" for d in range(2, 9)]
    assert TimeWindowPartitionMapping().upstream_keys_for(["2025-03-31"], DAYS, months) == ["2025-03-01"]
    assert TimeWindowPartitionMapping().upstream_keys_for(["2025-03-01"], months, weeks) == [
        "2025-02-23",
        "2025-03-02",
        "2025-03-09",
        "2025-03-16",
        "2025-03-23",
        "2025-03-30",
    ]


def test_windows_in_other_timezones_map_by_overlap() -> None:
    berlin_days = DailyPartitionsDefinition("2025-01-01", end_date="2026-01-01", timezone="Europe/Berlin")
    # The Berlin day 2025-03-04 is 23:00 UTC on the 3rd to 23:00 UTC on the 4th.
    assert TimeWindowPartitionMapping().upstream_keys_for(["2025-03-04"], berlin_days, DAYS) == [
        "2025-03-03",
        "2025-03-04",
    ]


def test_upstream_keys_after_now_are_dropped() -> None:
    upstream = DailyPartitionsDefinition("2025-01-01")
    downstream = DailyPartitionsDefinition("2025-01-01", end_offset=1)
    next_day = TimeWindowPartitionMapping(start_offset=0, end_offset=1)
    now = datetime(2025, 3, 5, 12, tzinfo=UTC)
    assert next_day.upstream_keys_for(["2025-03-03"], downstream, upstream, current_time=now) == [
        "2025-03-03",
        "2025-03-04",
    ]
    assert next_day.upstream_keys_for(["2025-03-04"], downstream, upstream, current_time=now) == [
        "2025-03-04"
    ]


def test_generic_cron_windows_map_to_days() -> None:
    six_hourly = TimeWindowPartitionsDefinition(
        cron_schedule="0 */6 * * *", start="2025-01-01-00:00", fmt="%Y-%m-%d-%H:%M", end="2025-02-01-00:00"
    )
    assert TimeWindowPartitionMapping().upstream_keys_for(["2025-01-03"], DAYS, six_hourly) == [
        "2025-01-03-00:00",
        "2025-01-03-06:00",
        "2025-01-03-12:00",
        "2025-01-03-18:00",
    ]
    assert PREVIOUS.upstream_keys_for(["2025-01-01-00:00"], six_hourly, six_hourly) == []


def test_time_window_mapping_between_non_time_definitions_is_a_problem() -> None:
    problem = TimeWindowPartitionMapping().validate(REGIONS, DAYS)
    assert problem is not None and "time-window partitions on both sides" in problem and "Static" in problem
    assert TimeWindowPartitionMapping().validate(DAYS, HOURS) is None
    assert TimeWindowPartitionMapping().validate(None, DAYS) is not None
    with pytest.raises(DefinitionError, match="time-window partitions on both sides"):
        TimeWindowPartitionMapping().upstream_keys_for(["eu"], REGIONS, DAYS)


def test_start_offset_after_end_offset_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="start_offset must not exceed end_offset"):
        TimeWindowPartitionMapping(start_offset=0, end_offset=-1)


# -- all and last ----------------------------------------------------------------------------------


def test_all_partition_mapping_reads_every_upstream_key() -> None:
    assert AllPartitionMapping().upstream_keys_for(None, None, REGIONS) == ["eu", "us", "apac"]
    assert AllPartitionMapping().upstream_keys_for(["2025-01-01"], DAYS, REGIONS) == ["eu", "us", "apac"]
    assert AllPartitionMapping().validate(None, REGIONS) is None
    assert AllPartitionMapping().validate(REGIONS, None) is not None


def test_last_partition_mapping_reads_the_latest_key() -> None:
    upstream = DailyPartitionsDefinition("2025-01-01")
    now = datetime(2025, 3, 5, 12, tzinfo=UTC)
    assert LastPartitionMapping().upstream_keys_for(None, None, upstream, current_time=now) == ["2025-03-04"]
    assert LastPartitionMapping().upstream_keys_for(["eu"], REGIONS, upstream, current_time=now) == [
        "2025-03-04"
    ]


def test_last_partition_mapping_of_an_upstream_without_partitions_is_empty() -> None:
    upstream = DailyPartitionsDefinition("2025-01-01")
    assert (
        LastPartitionMapping().upstream_keys_for(None, None, upstream, current_time=datetime(2024, 1, 1))
        == []
    )


# -- static ----------------------------------------------------------------------------------------

UP = StaticPartitionsDefinition(["eu-west", "eu-north", "us-east"])
DOWN = StaticPartitionsDefinition(["eu", "us", "all"])
STATIC = StaticPartitionMapping({"eu-north": "eu", "eu-west": "eu", "us-east": ["us", "all"]})


def test_static_mapping_reads_the_listed_upstream_keys_in_upstream_order() -> None:
    assert STATIC.upstream_keys_for(["eu"], DOWN, UP) == ["eu-west", "eu-north"]
    assert STATIC.upstream_keys_for(["all", "us"], DOWN, UP) == ["us-east"]
    assert STATIC.upstream_keys_for(["us", "eu"], DOWN, UP) == ["eu-west", "eu-north", "us-east"]
    assert STATIC.validate(DOWN, UP) is None


def test_static_mapping_naming_absent_keys_is_a_problem() -> None:
    bad = StaticPartitionMapping({"eu-south": "eu", "us-east": "america"})
    problem = bad.validate(DOWN, UP)
    assert problem is not None
    assert "'eu-south'" in problem and "upstream" in problem
    assert "'america'" in problem and "downstream" in problem
    assert bad.upstream_keys_for(["eu"], DOWN, UP) == []  # absent upstream keys are dropped


def test_static_mapping_can_target_time_keys() -> None:
    by_day = StaticPartitionMapping({"2025-01-01": "new-year", "2025-12-25": "christmas"})
    holidays = StaticPartitionsDefinition(["new-year", "christmas"])
    assert by_day.validate(holidays, DAYS) is None
    assert by_day.upstream_keys_for(["christmas"], holidays, DAYS) == ["2025-12-25"]
    assert "'2025-13-01'" in (
        StaticPartitionMapping({"2025-13-01": "new-year"}).validate(holidays, DAYS) or ""
    )


def test_static_mapping_with_dynamic_keys_is_not_checked_without_a_store() -> None:
    mapping = StaticPartitionMapping({"a.csv": "eu"})
    assert mapping.validate(REGIONS, DynamicPartitionsDefinition(name="files")) is None


def test_static_mappings_compare_by_table() -> None:
    same = StaticPartitionMapping({"us-east": ("all", "us"), "eu-west": "eu", "eu-north": ["eu"]})
    assert same == STATIC and hash(same) == hash(STATIC)
    assert StaticPartitionMapping({"a": "b"}) != StaticPartitionMapping({"a": "c"})
    assert repr(StaticPartitionMapping({"a": "b"})) == "StaticPartitionMapping({'a': 'b'})"


def test_static_mapping_rejects_non_string_keys() -> None:
    with pytest.raises(DefinitionError):
        StaticPartitionMapping({"a": 1})  # type: ignore[dict-item]


# -- defaults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("downstream", "upstream", "expected"),
    [
        (DAYS, HOURS, TimeWindowPartitionMapping()),
        (DAYS, DAYS, TimeWindowPartitionMapping()),
        (REGIONS, REGIONS, IdentityPartitionMapping()),
        (None, REGIONS, AllPartitionMapping()),
        (REGIONS, None, None),
        (None, None, None),
        (REGIONS, DAYS, IdentityPartitionMapping()),
    ],
)
def test_default_partition_mapping(
    downstream: object, upstream: object, expected: PartitionMapping | None
) -> None:
    assert default_partition_mapping(downstream, upstream) == expected  # type: ignore[arg-type]


def test_default_mapping_between_mismatched_definitions_fails_validation() -> None:
    mapping = default_partition_mapping(REGIONS, DAYS)
    assert mapping is not None and mapping.validate(REGIONS, DAYS) is not None


def test_mappings_are_value_objects() -> None:
    assert TimeWindowPartitionMapping(-1, -1) == PREVIOUS
    assert len({IdentityPartitionMapping(), IdentityPartitionMapping(), AllPartitionMapping()}) == 2
    assert repr(PREVIOUS) == "TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)"


def test_is_one_to_one_follows_the_mapping_shape_not_the_keys() -> None:
    import deras as dg

    days = dg.DailyPartitionsDefinition(start_date="2025-01-01")
    hours = dg.HourlyPartitionsDefinition(start_date="2025-01-01-00:00")
    static = dg.StaticPartitionsDefinition(["a", "b"])
    assert dg.IdentityPartitionMapping().is_one_to_one(days, days)
    assert dg.LastPartitionMapping().is_one_to_one(None, days)
    assert dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1).is_one_to_one(days, days)
    assert not dg.TimeWindowPartitionMapping(start_offset=-1).is_one_to_one(days, days)
    assert not dg.TimeWindowPartitionMapping().is_one_to_one(days, hours)
    assert not dg.AllPartitionMapping().is_one_to_one(None, days)
    assert dg.StaticPartitionMapping({"a": "x", "b": "y"}).is_one_to_one(static, static)
    assert not dg.StaticPartitionMapping({"a": "x", "b": "x"}).is_one_to_one(static, static)
