"""``deras schedule``, ``sensor``, ``backfill``, ``runs cancel`` and ``daemon run`` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deras._core.status import RunStatus, TickStatus

CODE = """
import time
from pathlib import Path

import deras as dg

days = dg.DailyPartitionsDefinition("2025-01-01", end_date="2025-01-06")

@dg.asset(partitions_def=days)
def sales(context):
    if context.partition_key == "2025-01-03" and not Path(__file__).with_name("fixed").exists():
        raise ValueError("the vendor file of 2025-01-03 is missing")
    return context.partition_key

@dg.asset
def done():
    return 1

job = dg.define_asset_job("job", selection=["done"])
sales_job = dg.define_asset_job("sales_job", selection=["sales"], partitions_def=days)

jakarta = dg.ScheduleDefinition(
    name="jakarta", job=job, cron_schedule="0 2 * * *", execution_timezone="Asia/Jakarta"
)
hourly = dg.ScheduleDefinition(
    name="hourly", job=job, cron_schedule="0 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)

@dg.sensor(job=job, minimum_interval_seconds=30)
def files(context):
    return dg.RunRequest(run_key="file-1")

@dg.sensor(job=sales_job)
def late_day(context):
    return dg.RunRequest(run_key="late", partition_key="2025-01-02")

@dg.sensor(job=job)
def broken(context):
    raise RuntimeError("the bucket is gone")

@dg.asset
def slow():
    time.sleep(2)
    return 1

slow_job = dg.define_asset_job("slow_job", selection=["slow"])

@dg.sensor(job=slow_job, minimum_interval_seconds=1)
def slow_once(context):
    return dg.RunRequest(run_key="once")

defs = dg.Definitions(
    assets=[sales, done, slow],
    jobs=[job, sales_job, slow_job],
    schedules=[jakarta, hourly],
    sensors=[files, late_day, broken, slow_once],
)
"""

Deras = Callable[..., Any]


@pytest.fixture
def code(tmp_path: Path) -> str:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "deras.yaml").write_text(yaml.safe_dump({"daemon": {"interval_seconds": 0.1}}))
    path = tmp_path / "code.py"
    path.write_text(CODE)
    return str(path)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Any]:
    """The instance the commands use, opened in the test to look at what they did."""
    from deras._instance.instance import DerasInstance

    inst = DerasInstance.get(tmp_path / "home")
    yield inst
    inst.dispose()


def ok(proc: Any) -> Any:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc


def listed(deras: Deras, code: str, kind: str = "schedule") -> dict[str, Any]:
    rows = json.loads(ok(deras(kind, "list", "-f", code, "--json")).stdout)
    return {r["name"]: r for r in rows}


# -- schedules ----------------------------------------------------------------------------------


def test_schedule_list_json_shows_status_next_tick_and_last_tick(
    deras: Deras, code: str, instance: Any
) -> None:
    rows = listed(deras, code)
    assert set(rows) == {"jakarta", "hourly"}
    assert rows["jakarta"]["status"] == "stopped" and rows["hourly"]["status"] == "running"
    assert rows["jakarta"]["next_tick"].endswith("T02:00:00+07:00")
    assert rows["hourly"]["next_tick"].endswith(":00:00+00:00")
    assert rows["jakarta"]["when"] == "0 2 * * * (Asia/Jakarta)"
    assert rows["jakarta"]["last_tick"] is None

    ticks = instance.store.ticks
    tick = ticks.claim_tick("schedule:hourly", 1_750_000_000.0, "me", time.time(), 60)
    ticks.finish_tick(tick.id, TickStatus.SKIPPED, now=time.time(), skip_reason="nothing to do")
    last = listed(deras, code)["hourly"]["last_tick"]
    assert last["status"] == "skipped" and last["skip_reason"] == "nothing to do"
    assert last["time"] == "2025-06-15T15:06:40+00:00"


def test_start_and_stop_are_remembered(deras: Deras, code: str) -> None:
    assert "schedule:jakarta: running" in ok(deras("schedule", "start", "jakarta", "-f", code)).stdout
    ok(deras("schedule", "stop", "schedule:hourly", "-f", code))  # the stored name works too
    ok(deras("sensor", "start", "files", "-f", code))
    rows = listed(deras, code)
    assert rows["jakarta"]["status"] == "running" and rows["hourly"]["status"] == "stopped"
    assert listed(deras, code, "sensor")["files"]["status"] == "running"


def test_schedule_preview_prints_the_next_ticks_in_its_timezone(deras: Deras, code: str) -> None:
    lines = ok(deras("schedule", "preview", "jakarta", "-n", "5", "-f", code)).stdout.split()
    assert len(lines) == 5
    assert all(line.endswith("T02:00:00+07:00") for line in lines)
    days = [line[:10] for line in lines]
    assert days == sorted(set(days))
    as_json = json.loads(ok(deras("schedule", "preview", "jakarta", "-n", "2", "-f", code, "--json")).stdout)
    assert as_json == lines[:2]
    proc = deras("schedule", "preview", "jakarta", "-n", "0", "-f", code)
    assert proc.returncode == 2 and "'-n'" in proc.stderr


@pytest.mark.parametrize("command", [("schedule", "preview"), ("sensor", "tick")])
def test_an_unknown_name_exits_1_naming_the_known_ones(
    deras: Deras, code: str, command: tuple[str, str]
) -> None:
    proc = deras(*command, "nightly", "-f", code)
    assert proc.returncode == 1
    assert "no " in proc.stderr and "'nightly'" in proc.stderr
    known = (
        ["sensor:files", "sensor:broken"]
        if command[0] == "sensor"
        else ["schedule:jakarta", "schedule:hourly"]
    )
    assert all(name in proc.stderr for name in known), proc.stderr


# -- sensors ------------------------------------------------------------------------------------


def test_sensor_tick_runs_the_requested_run_once_per_run_key(deras: Deras, code: str, instance: Any) -> None:
    first = json.loads(ok(deras("sensor", "tick", "files", "-f", code, "--json")).stdout)
    assert first["status"] == "success" and len(first["run_ids"]) == 1
    run_id = first["run_ids"][0]
    assert first["runs"] == {run_id: "success"}
    run = instance.get_run(run_id)
    assert run.status == RunStatus.SUCCESS and run.tags["deras/run_key"] == "file-1"
    assert [a.node for a in instance.get_attempts(run_id)] == ["done"]

    again = json.loads(ok(deras("sensor", "tick", "files", "-f", code, "--json")).stdout)
    assert again["status"] == "skipped" and again["run_ids"] == [] and again["runs"] == {}
    assert "run_key" in again["skip_reason"]
    assert [r.run_id for r in instance.get_runs()] == [run_id]

    ok(deras("sensor", "stop", "files", "-f", code))
    row = listed(deras, code, "sensor")["files"]
    assert row["status"] == "stopped" and row["last_tick"]["status"] == "skipped"


def test_sensor_tick_prints_the_partition_of_each_run_it_requests(deras: Deras, code: str) -> None:
    proc = ok(deras("sensor", "tick", "late_day", "-f", code))
    (line,) = [line for line in proc.stdout.splitlines() if line.startswith("run ")]
    assert line.split()[2:] == ["2025-01-02", "success"]
    queued = json.loads(ok(deras("sensor", "tick", "late_day", "-f", code, "--json")).stdout)
    assert queued["run_ids"] == []  # the run key was seen
    again = json.loads(ok(deras("sensor", "tick", "files", "-f", code, "--no-execute", "--json")).stdout)
    assert again["partitions"] == {again["run_ids"][0]: None}


def test_sensor_tick_of_a_raising_sensor_exits_1_with_its_error(deras: Deras, code: str) -> None:
    proc = deras("sensor", "tick", "broken", "-f", code)
    assert proc.returncode == 1
    assert proc.stdout.startswith("tick failure: ") and proc.stdout.rstrip().endswith("the bucket is gone")
    assert "Traceback" not in proc.stdout
    last = listed(deras, code, "sensor")["broken"]["last_tick"]
    assert last["status"] == "failure" and last["error"].endswith("RuntimeError: the bucket is gone")


def test_runs_cancel_cancels_a_queued_run(deras: Deras, code: str, instance: Any) -> None:
    queued = json.loads(ok(deras("sensor", "tick", "files", "-f", code, "--no-execute", "--json")).stdout)
    run_id = queued["run_ids"][0]
    assert queued["runs"] == {} and instance.get_run(run_id).status == RunStatus.QUEUED
    assert f"run {run_id} canceled" in ok(deras("runs", "cancel", run_id[:8])).stdout
    assert instance.get_run(run_id).status == RunStatus.CANCELED
    assert instance.get_attempts(run_id) == []


# -- backfills ----------------------------------------------------------------------------------


def run_daemon_until(deras: Deras, code: str, done: Callable[[], bool], tries: int = 30) -> None:
    """``deras daemon run --max-seconds 3`` again until ``done()`` (runs go on after it stops)."""
    for _ in range(tries):
        ok(deras("daemon", "run", "-f", code, "--max-seconds", "3"))
        if done():
            return
    raise AssertionError("the daemon did not finish the work")


def show(deras: Deras, backfill_id: str) -> dict[str, Any]:
    return json.loads(ok(deras("backfill", "show", backfill_id, "--json")).stdout)  # type: ignore[no-any-return]


@pytest.mark.timeout(600)  # the daemon is run again until done: slow on a loaded machine
def test_backfill_launch_list_show_cancel_and_retry_failed(
    deras: Deras, code: str, instance: Any, tmp_path: Path
) -> None:
    launched = json.loads(
        ok(
            deras(
                "backfill", "launch", "-f", code, "--job", "sales_job",
                "--from", "2025-01-01", "--to", "2025-01-05", "--json",
            )
        ).stdout
    )  # fmt: skip
    bid = launched["backfill_id"]
    assert launched["status"] == "requested" and launched["num_partitions"] == 5
    days = [f"2025-01-0{d}" for d in range(1, 6)]
    assert set(instance.get_backfill(bid).partition_status.values()) == {"pending"}

    other = json.loads(
        ok(
            deras(
                "backfill",
                "launch",
                "-f",
                code,
                "--job",
                "sales_job",
                "--partitions",
                "2025-01-04,2025-01-05",
                "--json",
            )
        ).stdout
    )["backfill_id"]
    assert "canceling" in ok(deras("backfill", "cancel", other)).stdout
    listed_ids = [b["backfill_id"] for b in json.loads(ok(deras("backfill", "list", "--json")).stdout)]
    assert sorted(listed_ids) == sorted([bid, other])

    run_daemon_until(deras, code, lambda: instance.get_backfill(bid).status.is_finished)
    shown = show(deras, bid)
    assert shown["status"] == "completed_with_failures"
    assert shown["partitions"] == {**dict.fromkeys(days, "success"), "2025-01-03": "failure"}
    assert shown["counts"]["success"] == 4 and shown["counts"]["failure"] == 1
    canceled = show(deras, other)
    assert canceled["status"] == "canceled" and set(canceled["partitions"].values()) == {"canceled"}
    assert instance.store.get_runs(backfill_id=other) == []

    proc = deras("backfill", "cancel", bid)
    assert proc.returncode == 1 and "completed_with_failures: there is nothing to cancel" in proc.stderr

    (tmp_path / "fixed").touch()
    retried = ok(deras("backfill", "retry-failed", bid[:6])).stdout
    retry_id = retried.split()[1].rstrip(":")
    assert f"retries the failed partitions of {bid}" in retried
    retry = instance.get_backfill(retry_id)
    assert retry.partition_status == {"2025-01-03": "pending"}
    assert retry.record.parent_backfill_id == bid and retry.record.target["name"] == "sales_job"


def test_backfill_launch_errors_exit_1(deras: Deras, code: str) -> None:
    proc = deras("backfill", "launch", "-f", code, "--job", "sales_job", "--from", "2025-01-01")
    assert proc.returncode == 1 and "--from and --to go together" in proc.stderr
    proc = deras(
        "backfill", "launch", "-f", code, "--job", "sales_job", "--from", "2025-01-01", "--to", "2030-01-01"
    )
    assert proc.returncode == 1 and "2030-01-01" in proc.stderr
    proc = deras(
        "backfill", "launch", "-f", code, "--job", "sales_job", "--partitions", "2025-01-01", "--tag", "team"
    )
    assert proc.returncode == 1 and "KEY=VALUE" in proc.stderr and "'team'" in proc.stderr
    proc = deras("backfill", "show", "nope")
    assert proc.returncode == 1 and "no backfill with id nope" in proc.stderr


# -- the daemon ---------------------------------------------------------------------------------


def test_daemon_run_with_max_seconds_exits_0(deras: Deras, code: str) -> None:
    proc = ok(deras("daemon", "run", "-f", code, "--max-seconds", "0.5"))
    assert "(2 schedules, 4 sensors, 0 DAGs)" in proc.stderr
    assert "started" in proc.stderr and "stopped" in proc.stderr


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"max_concurrent_runs": -1}, "max_concurrent_runs"),
        ({"max_concurent_runs": 3}, "max_concurent_runs"),
        ({"daemon": {"launcher": "thread"}}, "daemon.launcher"),
    ],
)
def test_daemon_run_refuses_a_bad_setting_naming_it(
    deras: Deras, code: str, tmp_path: Path, config: dict[str, Any], named: str
) -> None:
    (tmp_path / "home" / "deras.yaml").write_text(yaml.safe_dump(config))
    proc = deras("daemon", "run", "-f", code, "--max-seconds", "1")
    assert proc.returncode == 1, proc.stderr
    assert named in proc.stderr and "deras.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_worker_ends_a_run_canceled_after_its_claim_as_canceled(
    deras: Deras, code: str, instance: Any
) -> None:
    """The run queue claimed it (starting), then it was canceled before a worker took it."""
    queued = json.loads(ok(deras("sensor", "tick", "files", "-f", code, "--no-execute", "--json")).stdout)
    run_id = queued["run_ids"][0]
    assert instance.store.run_queue.claim([run_id], time.time()) == [run_id]
    assert instance.cancel_run(run_id) == RunStatus.CANCELING
    proc = deras("run-worker", run_id)
    assert proc.returncode == 1 and f"run {run_id} canceled" in proc.stdout, proc.stderr
    assert instance.get_run(run_id).status == RunStatus.CANCELED
    assert instance.get_attempts(run_id) == []


def test_ctrl_c_stops_the_daemon_and_the_run_in_progress_goes_on(
    code: str, instance: Any, tmp_path: Path
) -> None:
    """Ctrl-C signals the terminal's whole process group; runs are not in the daemon's."""
    instance.store.ticks.set_status("sensor:slow_once", "running", time.time())
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    env["DERAS_HOME"] = str(tmp_path / "home")
    with (tmp_path / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "deras", "daemon", "run", "-f", code, "--max-seconds", "30"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own, like a shell's foreground job
        )
    try:
        deadline = time.monotonic() + 20
        while not [r for r in instance.get_runs() if r.worker]:  # a worker is executing it
            assert daemon.poll() is None and time.monotonic() < deadline, (
                tmp_path / "daemon.log"
            ).read_text()
            time.sleep(0.05)
        os.killpg(daemon.pid, signal.SIGINT)
        assert daemon.wait(10) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
    (run,) = instance.get_runs()
    deadline = time.monotonic() + 20
    while not instance.get_run(run.run_id).status.is_finished:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert instance.get_run(run.run_id).status == RunStatus.SUCCESS, instance.get_logs(run.run_id)


def test_run_worker_without_a_run_id_exits_1(deras: Deras) -> None:
    proc = deras("run-worker")
    assert proc.returncode == 1 and "give a RUN_ID" in proc.stderr
    proc = deras("run-worker", "no-such-run")
    assert proc.returncode == 1 and "no run with id no-such-run" in proc.stderr


@pytest.mark.slow
def test_daemon_log_format_json_writes_one_json_object_per_line(
    code: str, instance: Any, tmp_path: Path
) -> None:
    for sensor in ("sensor:files", "sensor:broken"):
        instance.store.ticks.set_status(sensor, "running", time.time())
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    env["DERAS_HOME"] = str(tmp_path / "home")
    log_path = tmp_path / "daemon.log"
    with log_path.open("wb") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "deras", "daemon", "run", "-f", code, "--log-format", "json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 60  # only to catch a hang
        while '"event": "run_ended"' not in log_path.read_text():
            assert daemon.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(20) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    (run,) = instance.get_runs()
    events = {(line.get("event"), line.get("instigator"), line.get("result")) for line in lines}
    assert {
        ("daemon_config", None, None),
        ("tick", "sensor:files", "success"),
        ("tick", "sensor:broken", "failure"),
        ("run_launched", None, None),
        ("run_ended", None, None),
    } <= events
    assert {line["run_id"] for line in lines if line.get("event") == "run_ended"} == {run.run_id}
    assert {line["target"] for line in lines if line.get("event") == "run_ended"} == {run.target}
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
