"""The run monitor and runs executed in someone's own process (`deras materialize`).

Such a run records its owner process and beats like a worker's run: killed with `kill -9`,
it is failed at once and stops holding the queue; a pid now held by another process is gone
too; a live one, however long it runs, is left alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from recording_launcher import RecordingLauncher

from deras._core.events import EventRecord, EventType
from deras._core.status import NodeStatus, RunStatus
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.launcher import worker_env
from deras._daemon.run_factory import RunFactory
from deras._daemon.run_monitor import RunMonitor
from deras._daemon.run_queue import RunQueue
from deras._exec.run_owner import this_process

CODE = """
import time
import deras as dg

days = dg.DailyPartitionsDefinition(start_date="2025-01-01")

@dg.asset(partitions_def=days)
def long_day():
    time.sleep(60)

@dg.asset
def lasting():
    time.sleep(2.5)

@dg.asset
def quick():
    return 1

defs = dg.Definitions(assets=[long_day, lasting, quick])
"""


class Env:
    def __init__(self, instance, loaded) -> None:
        self.instance = instance
        self.loaded = loaded
        self.ctx = DaemonContext(instance, loaded.definitions, loaded.location)
        self.launcher = RecordingLauncher(instance=instance)
        self.queue = RunQueue(self.ctx, self.launcher)
        self.monitor = RunMonitor(self.ctx, self.queue.ended)

    def materialize(self, *args: str) -> subprocess.Popen[bytes]:
        """`deras materialize` of this code in a process of its own, as a user starts it."""
        return subprocess.Popen(
            [sys.executable, "-m", "deras", "materialize", "-f", self.loaded.location["file"], *args],
            env=worker_env(self.instance),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def running(self, node: str, timeout: float = 30.0):
        """The started run once ``node`` is running in it (its start is stored while it runs)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for run in self.instance.get_runs(status=RunStatus.STARTED):
                if any(a.node == node for a in self.instance.get_attempts(run.run_id)):
                    return run
            time.sleep(0.02)
        raise AssertionError(f"no run started {node}")

    def queue_quick(self):
        run = RunFactory(self.loaded.definitions, self.loaded.location, self.instance).for_assets(
            ["quick"], key="waiting"
        )
        self.instance.store.create_runs([run])
        return run


@pytest.fixture
def env(make_instance, write_code):
    # A timeout longer than any test: what the monitor does here, it does by pid.
    config = {
        "max_concurrent_runs": 1,
        "run_monitoring": {"heartbeat_interval_seconds": 0.1, "heartbeat_timeout_seconds": 60},
    }
    return Env(make_instance(config), write_code(CODE))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_killed_materialize_is_failed_at_once_and_a_queued_run_takes_its_place(env):
    proc = env.materialize("--select", "long_day", "--partition", "2025-01-02")
    try:
        run = env.running("long_day")
        waiting = env.queue_quick()
        env.monitor.tick(time.time())
        assert env.queue.tick(time.time()) == []  # max_concurrent_runs: 1, held by the materialize
    finally:
        _kill(proc)
    env.monitor.tick(time.time())

    failed = env.instance.get_run(run.run_id)
    assert failed.status == RunStatus.FAILURE
    message = (
        f"the process that ran this run (pid {proc.pid} on {this_process()['host']}) is gone: "
        "it was killed or crashed before the run ended"
    )
    assert env.instance.get_events(run.run_id)[-1].message == message
    assert env.instance.store.get_node_outcomes(run.run_id) == {"long_day": NodeStatus.FAILED}
    days = env.loaded.definitions.asset_graph.nodes["long_day"].partitions_def
    status = env.instance.get_partition_status("long_day", days)
    assert "2025-01-02" in status.failed and len(status.in_progress) == 0
    assert env.queue.tick(time.time()) == [waiting.run_id]


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_live_materialize_is_never_failed_by_the_monitor(make_instance, write_code):
    """Its heartbeat keeps it alive, even with a timeout shorter than its node."""
    config = {"run_monitoring": {"heartbeat_interval_seconds": 0.1, "heartbeat_timeout_seconds": 1}}
    env = Env(make_instance(config), write_code(CODE))
    proc = env.materialize("--select", "lasting")
    try:
        run = env.running("lasting")
        while not (status := env.instance.get_run(run.run_id).status).is_finished:
            env.monitor.tick(time.time())
            time.sleep(0.1)
        assert proc.wait(timeout=30) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            _kill(proc)
    assert status == RunStatus.SUCCESS


def test_a_run_whose_owner_pid_now_belongs_to_another_process_is_failed(env):
    """Simulated: this very process, under another start time (a pid reused after a reboot)."""
    run = env.queue_quick()
    store = env.instance.store
    now = time.time()
    assert store.run_queue.claim([run.run_id], now) == [run.run_id]
    impostor = {**this_process(), "started": this_process()["started"] + 1}
    assert store.run_queue.take(run.run_id, now, impostor)
    store.store_events([EventRecord(run.run_id, EventType.RUN_START)])
    env.monitor.tick(now)
    assert env.instance.get_run(run.run_id).status == RunStatus.FAILURE
    assert env.instance.get_events(run.run_id)[-1].message.endswith(
        f"pid {os.getpid()} now belongs to another process"
    )


def test_a_run_of_this_very_process_is_alive(env):
    run = env.queue_quick()
    store = env.instance.store
    now = time.time()
    store.run_queue.claim([run.run_id], now)
    assert store.run_queue.take(run.run_id, now, this_process())
    env.monitor.tick(now + 30)  # within the heartbeat timeout: only its pid is judged
    assert env.instance.get_run(run.run_id).status == RunStatus.STARTING
