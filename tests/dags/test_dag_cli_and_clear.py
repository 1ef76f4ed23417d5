"""DAG files from a folder, the dags/tasks CLI, clearing task instances, and due runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import deras as dg
from deras._dags.due import dag_due_runs
from deras._dags.folder import load_dag_folder
from deras._exec.dag_runs import clear_task_instances

pytestmark = pytest.mark.slow  # the CLI in fresh processes

ETL = """
from datetime import datetime
import os
import deras as dg

N = dg.Param(2, type="integer", minimum=1)

@dg.dag(schedule="@daily", start_date=datetime(2025, 1, 1), params={"n": N})
def etl():
    @dg.task
    def extract(**context):
        return list(range(context["params"]["n"]))

    @dg.task
    def load(rows):
        if os.environ.get("BREAK_LOAD"):
            raise RuntimeError("load is broken")
        return sum(rows)

    load(extract())

etl_dag = etl()
"""


@pytest.fixture
def dags_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "etl.py").write_text(ETL)
    (folder / "broken.py").write_text("import deras as dg\nraise ImportError('no module named vendor_sdk')\n")
    return folder


def _deras(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    full.update({"DERAS_HOME": str(tmp_path / "home"), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "deras", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_folder_loads_good_files_and_lists_import_errors(dags_folder: Path) -> None:
    bag = load_dag_folder(dags_folder)
    assert list(bag.dags) == ["etl"]
    [(path, tb)] = bag.import_errors.items()
    assert path.endswith("broken.py") and "ImportError: no module named vendor_sdk" in tb


def test_cli_dags_list_shows_dags_and_import_errors(tmp_path: Path, dags_folder: Path) -> None:
    proc = _deras(tmp_path, "dags", "list", "-d", str(dags_folder), "--json")
    assert proc.returncode == 1  # an import error is a failure, but the good DAGs are listed
    out = json.loads(proc.stdout)
    assert [d["dag_id"] for d in out["dags"]] == ["etl"] and out["dags"][0]["tasks"] == 2
    assert any("vendor_sdk" in tb for tb in out["import_errors"].values())


def test_cli_trigger_validates_conf_before_running(tmp_path: Path, dags_folder: Path) -> None:
    bad = _deras(tmp_path, "dags", "trigger", "etl", "-d", str(dags_folder), "--conf", '{"n": 0}')
    assert bad.returncode == 1 and "param 'n'" in bad.stderr and "minimum of 1" in bad.stderr
    ok = _deras(tmp_path, "dags", "trigger", "etl", "-d", str(dags_folder), "--conf", '{"n": 4}', "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["state"] == "success"
    runs = json.loads(_deras(tmp_path, "runs", "list", "--json").stdout)
    assert len(runs) == 1 and runs[0]["target"] == "dag:etl"


def test_cli_backfill_runs_each_logical_date_in_order(tmp_path: Path, dags_folder: Path) -> None:
    proc = _deras(
        tmp_path,
        "dags",
        "backfill",
        "etl",
        "-d",
        str(dags_folder),
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-03",
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line.split()[0] for line in proc.stdout.splitlines()[:3]]
    assert lines == ["2025-01-01T00:00:00+00:00", "2025-01-02T00:00:00+00:00", "2025-01-03T00:00:00+00:00"]
    runs = json.loads(_deras(tmp_path, "runs", "list", "--json").stdout)
    assert {r["tags"]["deras/run_type"] for r in runs} == {"backfill"}
    again = _deras(
        tmp_path,
        "dags",
        "backfill",
        "etl",
        "-d",
        str(dags_folder),
        "--start",
        "2025-01-02",
        "--end",
        "2025-01-04",
    )
    assert again.returncode == 0, again.stderr
    assert (
        again.stdout.count("already has a run") == 2 and "backfill of 1 run(s): 1 succeeded" in again.stdout
    )
    assert len(json.loads(_deras(tmp_path, "runs", "list", "--json").stdout)) == 4


ENDS = """
from datetime import datetime
import deras as dg

with dg.DAG("ends", schedule="@daily", start_date=datetime(2025, 3, 1),
            end_date=datetime(2025, 3, 6)) as ends:
    dg.EmptyOperator(task_id="noop")
