"""A real ``deras daemon run`` in its own process until the runs the test waits for finish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import deras as dg


def new_home(tmp_path: Path) -> Path:
    """A DERAS_HOME whose daemon ticks every 0.1 s."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "deras.yaml").write_text("daemon: {interval_seconds: 0.1}\n")
    return home


def home_env(home: Path) -> dict[str, str]:
    """This environment without any DERAS_ setting but DERAS_HOME=home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    env["DERAS_HOME"] = str(home)
    return env


def runs_the_daemon_finishes(
    home: Path, code: list[str] | tuple[str, ...], cwd: Path, *, count: int = 1
) -> tuple[list[Any], str]:
    """Run the daemon on ``code`` (``-f FILE``, ``-m MODULE``, ``-d DIR``, ``--compat``) until
    ``count`` runs are finished; returns those runs and what the daemon wrote to stderr."""
    instance = dg.DerasInstance.get(home)
    log = cwd / "daemon.log"
    command = [sys.executable, "-m", "deras", "daemon", "run", *code, "--max-seconds", "120"]
    with open(log, "w") as out:
        daemon = subprocess.Popen(command, env=home_env(home), cwd=cwd, stderr=out)
        try:
            deadline = time.monotonic() + 120  # a hang, not slowness: a run takes about a second
            while len(runs := [r for r in instance.get_runs() if r.status.is_finished]) < count:
                assert daemon.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
    return runs, log.read_text()
