"""Who owns a run, and when that process counts as gone: pid gone, reused, or silent too long."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from deras._core.records import RunRecord
from deras._core.status import RunStatus
from deras._exec.run_owner import dead_owner, process_fate, this_process

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc (Linux)")

NOW = 1_700_000_000.0


def _active(
    owner: dict | None, heartbeat: float | None = NOW, status: RunStatus = RunStatus.STARTED
) -> RunRecord:
    return RunRecord("r", "assets:a", status=status, heartbeat=heartbeat, worker=owner)


def _exited_pid() -> int:
    """The pid of a process that ran and was reaped (no other process has it yet, in practice)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def test_this_process_is_its_host_pid_start_time_and_pid_namespace() -> None:
    me = this_process()
    with open("/proc/self/stat") as f:
        started = int(f.read().rsplit(")", 1)[1].split()[19])
    assert me["pid"] == os.getpid() and me["started"] == started
    assert me["pidns"] == os.readlink("/proc/self/ns/pid")
    assert process_fate(os.getpid(), me["started"]) is None  # a run of this very process lives


def test_a_pid_with_another_start_time_was_reused() -> None:
    assert process_fate(os.getpid(), this_process()["started"] - 1) == "reused"
    dead = dead_owner(_active({**this_process(), "started": 1}), NOW, timeout=30)
    assert dead is not None and dead.stale_before == float("inf")
    assert dead.message == (
        f"the process that ran this run (pid {os.getpid()} on {this_process()['host']}) is gone: "
        f"pid {os.getpid()} now belongs to another process"
    )


def test_a_pid_that_exited_or_is_a_zombie_is_gone() -> None:
    assert process_fate(_exited_pid()) == "gone"
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.time() + 30
        while process_fate(zombie.pid) is None and time.time() < deadline:
            time.sleep(0.01)  # exited, not reaped yet: a zombie
        assert process_fate(zombie.pid) == "gone"
    finally:
        zombie.wait(timeout=30)
    dead = dead_owner(_active({**this_process(), "pid": _exited_pid()}), NOW, timeout=30)
    assert dead is not None and "it was killed or crashed before the run ended" in dead.message


def test_an_owner_elsewhere_is_dead_only_when_its_heartbeat_is_older_than_the_timeout() -> None:
    pid = _exited_pid()
    other_host = {**this_process(), "host": "elsewhere", "pid": pid}
    other_namespace = {**this_process(), "pidns": "pid:[1]", "pid": pid}  # another container
    for owner in (other_host, other_namespace):
        assert dead_owner(_active(owner, heartbeat=NOW - 29), NOW, timeout=30) is None
        dead = dead_owner(_active(owner, heartbeat=NOW - 31), NOW, timeout=30)
        assert dead is not None and dead.stale_before == NOW - 30
        assert dead.message == "no heartbeat from the run's process for 30 s: it is presumed dead"


def test_a_live_owner_whose_heartbeat_stopped_is_presumed_dead() -> None:
    """A process that lives but no longer stamps the run (it lost the run) does not hold it."""
    assert dead_owner(_active(this_process(), heartbeat=NOW - 31), NOW, timeout=30) is not None
    assert dead_owner(_active(this_process(), heartbeat=NOW), NOW, timeout=30) is None


def test_runs_not_active_or_never_stamped_are_not_judged() -> None:
    gone = {**this_process(), "pid": _exited_pid()}
    for status in (RunStatus.QUEUED, RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED):
        assert dead_owner(_active(gone, status=status), NOW, timeout=30) is None
    assert dead_owner(_active(None, heartbeat=None), NOW, timeout=30) is None


def test_a_forked_child_is_its_own_owner() -> None:
    read, write = os.pipe()
    parent = this_process()
    pid = os.fork()
    if pid == 0:  # the child: report whether it sees itself, then leave at once
        os.write(write, b"1" if this_process()["pid"] == os.getpid() != parent["pid"] else b"0")
        os._exit(0)
    os.close(write)
    try:
        assert os.read(read, 1) == b"1"
    finally:
        os.close(read)
        os.waitpid(pid, 0)