"""


@pytest.mark.slow
def test_cli_backfill_runs_nothing_past_end_date_and_says_so(tmp_path: Path) -> None:
    code = tmp_path / "ends.py"
    code.write_text(ENDS)
    proc = _deras(
        tmp_path, "dags", "backfill", "ends", "-f", str(code), "-s", "2025-03-05", "-e", "2025-03-08"
    )
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()[:2]] == [
        "2025-03-05T00:00:00+00:00",
        "2025-03-06T00:00:00+00:00",
    ]
    assert "backfill of 2 run(s)" in proc.stdout
    assert "2 logical date(s) outside the DAG's window" in proc.stderr and "2025-03-07" in proc.stderr
    runs = json.loads(_deras(tmp_path, "runs", "list", "--json").stdout)
    assert sorted(r["tags"]["deras/logical_date"][:10] for r in runs) == ["2025-03-05", "2025-03-06"]

    after = _deras(
        tmp_path, "dags", "backfill", "ends", "-f", str(code), "-s", "2025-03-07", "-e", "2025-03-08"
    )
    assert after.returncode == 1 and "none of its logical dates" in after.stderr
    trigger = _deras(tmp_path, "dags", "trigger", "ends", "-f", str(code), "--logical-date", "2025-03-07")
    assert trigger.returncode == 1 and "after its end_date 2025-03-06T00:00:00+00:00" in trigger.stderr
    assert len(json.loads(_deras(tmp_path, "runs", "list", "--json").stdout)) == 2


def test_cli_clear_reruns_the_task_with_the_next_try_number(tmp_path: Path, dags_folder: Path) -> None:
    failed = _deras(
        tmp_path, "dags", "trigger", "etl", "-d", str(dags_folder), "--json", env={"BREAK_LOAD": "1"}
    )
    assert failed.returncode == 1
    run_id = json.loads(failed.stdout)["run_id"]
    cleared = _deras(
        tmp_path, "tasks", "clear", "etl", "--run", run_id, "--task", "load", "-d", str(dags_folder)
    )
    assert cleared.returncode == 0, cleared.stderr
    assert "load" in cleared.stdout and "try 2" in cleared.stdout
    shown = json.loads(_deras(tmp_path, "runs", "show", run_id, "--json").stdout)
    assert shown["status"] == "success"
    assert [(a["node"], a["attempt"], a["status"]) for a in shown["attempts"] if a["node"] == "etl.load"] == [
        ("etl.load", 0, "failed"),
        ("etl.load", 1, "success"),
    ]


def test_clear_with_downstream_keeps_upstream_outcomes_and_xcoms() -> None:
    calls: dict[str, int] = {"a": 0, "b": 0, "c": 0}

    def count(name: str) -> Any:
        def fn() -> int:
            calls[name] += 1
            return calls[name]

        return fn

    with dg.DAG("clr") as d:
        a = dg.PythonOperator(task_id="a", python_callable=count("a"))
        b = dg.PythonOperator(task_id="b", python_callable=count("b"))
        c = dg.PythonOperator(task_id="c", python_callable=count("c"))
        a >> b >> c
    instance = dg.DerasInstance.ephemeral()
    run = d.test(logical_date=datetime(2025, 1, 1, tzinfo=UTC), instance=instance)
    again = clear_task_instances(d, instance, run.run_id, ["b"], downstream=True)
    assert calls == {"a": 1, "b": 2, "c": 2}
    assert again.state == "success"
    assert again.get_task_instance("b").try_number == 2 and again.get_task_instance("a").try_number == 1


def test_due_runs_follow_catchup_and_existing_runs() -> None:
    instance = dg.DerasInstance.ephemeral()
    with dg.DAG("daily", schedule="@daily", start_date=datetime(2025, 1, 1), catchup=True) as d:
        dg.EmptyOperator(task_id="t")
    now = datetime(2025, 1, 4, 12, tzinfo=UTC)
    due = dag_due_runs(d, instance, now)
    assert [r.logical_date.day for r in due] == [1, 2, 3]
    d.test(logical_date=due[0].logical_date, instance=instance, run_type="scheduled")
    assert [r.logical_date.day for r in dag_due_runs(d, instance, now)] == [2, 3]
    with dg.DAG("latest", schedule="@daily", start_date=datetime(2025, 1, 1), catchup=False) as latest:
        dg.EmptyOperator(task_id="t")
    assert [r.logical_date.day for r in dag_due_runs(latest, instance, now)] == [3]


def test_due_runs_honour_max_active_runs() -> None:
    instance = dg.DerasInstance.ephemeral()
    with dg.DAG(
        "capped", schedule="@hourly", start_date=datetime(2025, 1, 1), catchup=True, max_active_runs=5
    ) as d:
        dg.EmptyOperator(task_id="t")
    due = dag_due_runs(d, instance, datetime(2025, 1, 2, tzinfo=UTC))
    assert len(due) == 5 and due[0].logical_date == datetime(2025, 1, 1, tzinfo=UTC)


def test_cli_tasks_test_runs_one_task_and_dags_test_reports_each(tmp_path: Path, dags_folder: Path) -> None:
    one = _deras(tmp_path, "tasks", "test", "etl", "extract", "2025-01-05", "-d", str(dags_folder))
    assert one.returncode == 0, one.stderr
    assert "extract" in one.stdout and "load" not in one.stdout
    whole = _deras(
        tmp_path, "dags", "test", "etl", "2025-01-05", "-d", str(dags_folder), "--conf", '{"n": 3}'
    )
    assert whole.returncode == 0, whole.stderr
    assert "2025-01-05T00:00:00+00:00: success" in whole.stdout
    assert "extract" in whole.stdout and "load" in whole.stdout
    missing = _deras(tmp_path, "dags", "test", "nope", "-d", str(dags_folder))
    assert missing.returncode == 1 and "no DAG 'nope'" in missing.stderr and "vendor_sdk" in missing.stderr


def test_cli_module_loading_finds_dags_inside_definitions(tmp_path: Path) -> None:
    (tmp_path / "orders_mod.py").write_text(
        "import deras as dg\n"
        "def build():\n"
        "    with dg.DAG('orders') as d:\n"
        "        dg.EmptyOperator(task_id='t')\n"
        "    return d\n"
        "defs = dg.Definitions(dags=[build()])\n"
    )
    proc = _deras(tmp_path, "dags", "list", "-m", "orders_mod", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [d["dag_id"] for d in json.loads(proc.stdout)["dags"]] == ["orders"]


def test_reexecute_and_debug_of_a_dag_run_point_to_tasks_clear(tmp_path: Path, dags_folder: Path) -> None:
    failed = _deras(
        tmp_path, "dags", "trigger", "etl", "-d", str(dags_folder), "--json", env={"BREAK_LOAD": "1"}
    )
    run_id = json.loads(failed.stdout)["run_id"]
    for args in (("runs", "reexecute", run_id), ("runs", "debug", run_id, "load")):
        proc = _deras(tmp_path, *args)
        assert proc.returncode == 1 and f"deras tasks clear etl --run {run_id}" in proc.stderr


def test_selecting_a_dag_task_for_materialize_is_an_error() -> None:
    with dg.DAG("ingest") as ingest:
        dg.EmptyOperator(task_id="load")

    @dg.asset
    def a() -> int:
        return 1

    with pytest.raises(dg.DefinitionError, match=r"job 'j': selection 'ingest\.load' names a DAG task"):
        dg.Definitions(assets=[a], dags=[ingest], jobs=[dg.define_asset_job("j", selection="ingest.load")])


def test_cli_json_output_of_test_backfill_and_clear(tmp_path: Path, dags_folder: Path) -> None:
    tested = _deras(tmp_path, "dags", "test", "etl", "2025-01-05", "-d", str(dags_folder), "--json")
    out = json.loads(tested.stdout)
    assert out["state"] == "success" and out["logical_date"] == "2025-01-05T00:00:00+00:00"
    assert {ti["task_id"]: ti["state"] for ti in out["task_instances"]} == {
        "extract": "success",
        "load": "success",
    }
    back = _deras(
        tmp_path,
        "dags",
        "backfill",
        "etl",
        "-d",
        str(dags_folder),
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-02",
        "--json",
    )
    assert [r["state"] for r in json.loads(back.stdout)["runs"]] == ["success", "success"]
    run_id = json.loads(back.stdout)["runs"][0]["run_id"]
    cleared = _deras(
        tmp_path, "tasks", "clear", "etl", "--run", run_id, "--task", "load", "-d", str(dags_folder), "--json"
    )
    tis = {ti["task_id"]: ti["try_number"] for ti in json.loads(cleared.stdout)["task_instances"]}
    assert tis == {"extract": 1, "load": 2}


def test_clearing_a_task_that_ends_skipped_records_a_new_try(instance: Any) -> None:
    """A cleared task whose upstream now fails is recorded as its next attempt, not over the old
    one; it never ran again, so (as in Airflow) its try_number stays the tries it made: 1."""
    state = {"fail_b": False}

    def b() -> int:
        if state["fail_b"]:
            raise RuntimeError("b broke")
        return 1

    with dg.DAG("skipclear") as d:
        first = dg.PythonOperator(task_id="b", python_callable=b)
        second = dg.EmptyOperator(task_id="c")
        first >> second
    run = d.test(logical_date=datetime(2025, 1, 1, tzinfo=UTC), instance=instance)
    assert run.state == "success"
    state["fail_b"] = True
    again = clear_task_instances(d, instance, run.run_id, ["b"], downstream=True)
    assert again.state == "failed"
    c = again.get_task_instance("c")
    assert (c.state, c.try_number) == ("upstream_failed", 1)
    attempts = instance.get_attempts(run.run_id, node="skipclear.c")
    assert [(a.attempt, str(a.status)) for a in attempts] == [(0, "success"), (1, "upstream_failed")]


@pytest.mark.slow
def test_cli_dags_test_shows_no_try_for_a_task_that_never_ran(tmp_path: Path) -> None:
    code = tmp_path / "flow.py"
    code.write_text(
        "import deras as dg\n\n"
        "with dg.DAG('flow') as flow:\n"
        "    def boom():\n"
        "        raise RuntimeError('boom')\n"
        "    bad = dg.PythonOperator(task_id='bad', python_callable=boom)\n"
        "    after = dg.EmptyOperator(task_id='after')\n"
        "    bad >> after\n"
    )
    proc = _deras(tmp_path, "dags", "test", "flow", "2025-01-01", "-f", str(code))
    assert proc.returncode == 1
    lines = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()[1:]}
    assert lines == {"bad": ["failed", "try", "1"], "after": ["upstream_failed"]}
