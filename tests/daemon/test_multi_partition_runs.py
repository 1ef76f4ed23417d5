"""Runs the daemon creates for multi-partitioned assets hand user code a ``MultiPartitionKey``.

Schedules, sensors and backfill units store the key as text; the worker parses it back.
"""

from __future__ import annotations

from deras._core.status import RunStatus
from deras._daemon.backfill_runner import BackfillRunner
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.run_worker import execute_stored_run
from deras._daemon.schedule_ticker import ScheduleTicker
from deras._daemon.sensor_runner import SensorRunner
from deras._defs.code_cache import CodeCache

T0 = 1_750_000_020.0  # a multiple of 30 and 60: the start of a sensor's interval slot

CODE = """
import deras as dg

by_day_region = dg.MultiPartitionsDefinition({
    "date": dg.DailyPartitionsDefinition("2025-01-01", end_date="2025-01-05"),
    "region": dg.StaticPartitionsDefinition(["eu", "us"]),
})

@dg.asset(partitions_def=by_day_region)
def sales(context):
    # A plain string has no keys_by_dimension: the run fails if the key was not parsed.
    return [k.keys_by_dimension["region"] for k in context.partition_keys]

sales_job = dg.define_asset_job("sales_job", selection=[sales], partitions_def=by_day_region)

@dg.schedule("0 * * * *", job=sales_job, default_status=dg.DefaultScheduleStatus.RUNNING)
def hourly(context):
    return dg.RunRequest(partition_key="2025-01-02|us")

@dg.sensor(job=sales_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def watcher(context):
    return dg.RunRequest(run_key="one", partition_key="2025-01-03|eu")

defs = dg.Definitions(assets=[sales], jobs=[sales_job], schedules=[hourly], sensors=[watcher])
"""


def _execute_queued(instance) -> list[RunStatus]:
    code = CodeCache()
    return [execute_stored_run(instance, r.run_id, code=code) for r in instance.store.run_queue.queued_runs()]


def _context(instance, write_code) -> DaemonContext:
    loaded = write_code(CODE)
    return DaemonContext(instance, loaded.definitions, loaded.location)


def _regions(instance) -> list[str]:
    return sorted(str(m.partition) for m in instance.get_materializations("sales"))


def test_a_scheduled_multi_partition_run_gets_a_multi_partition_key(make_instance, write_code):
    instance = make_instance()
    instance.store.ticks.set_status("schedule:hourly", "running", T0)
    ScheduleTicker(_context(instance, write_code)).tick(T0 + 3600 + 1)
    assert _execute_queued(instance) == [RunStatus.SUCCESS]
    assert _regions(instance) == ["2025-01-02|us"]


def test_a_sensor_requested_multi_partition_run_gets_a_multi_partition_key(make_instance, write_code):
    instance = make_instance()
    SensorRunner(_context(instance, write_code)).tick(T0)
    assert _execute_queued(instance) == [RunStatus.SUCCESS]
    assert _regions(instance) == ["2025-01-03|eu"]


def test_backfill_units_of_multi_partitions_get_multi_partition_keys(make_instance, write_code):
    instance = make_instance()
    ctx = _context(instance, write_code)
    instance.launch_backfill(
        "sales_job",
        definitions=ctx.definitions,
        code_location=ctx.location,
        partition_range=("2025-01-01|eu", "2025-01-01|us"),
    )
    BackfillRunner(ctx).tick(T0)
    assert _execute_queued(instance) == [RunStatus.SUCCESS, RunStatus.SUCCESS]
    assert _regions(instance) == ["2025-01-01|eu", "2025-01-01|us"]
