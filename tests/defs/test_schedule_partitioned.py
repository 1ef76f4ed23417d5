"""``build_schedule_from_partitioned_job``: a tick per time partition, requesting it once complete."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import deras as dg

BERLIN = ZoneInfo("Europe/Berlin")


def job_of(partitions_def: object, name: str = "prices") -> object:
    return dg.define_asset_job(name, partitions_def=partitions_def)


def partitions_at(schedule: dg.ScheduleDefinition, when: datetime) -> list[str | None]:
    result = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when))
    return [r.partition_key for r in result.run_requests]


def test_daily_job_runs_at_midnight_for_the_day_that_ended() -> None:
    s = dg.build_schedule_from_partitioned_job(job_of(dg.DailyPartitionsDefinition("2025-01-01")))
    assert (s.name, s.cron_schedule, s.execution_timezone, s.job_name) == (
        "prices_schedule",
        "0 0 * * *",
        "UTC",
        "prices",
    )
    assert partitions_at(s, datetime(2025, 3, 2, tzinfo=UTC)) == ["2025-03-01"]
    (request,) = s.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=datetime(2025, 3, 2, tzinfo=UTC))
    ).run_requests
    assert (request.job_name, request.run_key) == ("prices", None)


def test_offsets_move_the_tick_later_and_still_request_the_complete_partition() -> None:
    job = job_of(dg.DailyPartitionsDefinition("2025-01-01"))
    s = dg.build_schedule_from_partitioned_job(job, hour_of_day=3, minute_of_hour=15, name="late")
    assert (s.name, s.cron_schedule) == ("late", "15 3 * * *")
    assert partitions_at(s, datetime(2025, 3, 2, 3, 15, tzinfo=UTC)) == ["2025-03-01"]


def test_partition_offsets_are_kept_unless_overridden() -> None:
    days = dg.DailyPartitionsDefinition("2025-01-01", hour_offset=6, minute_offset=30)
    assert dg.build_schedule_from_partitioned_job(job_of(days)).cron_schedule == "30 6 * * *"
    assert dg.build_schedule_from_partitioned_job(job_of(days), hour_of_day=7).cron_schedule == "30 7 * * *"


def test_the_schedule_ticks_in_the_partitions_timezone() -> None:
    days = dg.DailyPartitionsDefinition("2025-01-01", timezone="Europe/Berlin")
    s = dg.build_schedule_from_partitioned_job(job_of(days))
    assert s.execution_timezone == "Europe/Berlin"
    ticks = s.tick_times_between(datetime(2025, 3, 29, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    assert [t.isoformat() for t in ticks] == [
        "2025-03-30T00:00:00+01:00",
        "2025-03-31T00:00:00+02:00",
        "2025-04-01T00:00:00+02:00",
    ]
    assert [partitions_at(s, t) for t in ticks] == [["2025-03-29"], ["2025-03-30"], ["2025-03-31"]]


def test_weekly_and_monthly_jobs_take_their_day_offsets() -> None:
    weekly = dg.build_schedule_from_partitioned_job(
        job_of(dg.WeeklyPartitionsDefinition("2025-01-05")), day_of_week=1, hour_of_day=2
    )
    assert weekly.cron_schedule == "0 2 * * 1"
    assert partitions_at(weekly, datetime(2025, 1, 13, 2, tzinfo=UTC)) == ["2025-01-05"]
    monthly = dg.build_schedule_from_partitioned_job(
        job_of(dg.MonthlyPartitionsDefinition("2025-01-01")), day_of_month=3
    )
    assert monthly.cron_schedule == "0 0 3 * *"
    assert partitions_at(monthly, datetime(2025, 3, 3, tzinfo=UTC)) == ["2025-02-01"]


def test_hourly_job_requests_both_repeated_hours_at_the_tick_after_a_fall_back() -> None:
    hours = dg.HourlyPartitionsDefinition("2025-10-25-00:00", timezone="Europe/Berlin")
    s = dg.build_schedule_from_partitioned_job(job_of(hours))
    ticks = s.tick_times_between(
        datetime(2025, 10, 25, 22, 30, tzinfo=UTC), datetime(2025, 10, 26, 3, 30, tzinfo=UTC)
    )
    # The repeated 02:00 fires once (the DST policy), so the tick after it makes up for it.
    assert [(t.isoformat(), partitions_at(s, t)) for t in ticks] == [
        ("2025-10-26T01:00:00+02:00", ["2025-10-26-00:00"]),
        ("2025-10-26T02:00:00+02:00", ["2025-10-26-01:00"]),
        ("2025-10-26T03:00:00+01:00", ["2025-10-26-02:00+02:00", "2025-10-26-02:00+01:00"]),
        ("2025-10-26T04:00:00+01:00", ["2025-10-26-03:00"]),
    ]


def test_a_time_that_is_not_a_tick_requests_the_last_complete_partition() -> None:
    s = dg.build_schedule_from_partitioned_job(job_of(dg.DailyPartitionsDefinition("2025-01-01")))
    assert partitions_at(s, datetime(2025, 3, 2, 17, 45, tzinfo=UTC)) == ["2025-03-01"]


def test_before_the_first_partition_is_complete_the_tick_skips() -> None:
    s = dg.build_schedule_from_partitioned_job(job_of(dg.DailyPartitionsDefinition("2025-01-01")))
    result = s.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=datetime(2025, 1, 1, tzinfo=UTC))
    )
    assert result.run_requests == []
    assert result.skip_reason is not None and "no partition of" in result.skip_reason


def test_after_the_end_ticks_skip() -> None:
    days = dg.DailyPartitionsDefinition("2025-01-01", end_date="2025-01-10")
    s = dg.build_schedule_from_partitioned_job(job_of(days))
    assert partitions_at(s, datetime(2025, 1, 10, tzinfo=UTC)) == ["2025-01-09"]
    assert partitions_at(s, datetime(2025, 1, 5, tzinfo=UTC)) == ["2025-01-04"]  # not the future ones
    later = s.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=datetime(2025, 2, 1, tzinfo=UTC))
    )
    assert later.run_requests == [] and "since the previous tick" in str(later.skip_reason)


def test_the_partitions_may_come_from_the_selected_assets() -> None:
    @dg.asset(partitions_def=dg.DailyPartitionsDefinition("2025-01-01"))
    def prices() -> int:
        return 1

    s = dg.build_schedule_from_partitioned_job(dg.define_asset_job("from_assets", selection=[prices]))
    assert partitions_at(s, datetime(2025, 3, 2, tzinfo=UTC)) == ["2025-03-01"]


def test_schedule_options_are_passed_on() -> None:
    s = dg.build_schedule_from_partitioned_job(
        job_of(dg.DailyPartitionsDefinition("2025-01-01")),
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={"team": "prices"},
    )
    assert s.default_status is dg.DefaultScheduleStatus.RUNNING
    assert partitions_at(s, datetime(2025, 3, 2, tzinfo=UTC)) == ["2025-03-01"]
    when = datetime(2025, 3, 2, tzinfo=UTC)
    assert s.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when)).run_requests[0].tags == {
        "team": "prices"
    }


@pytest.mark.parametrize(
    "partitions_def",
    [dg.StaticPartitionsDefinition(["eu", "us"]), dg.DynamicPartitionsDefinition("files")],
)
def test_static_and_dynamic_partitions_cannot_be_scheduled_by_time(partitions_def: object) -> None:
    with pytest.raises(dg.DefinitionError, match="have no time to schedule by") as err:
        dg.build_schedule_from_partitioned_job(job_of(partitions_def))
    assert "job 'prices'" in str(err.value)


def test_unpartitioned_jobs_are_refused_with_a_fix() -> None:
    with pytest.raises(
        dg.DefinitionError, match=r"resolved when Definitions are built. Fix: define_asset_job"
    ):
        dg.build_schedule_from_partitioned_job(dg.define_asset_job("all", selection="group:prices"))

    @dg.asset
    def plain() -> int:
        return 1

    with pytest.raises(dg.DefinitionError, match="none of its assets is partitioned"):
        dg.build_schedule_from_partitioned_job(dg.define_asset_job("plain_job", selection=[plain]))


def test_a_dag_is_refused() -> None:
    with dg.DAG("etl", schedule=None) as etl:
        dg.EmptyOperator(task_id="start")
    with pytest.raises(dg.DefinitionError, match="DAG 'etl' is not a partitioned asset job"):
        dg.build_schedule_from_partitioned_job(etl)


@pytest.mark.parametrize(
    ("partitions_def", "kwargs", "message"),
    [
        (
            dg.HourlyPartitionsDefinition("2025-01-01-00:00"),
            {"hour_of_day": 1},
            "hour_of_day= does not apply to hourly",
        ),
        (
            dg.DailyPartitionsDefinition("2025-01-01"),
            {"day_of_week": 1},
            "day_of_week= does not apply to daily",
        ),
        (
            dg.WeeklyPartitionsDefinition("2025-01-05"),
            {"day_of_month": 1},
            "day_of_month= does not apply to weekly",
        ),
        (
            dg.MonthlyPartitionsDefinition("2025-01-01"),
            {"day_of_week": 1},
            "day_of_week= does not apply to monthly",
        ),
        (
            dg.DailyPartitionsDefinition("2025-01-01"),
            {"minute_of_hour": 60},
            "minute_of_hour=60 must be an integer from 0 to 59",
        ),
        (
            dg.TimeWindowPartitionsDefinition(
                cron_schedule="0 */6 * * *", start="2025-01-01-00:00", fmt="%Y-%m-%d-%H:%M"
            ),
            {"minute_of_hour": 5},
            "does not apply to partitions on the cron '0 \\*/6 \\* \\* \\*'",
        ),
    ],
)
def test_offsets_that_do_not_fit_the_partitions_are_refused(
    partitions_def: object, kwargs: dict[str, int], message: str
) -> None:
    with pytest.raises(dg.DefinitionError, match=message):
        dg.build_schedule_from_partitioned_job(job_of(partitions_def), **kwargs)  # type: ignore[arg-type]


def test_any_cron_partitions_are_scheduled_on_their_cron() -> None:
    every_6h = dg.TimeWindowPartitionsDefinition(
        cron_schedule="0 */6 * * *", start="2025-01-01-00:00", fmt="%Y-%m-%d-%H:%M"
    )
    s = dg.build_schedule_from_partitioned_job(job_of(every_6h))
    assert s.cron_schedule == "0 */6 * * *"
    assert partitions_at(s, datetime(2025, 1, 2, 12, tzinfo=UTC)) == ["2025-01-02-06:00"]


def test_end_offset_requests_the_partition_in_progress() -> None:
    days = dg.DailyPartitionsDefinition("2025-01-01", end_offset=1)
    s = dg.build_schedule_from_partitioned_job(job_of(days))
    assert partitions_at(s, datetime(2025, 3, 2, tzinfo=UTC)) == ["2025-03-02"]
