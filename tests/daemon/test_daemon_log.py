"""What ``deras daemon run`` logs: a line per tick, run launched or ended, backfill step and
takeover, and nothing while idle. The daemon runs on a fixed clock; ``caplog`` reads its lines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import pytest
from recording_launcher import RecordingLauncher

from deras._cli.log_format import JsonFormatter
from deras._core.status import TickStatus
from deras._daemon.backfill_runner import BackfillRunner
from deras._daemon.daemon import Daemon
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.run_worker import execute_stored_run
from deras._daemon.schedule_ticker import ScheduleTicker
from deras._defs.code_cache import CodeCache

HOUR = 3600.0
T0 = datetime(2025, 1, 6, tzinfo=UTC).timestamp()

CODE = """
import os
import deras as dg

days = dg.DailyPartitionsDefinition("2025-01-01", end_date="2025-01-11")

@dg.asset
def numbers():
    return 1

@dg.asset(partitions_def=days)
def sales(context):
    if context.partition_key == "2025-01-02":
        raise ValueError("bad day")
    return context.partition_key

numbers_job = dg.define_asset_job("numbers_job", selection=["numbers"])
sales_job = dg.define_asset_job("sales_job", selection=["sales"], partitions_def=days)
hourly = dg.ScheduleDefinition(name="hourly", job=numbers_job, cron_schedule="0 * * * *",
                               default_status=dg.DefaultScheduleStatus.RUNNING)

@dg.sensor(job=numbers_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox(context):
    return dg.SkipReason(os.environ.get("INBOX_STATE", "the inbox is empty"))

defs = dg.Definitions(assets=[numbers, sales], jobs=[numbers_job, sales_job], schedules=[hourly],
                      sensors=[inbox])
"""


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture):
    """``lines(level)``: the daemon's log records so far at ``level`` or above, as (level, message, facts)."""
    caplog.set_level(logging.DEBUG, logger="deras")

    def at(level: int = logging.INFO) -> list[tuple[str, str, dict]]:
        return [
            (r.levelname, r.getMessage(), getattr(r, "deras", {}))
            for r in caplog.records
            if r.name.startswith("deras.daemon") and r.levelno >= level
        ]

    return at


def _daemon(instance, loaded, *, take: bool = True) -> Daemon:
    """A daemon whose launcher takes each run like a worker would (``take``), or leaves it."""
    launcher = RecordingLauncher(instance=instance if take else None)
    return Daemon(instance, loaded.definitions, loaded.location, launcher=launcher)


def test_a_schedule_tick_logs_the_run_it_requested_and_its_launch(make_instance, write_code, lines):
    instance = make_instance()
    daemon = _daemon(instance, write_code(CODE))
    daemon.tick(T0 + 10)
    daemon.tick(T0 + HOUR + 1)
    (tick,) = instance.store.ticks.get_ticks("schedule:hourly")
    (run_id,) = tick.run_ids
    info = lines()
    assert (
        "INFO",
        f"schedule hourly tick 2025-01-06T01:00:00+00:00: 1 run(s) requested: {run_id}",
        {
            "event": "tick",
            "instigator": "schedule:hourly",
            "result": "success",
            "run_ids": [run_id],
            "tick_time": "2025-01-06T01:00:00+00:00",
        },
    ) in info
    assert ("INFO", f"launched run {run_id} (job:numbers_job)") in [(lv, m) for lv, m, _ in info]


def test_a_sensor_skipping_for_the_same_reason_says_so_once_then_only_in_debug(
    make_instance, write_code, lines, monkeypatch
):
    instance = make_instance()
    daemon = _daemon(instance, write_code(CODE))
    for i in range(3):
        daemon.tick(T0 + 30 * i)
    skips = [(lv, m) for lv, m, facts in lines(logging.DEBUG) if facts.get("instigator") == "sensor:inbox"]
    assert (
        skips
        == [("INFO", "sensor inbox: skipped: the inbox is empty")]
        + [("DEBUG", "sensor inbox: skipped: the inbox is empty")] * 2
    )
    monkeypatch.setenv("INBOX_STATE", "the inbox is locked")
    daemon.tick(T0 + 90)
    assert lines()[-1][:2] == ("INFO", "sensor inbox: skipped: the inbox is locked")


def test_an_idle_daemon_logs_nothing(make_instance, write_code, lines):
    instance = make_instance()
    daemon = _daemon(instance, write_code(CODE))
    daemon.tick(T0 + 10)
    before = lines()
    for second in range(40, 3000, 30):  # sensor evaluated, nothing due, no run
        daemon.tick(T0 + second)
    assert lines() == before


def test_a_run_ending_is_logged_with_its_status(make_instance, write_code, lines):
    instance = make_instance()
    daemon = _daemon(instance, write_code(CODE), take=False)  # the run is executed here, below
    daemon.tick(T0 + 10)
    daemon.tick(T0 + HOUR + 1)
    (tick,) = instance.store.ticks.get_ticks("schedule:hourly")
    (run_id,) = tick.run_ids
    execute_stored_run(instance, run_id)
    daemon.tick(T0 + HOUR + 2)
    assert (
        "INFO",
        f"run {run_id} ended success (job:numbers_job)",
        {"event": "run_ended", "run_id": run_id, "target": "job:numbers_job", "status": "success"},
    ) in lines()


def test_a_backfill_logs_each_step_it_makes_and_its_end(make_instance, write_code, lines):
    instance = make_instance()
    loaded = write_code(CODE)
    runner = BackfillRunner(DaemonContext(instance, loaded.definitions, loaded.location))
    bid = instance.launch_backfill(
        "sales_job",
        definitions=loaded.definitions,
        code_location=loaded.location,
        partition_range=("2025-01-01", "2025-01-03"),
    )
    runner.tick(T0)
    runner.tick(T0 + 1)  # nothing moved: no line
    code = CodeCache()
    for run in instance.store.run_queue.queued_runs():
        execute_stored_run(instance, run.run_id, code=code)
    runner.tick(T0 + 2)
    assert [m for _, m, _ in lines()] == [
        f"backfill {bid}: 0 of 3 unit(s) done, 0 failed; 3 run(s) queued",
        f"backfill {bid}: 3 of 3 unit(s) done, 1 failed",
        f"backfill {bid} completed_with_failures",
    ]


def _dead_owner() -> str:
    """The owner string of a daemon process on this host that has exited."""
    import socket
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}:dead00"


