"""Choosing where nodes run from the command line and deras.yaml: --executor, executor:, job run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import yaml

CODE = """
import os
import deras as dg

@dg.asset
def a() -> int:
    return os.getpid()

@dg.asset
def b(a: int) -> int:
    return os.getpid()

defs = dg.Definitions(
    assets=[a, b],
    jobs=[
        dg.define_asset_job("pooled", executor={"type": "multiprocess", "max_concurrent": 2}),
        dg.define_asset_job("here"),
    ],
)
"""


def _code(tmp_path: Path) -> str:
    path = tmp_path / "code.py"
    path.write_text(textwrap.dedent(CODE))
    return str(path)


def _succeeded(deras, run_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    shown = json.loads(deras("runs", "show", run_id, "--json").stdout)
    return {a["node"] for a in shown["attempts"] if a["status"] == "success"}


def _values(home: Path) -> dict[str, int]:
    """The pids nodes a and b returned, read back from their value files."""
    import pickle

    return {name: pickle.loads((home / "storage" / name).read_bytes()) for name in ("a", "b")}


def test_executor_option_runs_nodes_in_worker_processes(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = _code(tmp_path)
    proc = deras("materialize", "-f", code, "--executor", "multiprocess", "--max-concurrent", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    assert _succeeded(deras, json.loads(proc.stdout)["run_id"]) == {"a", "b"}
    pooled = _values(tmp_path / "home")
    assert deras("materialize", "-f", code).returncode == 0
    assert _values(tmp_path / "home")["a"] not in pooled.values()  # not the command's process


def test_job_run_uses_the_jobs_executor(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = _code(tmp_path)
    pooled = deras("job", "run", "pooled", "-f", code, "--json")
    assert pooled.returncode == 0, pooled.stderr
    pooled_values = _values(tmp_path / "home")
    here = deras("job", "run", "here", "-f", code, "--json")
    assert here.returncode == 0, here.stderr
    here_values = _values(tmp_path / "home")
    assert here_values["a"] == here_values["b"]  # one process: the command's own
    assert pooled_values["a"] != here_values["a"]
    assert json.loads(here.stdout)["status"] == "success"


def test_deras_yaml_executor_is_the_default_and_the_option_overrides_it(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    config = {"executor": {"type": "multiprocess", "max_concurrent": 2}}
    (home / "deras.yaml").write_text(yaml.safe_dump(config))
    code = _code(tmp_path)
    assert deras("materialize", "-f", code).returncode == 0
    values = _values(home)
    assert deras("materialize", "-f", code, "--executor", "in_process").returncode == 0
    in_process = _values(home)
    assert in_process["a"] == in_process["b"] and values["a"] != in_process["a"]


def test_unknown_executors_are_refused_before_anything_runs(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad_option = deras("materialize", "-f", _code(tmp_path), "--executor", "gpu")
    assert bad_option.returncode == 2 and "'gpu' is not one of" in bad_option.stderr
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "deras.yaml").write_text(yaml.safe_dump({"executor": "spark"}))
    bad_yaml = deras("materialize", "-f", _code(tmp_path))
    assert bad_yaml.returncode == 1
    assert "deras.yaml: unknown executor 'spark'" in bad_yaml.stderr
    assert json.loads(deras("runs", "list", "--json").stdout) == []
    concurrent_alone = deras("materialize", "-f", _code(tmp_path), "--max-concurrent", "3")
    assert concurrent_alone.returncode == 2
    assert "--max-concurrent needs --executor" in concurrent_alone.stderr


BLOCK_CELERY = (
    "import sys; sys.modules['celery'] = None\n"  # `import celery` now fails, as when not installed
    "from deras._cli.main import main; sys.argv[0] = 'deras'; main()\n"
)


def test_celery_not_installed_says_which_extra_to_install(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = _code(tmp_path)
    worker = deras("-c", BLOCK_CELERY, "worker", "-f", code, "--broker", "redis://127.0.0.1:1/0", python=True)
    assert worker.returncode == 1 and "Traceback" not in worker.stderr
    assert "pip install 'deras[celery]'" in worker.stderr
    run = deras(
        "-c",
        BLOCK_CELERY,
        "materialize",
        "-f",
        code,
        "--executor",
        "celery",
        python=True,
        env={"DERAS_BROKER_URL": "redis://127.0.0.1:1/0"},
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "pip install 'deras[celery]'" in run.stderr
