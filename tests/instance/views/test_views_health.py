"""The read model's daemon health: heartbeats of real daemon processes, components, queue depth."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deras._core.records import RunRecord
from deras._core.status import RunStatus
from deras._daemon.launcher import worker_env
from deras._instance.views.health import HEALTH_TIMEOUT_SECONDS, daemon_health

CODE = """
import deras as dg

@dg.asset
def done():
    return 1

defs = dg.Definitions(assets=[done])
"""
COMPONENTS = ["automation", "backfills", "run_monitor", "run_queue", "schedules", "sensors"]


def _daemon(instance: Any, tmp_path: Path) -> subprocess.Popen[bytes]:
    code = tmp_path / "defs.py"
    code.write_text(CODE)
    with (tmp_path / "daemon.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "deras", "daemon", "run", "-f", str(code), "--max-seconds", "120"],
            env=worker_env(instance),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_for(what: Callable[[], Any], log: Path, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting; the daemon's log:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_a_running_daemon_is_healthy_and_a_killed_one_not_after_the_timeout(
    make_instance: Any, tmp_path: Path
) -> None:
    instance = make_instance({"daemon": {"interval_seconds": 0.2}})
    daemon = _daemon(instance, tmp_path)
    try:
        health = _wait_for(lambda: (h := daemon_health(instance)).daemons and h, tmp_path / "daemon.log")
        (seen,) = health.daemons
        assert health.healthy and seen.state == "running" and seen.pid == daemon.pid
        assert [c.name for c in seen.components] == COMPONENTS
        assert all(c.last_run is not None and c.error is None for c in seen.components)
        assert seen.location is not None and seen.location["file"].endswith("defs.py")
        first = seen.last_heartbeat
        # It goes on beating from its loop, every few seconds.
        _wait_for(lambda: daemon_health(instance).daemons[0].last_heartbeat > first, tmp_path / "daemon.log")
    finally:
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
    last = daemon_health(instance).daemons[0].last_heartbeat
    later = daemon_health(instance, now=last + HEALTH_TIMEOUT_SECONDS + 1)
    assert not later.healthy
    assert later.daemons[0].state == "unresponsive"
    assert "no heartbeat from daemon" in later.message and "killed" in later.message


@pytest.mark.slow
def test_a_daemon_that_stopped_cleanly_says_so_at_once(make_instance: Any, tmp_path: Path) -> None:
    instance = make_instance({"daemon": {"interval_seconds": 0.2}})
    daemon = _daemon(instance, tmp_path)
    try:
        _wait_for(lambda: daemon_health(instance).healthy, tmp_path / "daemon.log")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    health = daemon_health(instance)
    assert not health.healthy and health.daemons[0].state == "stopped"
    assert "stopped" in health.message


def test_no_heartbeat_at_all_says_how_to_start_a_daemon(instance: Any) -> None:
    health = daemon_health(instance)
    assert not health.healthy and health.daemons == []
    assert "deras daemon run" in health.message
    assert health.to_json()["daemons"] == []


def test_a_failing_component_makes_its_daemon_unhealthy(instance: Any) -> None:
    beats = instance.store.daemon_heartbeats
    beats.beat(
        "host:1:abc",
        host="host",
        pid=1,
        started_time=100.0,
        now=110.0,
        components={"schedules": 110.0, "sensors": 110.0},
        info={"failing": {"sensors": "OperationalError: locked"}},
    )
    health = daemon_health(instance, now=111.0)
    assert not health.healthy and health.daemons[0].state == "running"
    assert {c.name: c.error for c in health.daemons[0].components} == {
        "schedules": None,
        "sensors": "OperationalError: locked",
    }
    assert "failing: sensors" in health.message


def test_queue_depth_counts_queued_runs(instance: Any) -> None:
    runs = [RunRecord(f"r{i}", "assets:a", status=RunStatus.QUEUED, create_time=float(i)) for i in range(3)]
    runs.append(RunRecord("r9", "assets:a", status=RunStatus.STARTED, create_time=9.0))
    instance.store.create_runs(runs)
    health = daemon_health(instance)
    assert (health.queue_depth, health.in_progress) == (3, 1)