@pytest.mark.parametrize(
    ("owner", "lease", "why"),
    [("elsewhere:1:abc", 40.0, "its daemon's lease ran out"), (None, 600.0, "its daemon {owner} is gone")],
    ids=["lease ran out", "owner died"],
)
def test_taking_over_a_tick_another_daemon_left_is_a_warning(
    make_instance, write_code, lines, owner, lease, why
):
    instance = make_instance({"daemon": {"evaluation_timeout_seconds": 10}})
    loaded = write_code(CODE)
    owner = owner or _dead_owner()
    instance.store.ticks.set_status("schedule:hourly", None, T0)
    left = instance.store.ticks.claim_tick("schedule:hourly", T0 + HOUR, owner, T0 + HOUR, lease)
    ticker = ScheduleTicker(DaemonContext(instance, loaded.definitions, loaded.location))
    ticker.tick(T0 + HOUR + 41)
    assert instance.store.ticks.get_ticks("schedule:hourly")[0].status == TickStatus.SUCCESS
    assert (
        "WARNING",
        f"took over the unfinished tick {left.id} of schedule:hourly ({why.format(owner=owner)}): "
        "evaluating it again",
        {"event": "takeover", "instigator": "schedule:hourly", "tick_id": left.id},
    ) in lines()


def test_json_lines_carry_the_message_the_facts_and_the_traceback() -> None:
    try:
        raise RuntimeError("the bucket is gone")
    except RuntimeError:
        record = logging.LogRecord(
            "deras.daemon", logging.WARNING, __file__, 1, "tick %s failed", ("x",), sys.exc_info()
        )
    record.deras = {"event": "tick", "run_ids": ["r1"]}
    line = json.loads(JsonFormatter().format(record))
    assert {k: line[k] for k in ("level", "logger", "message", "event", "run_ids")} == {
        "level": "WARNING",
        "logger": "deras.daemon",
        "message": "tick x failed",
        "event": "tick",
        "run_ids": ["r1"],
    }
    assert datetime.fromisoformat(line["time"]).tzinfo is not None
    assert "RuntimeError: the bucket is gone" in line["exc"]
