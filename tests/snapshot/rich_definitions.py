"""A code location using most kinds of definition, for snapshot and code server tests."""

from datetime import datetime

import deras as dg

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-03-01")
regions = dg.StaticPartitionsDefinition(["eu", "us"])


@dg.asset(
    group_name="raw",
    partitions_def=daily,
    tags={"deras/kind/csv": ""},
    owners=["ana@example.com"],
    metadata={"rows": 10, "source": "vendor"},
    code_version="3",
)
def prices(context):
    return 1


@dg.asset(group_name="raw", partitions_def=regions)
def regional(context):
    return 1


@dg.asset(partitions_def=daily, automation_condition=dg.AutomationCondition.eager())
def summary(prices):
    return prices


@dg.asset_check(asset=prices, blocking=True, description="positive")
def positive(prices):
    return dg.AssetCheckResult(passed=True)


vendor = dg.AssetSpec("vendor/raw", description="outside deras")


@dg.asset(deps=[vendor])
def cleaned():
    return 1


prices_job = dg.define_asset_job("prices_job", selection=["prices", "summary"], partitions_def=daily)
nightly = dg.ScheduleDefinition(job=prices_job, cron_schedule="0 2 * * *", execution_timezone="Europe/Berlin")

with dg.DAG(
    "etl",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    end_date=datetime(2024, 2, 1),
    tags=["team-a"],
    params={"limit": dg.Param(5, type="integer")},
) as etl:
    extract = dg.EmptyOperator(task_id="extract")
    with dg.TaskGroup("load"):
        load = dg.EmptyOperator(task_id="rows", outlets=["etl_rows"], retries=2)
    extract >> dg.Label("rows to load") >> load


@dg.sensor(job=prices_job, minimum_interval_seconds=60)
def new_files(context):
    """Watch the vendor's folder."""
    return []


@dg.asset_sensor(asset_key="prices", job_name="etl")
def on_prices(context, asset_event):
    return []


defs = dg.Definitions(
    assets=[prices, regional, summary, vendor, cleaned],
    asset_checks=[positive],
    jobs=[prices_job],
    schedules=[nightly],
    sensors=[new_files, on_prices],
    dags=[etl],
)
