"""``-d FOLDER``: a folder of DAG files is a code location for the daemon, its run workers, the
code server and deras.yaml, as a file or a module is; a file that does not import is logged and
left out, and the others run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import deras as dg

Deras = Callable[..., subprocess.CompletedProcess[str]]


def scheduled_dag(dag_id: str) -> str:
    return textwrap.dedent(
        f"""
        from datetime import datetime

        import deras as dg

        with dg.DAG("{dag_id}", schedule="@daily", start_date=datetime(2025, 1, 1), catchup=False):
            @dg.task
            def work():
                return "{dag_id}"

            work()
        """
    )


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "daily_one.py").write_text(scheduled_dag("daily_one"))
    (folder / "daily_two.py").write_text(scheduled_dag("daily_two"))
    (folder / "broken.py").write_text("import no_such_module_here\n")
    return folder


def run_daemon_until(home: Path, args: list[str], cwd: Path, count: int) -> tuple[list[dg.RunRecord], str]:
    """Run the daemon until ``count`` runs have finished; its runs and its log."""
    (home / "deras.yaml").write_text("daemon: {interval_seconds: 0.1}\n")
    instance = dg.DerasInstance.get(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    env["DERAS_HOME"] = str(home)
    log = cwd / "daemon.log"
    command = [sys.executable, "-m", "deras", "daemon", "run", *args, "--max-seconds", "120"]
    with open(log, "w") as out:
        daemon = subprocess.Popen(command, env=env, cwd=cwd, stderr=out)
        try:
            deadline = time.monotonic() + 120  # a hang, not slowness: the runs take seconds
            while len(runs := [r for r in instance.get_runs() if r.status.is_finished]) < count:
                assert daemon.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
    return runs, log.read_text()


def test_the_daemon_runs_every_scheduled_dag_of_a_folder_and_logs_the_broken_file(
    dags: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DERAS_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    runs, log = run_daemon_until(home, ["-d", "dags"], tmp_path, count=2)
    assert sorted((r.target, r.status) for r in runs) == [
        ("dag:daily_one", dg.RunStatus.SUCCESS),
        ("dag:daily_two", dg.RunStatus.SUCCESS),
    ]
    assert {json.dumps(r.code_location) for r in runs} == {json.dumps({"dags_folder": str(dags)})}
    broken = str(dags / "broken.py")
    assert log.count(f"{broken} did not load") == 1  # once, by the daemon, not by each worker
    assert "No module named 'no_such_module_here'" in log


def test_deras_yaml_names_a_dags_folder_relative_to_itself(deras: Deras, dags: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "deras.yaml").write_text("code_location: {dags_folder: ../dags}\n")
    proc = deras("code", "snapshot", "--json")
    assert proc.returncode == 0, proc.stderr
    snapshot = json.loads(proc.stdout)
    assert snapshot["location"] == {"dags_folder": str(dags)}
    assert sorted(d["dag_id"] for d in snapshot["dags"]) == ["daily_one", "daily_two"]


def test_the_code_server_loads_a_folder_and_reports_its_broken_file(deras: Deras, dags: Path) -> None:
    proc = deras("code", "snapshot", "--server", "-d", str(dags), "--json")
    assert proc.returncode == 0, proc.stderr
    snapshot = json.loads(proc.stdout)
    assert sorted(d["dag_id"] for d in snapshot["dags"]) == ["daily_one", "daily_two"]
    assert list(snapshot["load_errors"]) == [str(dags / "broken.py")]
    assert "no_such_module_here" in snapshot["load_errors"][str(dags / "broken.py")]


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        (["daemon", "run"], ["-f", "dags/daily_one.py", "-d", "dags"], "not -f and -d"),
        (["web"], ["-m", "pkg", "-d", "dags"], "not -m and -d"),
        (["code", "snapshot"], ["-d", "nowhere"], "no such folder"),
    ],
    ids=["file-and-folder", "module-and-folder", "missing-folder"],
)
def test_a_bad_dags_folder_is_a_clear_error(
    deras: Deras, dags: Path, tmp_path: Path, command: list[str], args: list[str], message: str
) -> None:
    proc = deras(*command, *args, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr
