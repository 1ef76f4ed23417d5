"""What a daemon-run node writes below Python reaches its run's log, masked, and nothing else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deras._core.status import RunStatus
from deras._daemon.run_factory import RunFactory

SECRET = "tok-5e5ame-0pen"

CODE = """
import os
import subprocess

import deras as dg


class Api(dg.ConfigurableResource):
    token: str

    def teardown_after_execution(self, context):
        os.write(1, f"teardown {self.token}\\n".encode())


@dg.asset
def leaks(api: Api):
    os.write(1, f"fd1 {api.token}\\n".encode())
    os.write(2, f"fd2 {api.token}\\n".encode())
    os.write(1, b"done not-a-run success\\n")  # what the pool's protocol says, from user code
    subprocess.run(["echo", "child", api.token], check=True)
    subprocess.run(["sh", "-c", f"echo child-err {api.token} >&2"], check=True)
    return 1


defs = dg.Definitions(assets=[leaks], resources={"api": Api(token=dg.EnvVar("CAPTURE_TOKEN"))})
"""


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["pool", "process"])
def test_a_daemon_run_node_writing_a_secret_to_its_fds_reaches_only_its_masked_log(
    make_instance, write_code, tmp_path: Path, launcher: str
) -> None:
    instance = make_instance({"daemon": {"interval_seconds": 0.1, "launcher": launcher, "workers": 1}})
    loaded = write_code(CODE)
    run = RunFactory(loaded.definitions, loaded.location, instance).for_assets(["leaks"], key="k")
    instance.store.create_runs([run])
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    env.update({"DERAS_HOME": str(instance.home), "CAPTURE_TOKEN": SECRET})
    out, err = tmp_path / "daemon.out", tmp_path / "daemon.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        code = loaded.location["file"]
        daemon = subprocess.Popen(
            [sys.executable, "-m", "deras", "daemon", "run", "-f", code, "--max-seconds", "60"],
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while not instance.get_run(run.run_id).status.is_finished:
            assert daemon.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.05)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)

    assert instance.get_run(run.run_id).status == RunStatus.SUCCESS, instance.get_logs(run.run_id)
    logs = instance.get_logs(run.run_id)
    for line in ("fd1 *****", "fd2 *****", "child *****", "child-err *****", "teardown *****"):
        assert line in logs
    assert SECRET not in logs
    assert SECRET.encode() not in out.read_bytes() + err.read_bytes()
    for path in Path(instance.home).rglob("*"):  # the database (SQLite), log files, values
        assert not path.is_file() or SECRET.encode() not in path.read_bytes(), path
