"""What a node writes, as the terminal sees it: ``materialize --json``, ``runs debug``, ``runs logs``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SECRET = "tok-5e5ame-0pen"

CODE = """
import logging
import os
import subprocess
import sys

import deras as dg

print("printed at import")  # before any node: not the JSON either


class Api(dg.ConfigurableResource):
    token: str


@dg.asset
def noisy():
    print("print")
    os.write(1, b"os.write\\n")
    subprocess.run(["echo", "child"], check=True)
    return 1


@dg.asset
def uses_secret(api: Api, noisy):
    print("printed", api.token)
    print("stderr", api.token, file=sys.stderr)
    logging.getLogger("lib").warning("lib sees %s", api.token)  # a third-party logger
    os.write(1, f"fd {api.token}\\n".encode())
    subprocess.run(["echo", "child", api.token], check=True)
    return 2


defs = dg.Definitions(assets=[noisy, uses_secret], resources={"api": Api(token=dg.EnvVar("CAPTURE_TOKEN"))})
"""

ENV = {"CAPTURE_TOKEN": SECRET}


@pytest.fixture
def code(tmp_path: Path) -> str:
    path = tmp_path / "noisy.py"
    path.write_text(CODE)
    return str(path)


@pytest.mark.slow
def test_materialize_json_stdout_is_only_the_json_when_nodes_write_to_fd_1(deras, code: str) -> None:  # type: ignore[no-untyped-def]
    proc = deras("materialize", "-f", code, "--json", env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "success"
    assert "printed at import" in proc.stderr  # not lost: on stderr
    logs = deras("runs", "logs", json.loads(proc.stdout)["run_id"], "--node", "noisy").stdout
    assert "print\nos.write\nchild" in logs


@pytest.mark.slow
def test_debug_masks_secrets_in_everything_it_echoes(deras, code: str) -> None:  # type: ignore[no-untyped-def]
    run_id = json.loads(deras("materialize", "-f", code, "--json", env=ENV).stdout)["run_id"]
    proc = deras("runs", "debug", run_id, "uses_secret", env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    for line in ("printed *****", "fd *****", "child *****"):
        assert line in proc.stdout
    for line in ("stderr *****", "lib sees *****"):
        assert line in proc.stderr
    debug_run = proc.stdout.split("debug run ")[1].split()[0]
    stored = deras("runs", "logs", debug_run).stdout
    assert "printed *****" in stored and "lib sees *****" in stored and SECRET not in stored


@pytest.mark.slow
def test_runs_logs_pages_with_limit_offset_and_tail(deras, code: str) -> None:  # type: ignore[no-untyped-def]
    run_id = json.loads(deras("materialize", "-f", code, "--json", env=ENV).stdout)["run_id"]
    every = deras("runs", "logs", run_id).stdout.splitlines()
    records = [line for line in every if line[:4].isdigit()]  # a record's first line has its time
    assert len(records) > 4
    page = deras("runs", "logs", run_id, "--limit", "2", "--offset", "1").stdout
    assert [line for line in page.splitlines() if line[:4].isdigit()] == records[1:3]
    tail = deras("runs", "logs", run_id, "--tail", "2").stdout.splitlines()
    assert tail == records[-2:]
    both = deras("runs", "logs", run_id, "--tail", "2", "--offset", "1")
    assert both.returncode == 1 and "--tail" in both.stderr and "--offset" in both.stderr


DAG = """
import os
from datetime import datetime

import deras as dg

@dg.dag(schedule="@daily", start_date=datetime(2025, 1, 1))
def chatty():
    @dg.task
    def talk():
        print("talking")
        os.write(1, b"below python\\n")
        return 1

    talk()

chatty_dag = chatty()
"""


@pytest.mark.slow
def test_tasks_test_json_stdout_is_only_the_json_and_the_echo_goes_to_stderr(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "chatty.py"
    path.write_text(DAG)
    proc = deras("tasks", "test", "chatty", "talk", "2025-01-05", "-f", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["state"] == "success"
    assert "talking\nbelow python" in proc.stderr


@pytest.mark.slow
def test_debug_pdb_shows_the_node_output_masked_before_the_next_prompt(deras, code: str) -> None:  # type: ignore[no-untyped-def]
    run_id = json.loads(deras("materialize", "-f", code, "--json", env=ENV).stdout)["run_id"]
    proc = deras("runs", "debug", run_id, "uses_secret", "--pdb", env=ENV, input="n\nc\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first_prompt = proc.stdout.index("(Pdb) ")
    second_prompt = proc.stdout.index("(Pdb) ", first_prompt + 1)
    assert first_prompt < proc.stdout.index("printed *****") < second_prompt  # `n` ran the print
    assert SECRET not in proc.stdout + proc.stderr
