"""The daemon as a whole: one pass runs every component in order, and no component breaks the others."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from recording_launcher import RecordingLauncher
from webhook_server import WebhookServer

from deras._core.status import RunStatus, TickStatus
from deras._daemon.daemon import Daemon
from deras._daemon.run_factory import RunFactory
from deras._daemon.run_worker import execute_stored_run

CODE = """
import deras as dg

@dg.asset
def numbers():
    return 1

@dg.asset
def boom():
    raise ValueError("boom went the asset")

numbers_job = dg.define_asset_job("numbers_job", selection=["numbers"])
boom_job = dg.define_asset_job("boom_job", selection=["boom"])
hourly = dg.ScheduleDefinition(name="hourly", job=numbers_job, cron_schedule="0 * * * *",
                               default_status=dg.DefaultScheduleStatus.RUNNING)
defs = dg.Definitions(assets=[numbers, boom], jobs=[numbers_job, boom_job], schedules=[hourly])
"""

HOUR = 3600.0
T0 = datetime(2025, 1, 6, tzinfo=UTC).timestamp()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours *_proxy variables; loopback servers must be reached directly."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def _daemon(instance, loaded, launcher=None) -> Daemon:
    return Daemon(instance, loaded.definitions, loaded.location, launcher=launcher or RecordingLauncher())


def _queue(instance, loaded, job: str, key: str):
    run = RunFactory(loaded.definitions, loaded.location, instance).for_assets(
        [job.removesuffix("_job")], key=key, job_name=job
    )
    instance.store.create_runs([run])
    return run


# ============================================================================================
# one pass
# ============================================================================================


def test_a_scheduled_run_is_launched_in_the_pass_that_creates_it(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    launcher = RecordingLauncher()
    daemon = _daemon(instance, loaded, launcher)
    daemon.tick(T0 + 10)  # first sight of the schedule: it owes ticks from now on
    daemon.tick(T0 + HOUR + 1)
    (tick,) = instance.store.ticks.get_ticks("schedule:hourly")
    assert tick.status == TickStatus.SUCCESS
    assert launcher.launched == tick.run_ids
    assert instance.get_run(tick.run_ids[0]).status == RunStatus.STARTING


def test_two_daemons_create_and_launch_each_tick_once(make_instance, write_code):
    loaded = write_code(CODE)
    first_instance, second_instance = make_instance(), make_instance()
    launchers = [RecordingLauncher(instance=first_instance), RecordingLauncher(instance=second_instance)]
    daemons = [_daemon(first_instance, loaded, launchers[0]), _daemon(second_instance, loaded, launchers[1])]
    for hour in range(6):
        for daemon in daemons:
            daemon.tick(T0 + hour * HOUR + 1)
    runs = first_instance.get_runs()
    assert len(runs) == 5
    launched = launchers[0].launched + launchers[1].launched
    assert sorted(launched) == sorted(r.run_id for r in runs)


def test_a_failing_component_does_not_stop_the_others(make_instance, write_code, monkeypatch):
    instance = make_instance()
    loaded = write_code(CODE)
    launcher = RecordingLauncher()
    daemon = _daemon(instance, loaded, launcher)

    def broken(now: float) -> None:
        raise RuntimeError("the backfill table is gone")

    monkeypatch.setattr(daemon.backfills, "tick", broken)
    monkeypatch.setattr(daemon.automation, "tick", broken)
    daemon.tick(T0 + 10)
    daemon.tick(T0 + HOUR + 1)
    assert len(launcher.launched) == 1


def test_stop_ends_run(make_instance, write_code, no_hang):
    instance = make_instance({"daemon": {"interval_seconds": 0.05}})
    daemon = _daemon(instance, write_code(CODE))
    threading.Timer(0.3, daemon.stop).start()
    with no_hang(20):  # without stop() the loop runs for ever
        daemon.run()


def test_a_hung_user_function_does_not_keep_the_daemon_process_alive():
    """The daemon abandons a schedule that hangs; stopping the daemon must still end its process."""
    import subprocess
    import sys

    script = (
        "import threading\n"
        "from deras._daemon.user_code import UserCodeRunner, UserCodeTimeout\n"
        "runner = UserCodeRunner(0.1)\n"
        "try:\n"
        "    runner.call('sensor stuck', threading.Event().wait)\n"
        "except UserCodeTimeout:\n"
        "    print('abandoned')\n"
        "runner.shutdown()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=10
    )
    assert (done.returncode, done.stdout.strip()) == (0, "abandoned")


# ============================================================================================
# notifications
# ============================================================================================


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    server = WebhookServer()
    server.thread.start()
    yield server
    server.close()


def test_a_failed_run_is_posted_to_the_webhook_once(make_instance, write_code, webhook):
    instance = make_instance({"notifications": {"webhook": {"url": webhook.url}}})
    loaded = write_code(CODE)
    daemon = _daemon(instance, loaded)
    daemon.tick(time.time())
    ok = _queue(instance, loaded, "numbers_job", "ok")
    bad = _queue(instance, loaded, "boom_job", "bad")
    assert execute_stored_run(instance, ok.run_id) == RunStatus.SUCCESS
    assert execute_stored_run(instance, bad.run_id) == RunStatus.FAILURE
    daemon.tick(time.time())
    daemon.tick(time.time())
    daemon.monitor.outbox.drain()
    (body,) = webhook.bodies  # run_success is not among the default events
    assert (body["event"], body["run_id"], body["status"]) == ("run_failure", bad.run_id, "failure")
    assert body["failed_nodes"] == ["boom"] and "boom went the asset" in body["error"]


def test_two_daemons_notify_a_failed_run_once_and_record_the_delivery(make_instance, write_code, webhook):
    instance = make_instance({"notifications": {"webhook": {"url": webhook.url}}})
    loaded = write_code(CODE)
    daemons = [_daemon(instance, loaded), _daemon(instance, loaded)]
    for daemon in daemons:
        daemon.tick(time.time())
    bad = _queue(instance, loaded, "boom_job", "bad")
    assert execute_stored_run(instance, bad.run_id) == RunStatus.FAILURE
    for daemon in daemons:
        daemon.tick(time.time())
    for daemon in daemons:
        daemon.monitor.outbox.drain()
    assert [b["run_id"] for b in webhook.bodies] == [bad.run_id]
    (delivery,) = instance.store.ticks.get_ticks(f"notification:{bad.run_id}")
    assert delivery.status == "success"


def test_a_webhook_that_refuses_connections_never_breaks_the_daemon(make_instance, write_code, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    instance = make_instance({"notifications": {"webhook": {"url": f"http://127.0.0.1:{port}/hook"}}})
    loaded = write_code(CODE)
    launcher = RecordingLauncher()
    daemon = _daemon(instance, loaded, launcher)
    daemon.tick(time.time())
    bad = _queue(instance, loaded, "boom_job", "bad")
    assert execute_stored_run(instance, bad.run_id) == RunStatus.FAILURE
    daemon.tick(time.time())
    daemon.monitor.outbox.drain()
    assert "notification of run" in caplog.text
    later = _queue(instance, loaded, "numbers_job", "later")
    daemon.tick(time.time())
    assert launcher.launched == [later.run_id]


# ============================================================================================
# the loop, with real worker processes
# ============================================================================================


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_run_returns_after_max_seconds_having_executed_a_queued_run(make_instance, write_code):
    instance = make_instance({"daemon": {"launcher": "pool", "workers": 1, "interval_seconds": 0.05}})
    loaded = write_code(CODE)
    run = _queue(instance, loaded, "numbers_job", "queued")
    daemon = Daemon(instance, loaded.definitions, loaded.location)  # the default launcher: a warm pool
    began = time.monotonic()
    daemon.run(max_seconds=2.5)
    took = time.monotonic() - began
    assert 2.5 <= took < 60  # at least max_seconds; the upper bound only catches a hang
    deadline, more = time.time() + 200, 5.0
    while not instance.get_run(run.run_id).status.is_finished and time.time() < deadline:
        if instance.get_run(run.run_id).status == RunStatus.QUEUED:
            daemon.run(max_seconds=more)  # a loaded machine may not start the pool in 2.5 s
            more *= 2
        time.sleep(0.05)
    finished = instance.get_run(run.run_id)
    assert finished.status == RunStatus.SUCCESS
    assert finished.worker["pid"] != int(daemon.ctx.owner.split(":")[1])  # never inside the daemon
