"""Op jobs run by the daemon: a schedule's run config is recorded with the run and reaches the op."""

from __future__ import annotations

from deras._core.status import RunStatus, TickStatus
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.run_worker import execute_stored_run
from deras._daemon.schedule_ticker import ScheduleTicker
from deras._daemon.sensor_runner import SensorRunner
from deras._defs.code_cache import CodeCache

T0 = 1_750_000_020.0  # a multiple of 30 and 60: the start of a sensor's interval slot

CODE = """
import deras as dg

class Greeting(dg.Config):
    name: str
    times: int = 1

@dg.op
def greet(context: dg.OpExecutionContext, config: Greeting) -> str:
    context.log.info("greeting %s", config.name)
    return " ".join([f"hello {config.name}"] * config.times)

@dg.op(ins={"text": dg.In()})
def shout(text: str) -> str:
    return text.upper()

@dg.job(config={"ops": {"greet": {"config": {"times": 2}}}})
def greeting_job():
    shout(greet())

nightly = dg.ScheduleDefinition(
    name="nightly",
    job=greeting_job,
    cron_schedule="0 * * * *",
    run_config={"ops": {"greet": {"config": {"name": "ana"}}}},
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

@dg.sensor(job=greeting_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def bad_config(context):
    return dg.RunRequest(run_key="one", run_config={"ops": {"greet": {"config": {"nam": "x"}}}})

defs = dg.Definitions(jobs=[greeting_job], schedules=[nightly], sensors=[bad_config])
"""


def _context(instance, write_code) -> DaemonContext:
    loaded = write_code(CODE)
    return DaemonContext(instance, loaded.definitions, loaded.location)


def test_a_scheduled_op_job_run_records_its_config_and_runs_with_it(make_instance, write_code):
    instance = make_instance()
    instance.store.ticks.set_status("schedule:nightly", "running", T0)
    ScheduleTicker(_context(instance, write_code)).tick(T0 + 3600 + 1)
    (run,) = instance.store.run_queue.queued_runs()
    # the schedule's config over the job's own: what a worker, a retry or a re-execution reads
    assert run.run_config == {"ops": {"greet": {"config": {"times": 2, "name": "ana"}}}}
    assert run.job_name == "greeting_job"
    assert execute_stored_run(instance, run.run_id, code=CodeCache()) == RunStatus.SUCCESS
    assert "greeting ana" in instance.get_logs(run.run_id)
    events = instance.get_events(run.run_id)
    assert [e.node for e in events if e.event_type == "step_success"] == [
        "greeting_job.greet",
        "greeting_job.shout",
    ]


def test_a_sensor_request_with_invalid_config_fails_its_tick_and_creates_no_run(make_instance, write_code):
    instance = make_instance()
    SensorRunner(_context(instance, write_code)).tick(T0)
    assert instance.get_runs() == []
    (tick,) = instance.store.ticks.get_ticks("sensor:bad_config")
    assert tick.status == TickStatus.FAILURE
    assert "op 'greet': config: missing required field 'name'" in (tick.error or "")
    assert "unknown field 'nam'" in (tick.error or "")


ASSET_CODE = """
import deras as dg

class Size(dg.Config):
    n: int

@dg.asset
def sample(config: Size) -> list[int]:
    return list(range(config.n))

sample_job = dg.define_asset_job(
    "sample_job", selection=[sample], config={"ops": {"sample": {"config": {"n": 3}}}}
)

@dg.schedule("0 * * * *", job=sample_job, default_status=dg.DefaultScheduleStatus.RUNNING)
def hourly(context):
    return dg.RunRequest()

defs = dg.Definitions(assets=[sample], jobs=[sample_job], schedules=[hourly])
"""


def test_an_asset_job_config_reaches_its_asset_through_the_daemon(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(ASSET_CODE)
    instance.store.ticks.set_status("schedule:hourly", "running", T0)
    ScheduleTicker(DaemonContext(instance, loaded.definitions, loaded.location)).tick(T0 + 3600 + 1)
    (run,) = instance.store.run_queue.queued_runs()
    assert run.run_config == {"ops": {"sample": {"config": {"n": 3}}}}
    assert execute_stored_run(instance, run.run_id, code=CodeCache()) == RunStatus.SUCCESS
