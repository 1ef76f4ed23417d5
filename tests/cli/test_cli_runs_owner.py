"""``deras runs list`` and ``runs cancel`` with runs of a ``deras materialize`` process, live or killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deras._core.status import NodeStatus, RunStatus

CODE = """
import time
from pathlib import Path
import deras as dg

@dg.asset
def slow_1():
    time.sleep(60)

@dg.asset
def slow_2(slow_1):
    time.sleep(60)

@dg.asset
def short_1():
    go = Path(__file__).with_name("go")
    while not go.exists():  # the test says when: after its cancel
        time.sleep(0.01)
    time.sleep(1)  # ten heartbeats: the cancel is heard before the next node

@dg.asset(deps=[short_1])
def short_2():
    time.sleep(60)

@dg.asset(deps=[short_2])
def short_3():
    pass

defs = dg.Definitions(assets=[slow_1, slow_2, short_1, short_2, short_3])
"""


class User:
    """A user's shell: `deras` commands against one DERAS_HOME (and database), one at a time or
    in the background."""

    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.home = tmp_path / "home"
        self.home.mkdir()
        monitoring = {"heartbeat_interval_seconds": 0.1}
        (self.home / "deras.yaml").write_text(yaml.safe_dump({"run_monitoring": monitoring}))
        self.code = tmp_path / "code.py"
        self.code.write_text(CODE)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
        self.env.update({"DERAS_HOME": str(self.home), "DERAS_DATABASE_URL": db_url, "COLUMNS": "200"})

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "deras", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "deras", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def user(tmp_path: Path, db_url: str) -> User:
    return User(tmp_path, db_url)


@pytest.fixture
def instance(user: User) -> Iterator[Any]:
    from deras._instance.instance import DerasInstance
    from deras._instance.settings import Settings

    inst = DerasInstance(Settings(user.home, user.env["DERAS_DATABASE_URL"]))
    yield inst
    inst.dispose()


def _running(instance: Any, node: str, timeout: float = 30.0) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for run in instance.get_runs(status=RunStatus.STARTED):
            if any(a.node == node for a in instance.get_attempts(run.run_id)):
                return run
        time.sleep(0.02)
    raise AssertionError(f"no run started {node}")


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_killed_materialize_is_listed_as_owner_gone_and_cancel_ends_it_at_once(
    user: User, instance: Any
) -> None:
    proc = user.start("materialize", "-f", str(user.code), "--select", "slow_1")
    try:
        run = _running(instance, "slow_1")
        listed = user.run("runs", "list")
        assert "owner gone" not in listed.stdout
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    listed = user.run("runs", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if run.run_id in line)
    assert "started (owner gone)" in row
    assert (
        f"(pid {proc.pid} on " in listed.stderr
        and f"`deras runs cancel {run.run_id}` ends it" in listed.stderr
    )
    (as_json,) = json.loads(user.run("runs", "list", "--json").stdout)
    assert as_json["status"] == "started" and "is gone" in as_json["owner_gone"]

    canceled = user.run("runs", "cancel", run.run_id[:8])
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.stdout.strip() == f"run {run.run_id} canceled"
    stored = instance.get_run(run.run_id)
    assert stored.status == RunStatus.CANCELED and stored.end_time is not None
    assert instance.store.get_node_outcomes(run.run_id) == {"slow_1": NodeStatus.FAILED}
    assert instance.get_events(run.run_id)[-1].message.startswith("canceled: the process that ran this run")
    (as_json,) = json.loads(user.run("runs", "list", "--json").stdout)
    assert as_json["status"] == "canceled" and as_json["owner_gone"] is None


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_runs_cancel_stops_a_live_materialize_between_nodes(user: User, instance: Any) -> None:
    proc = user.start("materialize", "-f", str(user.code), "--select", "short_1*")
    try:
        run = _running(instance, "short_1")
        canceling = user.run("runs", "cancel", run.run_id)
        assert canceling.stdout.strip() == f"run {run.run_id} canceling", canceling.stderr
        user.code.with_name("go").touch()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == 1 and f"run {run.run_id} canceled" in out, err
    assert instance.get_run(run.run_id).status == RunStatus.CANCELED
    outcomes = instance.store.get_node_outcomes(run.run_id)
    assert outcomes == {
        "short_1": NodeStatus.SUCCESS,
        "short_2": NodeStatus.SKIPPED,
        "short_3": NodeStatus.SKIPPED,
    }
