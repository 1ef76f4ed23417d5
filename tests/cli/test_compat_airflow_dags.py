"""A folder of Airflow DAG files, written as Airflow's tutorials and examples write them, runs
unchanged under ``--compat airflow``: the classic tutorial with templating and
``macros.ds_add``, the TaskFlow tutorial, a branch, short-circuits and Variables, through the
CLI and the daemon; a provider import is that file's one-line error
(examples/compat/airflow_dags)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from daemon_runs import new_home, runs_the_daemon_finishes

import deras as dg

FOLDER = Path(__file__).resolve().parents[2] / "examples" / "compat" / "airflow_dags"
DAGS = ("--compat", "airflow", "-d", "dags")

Deras = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True)
def dags(tmp_path: Path) -> Path:
    shutil.copytree(FOLDER, tmp_path / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "dags"


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def dag_test(deras: Deras, dag_id: str, logical_date: str = "2024-03-02") -> dict[str, Any]:
    proc = deras("dags", "test", *DAGS, dag_id, logical_date, "--json")
    run: dict[str, Any] = json.loads(proc.stdout)
    run["states"] = {ti["task_id"]: ti["state"] for ti in run["task_instances"]}
    return run


def logs(deras: Deras, run: dict[str, Any], task_id: str) -> str:
    return ok(deras("runs", "logs", run["run_id"], "--node", f"{run['dag_id']}.{task_id}")).stdout


def test_every_dag_file_loads_and_a_provider_import_is_one_line(deras: Deras) -> None:
    proc = deras("dags", "list", *DAGS, "--json")
    assert proc.returncode == 1  # one file failed to import
    listed = json.loads(proc.stdout)
    assert sorted(d["dag_id"] for d in listed["dags"]) == [
        "orders_taskflow",
        "pick_route",
        "quiet_days",
        "variables_demo",
        "warehouse_tutorial",
    ]
    ((file, error),) = listed["import_errors"].items()
    assert file.endswith("pod_task.py")
    assert "module 'airflow.providers.cncf.kubernetes.operators.pod' is not supported" in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_the_dag_list_keeps_its_columns_with_a_long_schedule(deras: Deras) -> None:
    lines = deras("dags", "list", *DAGS).stdout.splitlines()
    assert "every 1 day, 0:00:00" in "\n".join(lines)
    assert len({line.index(" tasks ") for line in lines}) == 1


def test_without_compat_the_airflow_imports_fail_as_python_would(deras: Deras) -> None:
    proc = deras("dags", "list", "-d", "dags", "--json")
    errors = json.loads(proc.stdout)["import_errors"]
    assert len(errors) == 6 and all("No module named 'airflow'" in e for e in errors.values())


def test_the_classic_tutorial_renders_ds_add_in_its_bash_template(deras: Deras) -> None:
    run = dag_test(deras, "warehouse_tutorial")
    assert run["states"] == {"stamp_date": "success", "pause": "success", "print_weeks": "success"}
    printed = logs(deras, run, "print_weeks")
    for offset, day in ((0, "2024-03-02"), (7, "2024-03-09"), (14, "2024-03-16")):
        assert f"run date 2024-03-02 plus {offset} days: {day}" in printed


def test_the_taskflow_tutorial_passes_one_key_of_multiple_outputs(deras: Deras) -> None:
    run = dag_test(deras, "orders_taskflow")
    assert run["state"] == "success"
    assert "3 orders worth 250.00" in logs(deras, run, "load")


@pytest.mark.parametrize(
    ("logical_date", "taken", "skipped"),
    [("2024-03-02", "weekend_route", "weekday_route"), ("2024-03-04", "weekday_route", "weekend_route")],
    ids=["saturday", "monday"],
)
def test_the_branch_follows_one_route_and_the_join_runs(
    deras: Deras, logical_date: str, taken: str, skipped: str
) -> None:
    run = dag_test(deras, "pick_route", logical_date)
    assert run["state"] == "success"
    assert run["states"] == {"choose": "success", taken: "success", skipped: "skipped", "join": "success"}


def test_a_falsy_short_circuit_skips_downstream_and_a_true_one_does_not(deras: Deras) -> None:
    run = dag_test(deras, "quiet_days")
    assert run["states"] == {
        "has_rows": "success",
        "report": "skipped",
        "is_open": "success",
        "publish": "success",
    }


def test_variables_are_read_set_and_templated_from_the_metadata_database(deras: Deras) -> None:
    missing = dag_test(deras, "variables_demo")
    assert missing["states"] == {"read_settings": "success", "greet": "failed"}
    assert "region_name" in logs(deras, missing, "greet")
    ok(deras("variables", "set", "region_name", "eu-west"))
    run = dag_test(deras, "variables_demo")
    assert run["state"] == "success"
    assert "region eu-west" in logs(deras, run, "greet")
    assert ok(deras("variables", "get", "last_reader")).stdout.strip() == "variables_demo"


def test_the_daemon_runs_the_folders_scheduled_dags_and_logs_the_provider_import(
    dags: Path, tmp_path: Path
) -> None:
    home = new_home(tmp_path)
    runs, log = runs_the_daemon_finishes(home, DAGS, tmp_path, count=2)
    instance = dg.DerasInstance.get(home)
    # The two scheduled DAGs of the folder (the others have schedule=None).
    by_target = {r.target: r for r in runs}
    assert {t: r.status for t, r in by_target.items()} == {
        "dag:pick_route": dg.RunStatus.SUCCESS,
        "dag:warehouse_tutorial": dg.RunStatus.SUCCESS,
    }
    run = by_target["dag:pick_route"]
    assert run.code_location == {"dags_folder": str(dags)}
    states = {a.node.split(".", 1)[1]: str(a.status) for a in instance.get_attempts(run.run_id)}
    weekend = run.logical_date.weekday() >= 5
    assert states["weekend_route" if weekend else "weekday_route"] == "success"
    assert states["weekday_route" if weekend else "weekend_route"] == "skipped"
    assert states["join"] == "success"
    assert f"{dags / 'pod_task.py'} did not load" in log  # the provider import
