"""``--compat``: Airflow and Dagster files load unchanged through the CLI, the daemon, step
processes and the code server; what deras does not serve is one line; bad settings are errors."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from daemon_runs import new_home, runs_the_daemon_finishes

import deras as dg

Deras = Callable[..., subprocess.CompletedProcess[str]]

BASH_DAG = """
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

with DAG("hello", start_date=datetime(2025, 1, 1), schedule="@daily", catchup=False) as dag:
    say = BashOperator(task_id="say", bash_command="echo hello from bash")
    add = PythonOperator(task_id="add", python_callable=lambda: 1 + 1)
    say >> add
"""
SDK_DAG = """
from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2025, 1, 1))
def sums():
    @task
    def numbers():
        return [1, 2, 3]

    @task
    def total(xs):
        print("total", sum(xs))

    total(numbers())


sums()
"""
K8S_DAG = """
from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
"""
ASSETS = """
import dagster as dg
from dagster_duckdb import DuckDBResource


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset
def total(numbers: list[int], duckdb: DuckDBResource) -> int:
    with duckdb.get_connection() as conn:
        return conn.execute("select ?::int", [sum(numbers)]).fetchone()[0]


defs = dg.Definitions(assets=[numbers, total], resources={"duckdb": DuckDBResource(database=":memory:")})
"""


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "hello.py").write_text(BASH_DAG)
    (folder / "sums.py").write_text(SDK_DAG)
    (folder / "k8s.py").write_text(K8S_DAG)
    return folder


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    code = tmp_path / "assets.py"
    code.write_text(ASSETS)
    return code


def test_dags_list_under_compat_airflow_lists_the_dags_and_one_line_for_a_provider_import(
    deras: Deras, dags: Path
) -> None:
    proc = deras("dags", "list", "-d", str(dags), "--compat", "airflow", "--json")
    assert proc.returncode == 1  # a file failed to import
    out = json.loads(proc.stdout)
    assert sorted((d["dag_id"], d["tasks"]) for d in out["dags"]) == [("hello", 2), ("sums", 2)]
    assert out["import_errors"] == {
        str(dags / "k8s.py"): f"{dags / 'k8s.py'}:3: deras --compat airflow: module "
        "'airflow.providers.cncf.kubernetes.operators.pod' is not supported\n"
    }
    text = deras("dags", "list", "-d", str(dags), "--compat", "airflow")
    assert "import error in" in text.stderr and "Traceback" not in text.stderr


def test_without_compat_the_same_files_fail_as_plain_python(deras: Deras, dags: Path, assets: Path) -> None:
    listed = json.loads(deras("dags", "list", "-d", str(dags), "--json").stdout)
    assert listed["dags"] == []
    assert all("No module named 'airflow'" in tb for tb in listed["import_errors"].values())
    proc = deras("materialize", "-f", str(assets))
    assert proc.returncode == 1
    assert "ModuleNotFoundError: No module named 'dagster'" in proc.stderr


@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_dags_test_runs_airflow_operators_under_compat(deras: Deras, dags: Path, executor: str) -> None:
    proc = deras(
        "dags",
        "test",
        "hello",
        "-f",
        str(dags / "hello.py"),
        "--compat",
        "airflow",
        "--executor",
        executor,
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout)
    assert run["state"] == "success" and [t["state"] for t in run["task_instances"]] == ["success"] * 2
    assert "hello from bash" in deras("runs", "logs", run["run_id"]).stdout


def test_a_taskflow_dag_from_airflow_sdk_runs_under_compat(deras: Deras, dags: Path) -> None:
    proc = deras("dags", "test", "sums", "-d", str(dags), "--compat", "airflow", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "total 6" in deras("runs", "logs", json.loads(proc.stdout)["run_id"]).stdout


def test_materialize_a_dagster_file_under_compat(deras: Deras, assets: Path) -> None:
    proc = deras("materialize", "-f", str(assets), "--compat", "dagster", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "success"


def test_deras_compat_in_the_environment_turns_it_on(deras: Deras, assets: Path) -> None:
    proc = deras("materialize", "-f", str(assets), "--json", env={"DERAS_COMPAT": "dagster"})
    assert proc.returncode == 0, proc.stderr


def test_compat_in_deras_yaml_turns_it_on_and_the_option_wins(
    deras: Deras, assets: Path, tmp_path: Path
) -> None:
    (tmp_path / "deras.yaml").write_text("compat: [dagster]\n")
    assert deras("materialize", "-f", str(assets), "--json").returncode == 0
    off = deras("materialize", "-f", str(assets), "--compat", "none")
    assert off.returncode == 1 and "No module named 'dagster'" in off.stderr


def test_the_code_server_loads_under_compat(deras: Deras, assets: Path) -> None:
    proc = deras("code", "snapshot", "--server", "-f", str(assets), "--compat", "dagster", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [a["key"] for a in json.loads(proc.stdout)["assets"]] == ["numbers", "total"]


def test_the_daemon_and_its_run_workers_load_under_compat(
    dags: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DERAS_DATABASE_URL", raising=False)
    code = ["-f", str(dags / "hello.py"), "--compat", "airflow"]
    runs, _ = runs_the_daemon_finishes(new_home(tmp_path), code, tmp_path)
    assert [(r.target, r.status) for r in runs] == [("dag:hello", dg.RunStatus.SUCCESS)]


@pytest.mark.parametrize(
    ("args", "env", "yaml", "message"),
    [
        (["--compat", "foo"], {}, None, "--compat: unknown compat mode 'foo'"),
        ([], {"DERAS_COMPAT": "airflow,bar"}, None, "DERAS_COMPAT: unknown compat mode 'bar'"),
        ([], {}, "compat: 3\n", "deras.yaml: compat: expected airflow, dagster or a list of them, got 3"),
    ],
    ids=["option", "environment", "deras.yaml"],
)
def test_a_bad_compat_value_is_a_clear_error(
    deras: Deras,
    assets: Path,
    tmp_path: Path,
    args: list[str],
    env: dict[str, str],
    yaml: str | None,
    message: str,
) -> None:
    if yaml is not None:
        (tmp_path / "deras.yaml").write_text(yaml)
    proc = deras("materialize", "-f", str(assets), *args, env=env)
    assert proc.returncode == (1 if yaml else 2)  # deras.yaml is a settings error, not usage
    assert message in proc.stderr
