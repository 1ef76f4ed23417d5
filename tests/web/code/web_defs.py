"""Definitions the web tests serve: asset groups, a partitioned asset, checks (one failing), a
job, a DAG with a task group, a schedule and a sensor."""

from datetime import datetime

import deras as dg

daily = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-01-11")


@dg.asset(group_name="prices", description="raw prices", tags={"dagster/kind/python": ""})
def raw_prices(context: dg.AssetExecutionContext) -> list[int]:
    context.log.info("fetched 3 prices")
    return [1, 2, 3]


@dg.asset(group_name="prices")
def clean_prices(context: dg.AssetExecutionContext, raw_prices: list[int]) -> list[int]:
    context.add_output_metadata({"rows": len(raw_prices)})
    return [p * 2 for p in raw_prices]


@dg.asset(group_name="reports")
def report(clean_prices) -> str:
    raise ValueError("the report template is missing")


@dg.asset(group_name="reports", partitions_def=daily)
def daily_summary(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


@dg.asset_check(asset=clean_prices, description="no negative prices")
def prices_positive(clean_prices) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=all(p > 0 for p in clean_prices))


@dg.asset_check(asset=raw_prices)
def raw_has_ten_rows(raw_prices) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=len(raw_prices) >= 10, metadata={"rows": len(raw_prices)})


prices_job = dg.define_asset_job("prices_job", selection=["raw_prices", "clean_prices"])
daily_job = dg.define_asset_job("daily_job", selection=["daily_summary"], partitions_def=daily)


@dg.dag(schedule="@daily", start_date=datetime(2025, 1, 1), catchup=False, tags=["etl"])
def etl():
    @dg.task
    def extract() -> list[int]:
        return [1, 2, 3]

    with dg.TaskGroup("work"):

        @dg.task
        def transform(rows: list[int]) -> list[int]:
            return [r * 2 for r in rows]

    @dg.task
    def load(rows) -> None:
        print(f"loaded {len(rows)} rows")

    load(transform(extract()))


etl_dag = etl()

nightly = dg.ScheduleDefinition(name="nightly", job=prices_job, cron_schedule="0 2 * * *")


@dg.sensor(job=prices_job, minimum_interval_seconds=60)
def new_files(context: dg.SensorEvaluationContext):
    return dg.SkipReason("no new files")


defs = dg.Definitions(
    assets=[raw_prices, clean_prices, report, daily_summary],
    asset_checks=[prices_positive, raw_has_ten_rows],
    jobs=[prices_job, daily_job],
    dags=[etl_dag],
    schedules=[nightly],
    sensors=[new_files],
)
