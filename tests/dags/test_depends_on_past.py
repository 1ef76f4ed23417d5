"""``depends_on_past``: a task instance starts only once the same task in the previous DAG run
succeeded or was skipped (``wait_for_downstream``: its direct downstream tasks there too)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import deras as dg
from deras._exec.dag_runs import clear_task_instances
from deras._instance.instance import DerasInstance
from deras._instance.settings import Settings

JAN_1, JAN_2, JAN_3 = (datetime(2025, 1, d, tzinfo=UTC) for d in (1, 2, 3))


def make_dag(
    outcome: dict[str, str], *, timeout: float | None = None, wait_for_downstream: bool = False
) -> dg.DAG:
    """``load`` fails, skips or succeeds as ``outcome["load"]`` says at the time it runs."""

    def load() -> str:
        if outcome["load"] == "fail":
            raise RuntimeError("load broke")
        if outcome["load"] == "skip":
            raise dg.SkipTask("nothing to load")
        return "loaded"

    def report() -> None:
        if outcome.get("report") == "fail":
            raise RuntimeError("report broke")

    with dg.DAG("past", dagrun_timeout=timedelta(seconds=timeout) if timeout else None) as d:
        first = dg.EmptyOperator(task_id="first")
        loading = dg.PythonOperator(
            task_id="load",
            python_callable=load,
            depends_on_past=True,
            wait_for_downstream=wait_for_downstream,
        )
        reporting = dg.PythonOperator(task_id="report", python_callable=report, trigger_rule="all_done")
        first >> loading >> reporting
    return d


def states(run: Any) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.task_instances}


def test_the_first_run_has_no_past_to_wait_for(instance: Any) -> None:
    run = make_dag({"load": "ok"}).test(logical_date=JAN_1, instance=instance)
    assert states(run)["load"] == "success"


@pytest.mark.parametrize("before", ["ok", "skip"])
def test_a_task_runs_after_its_previous_instance_succeeded_or_was_skipped(instance: Any, before: str) -> None:
    outcome = {"load": before}
    make_dag(outcome).test(logical_date=JAN_1, instance=instance)
    outcome["load"] = "ok"
    run = make_dag(outcome).test(logical_date=JAN_2, instance=instance)
    assert states(run) == {"first": "success", "load": "success", "report": "success"}


def test_a_task_does_not_run_while_its_previous_instance_is_failed(instance: Any) -> None:
    outcome = {"load": "fail"}
    make_dag(outcome).test(logical_date=JAN_1, instance=instance)
    outcome["load"] = "ok"
    # The run would wait for ever; its dagrun_timeout ends the wait.
    run = make_dag(outcome, timeout=1.5).test(logical_date=JAN_2, instance=instance)
    assert states(run)["first"] == "success"
    assert states(run)["load"] == "skipped"  # never tried
    assert run.get_task_instance("load").try_number == 0
    logs = [e.message for e in run.result.events if e.node == "past.load"]
    waiting = "depends_on_past: waiting for task load of the previous DAG run"
    assert any(waiting in m and "it is failed" in m for m in logs)


def test_the_previous_run_is_the_one_with_the_latest_earlier_logical_date(instance: Any) -> None:
    outcome = {"load": "ok"}
    make_dag(outcome).test(logical_date=JAN_2, instance=instance)
    outcome["load"] = "fail"
    make_dag(outcome).test(logical_date=JAN_3, instance=instance)  # a later run failing does not matter
    outcome["load"] = "ok"
    run = make_dag(outcome, timeout=5).test(logical_date=JAN_1, instance=instance)  # no earlier run
    assert states(run)["load"] == "success"


def test_a_waiting_task_runs_once_its_previous_instance_is_cleared_and_succeeds(
    instance: Any, db_url: str, tmp_path: Any
) -> None:
    outcome = {"load": "fail"}
    dag = make_dag(outcome)
    first = dag.test(logical_date=JAN_1, instance=instance)
    result: dict[str, Any] = {}

    def second_run() -> None:
        other = DerasInstance(Settings(tmp_path / "home", db_url))
        try:
            result["run"] = make_dag(outcome, timeout=60).test(logical_date=JAN_2, instance=other)
            result["states"] = states(result["run"])
        finally:
            other.dispose()

    thread = threading.Thread(target=second_run)
    thread.start()
    waiting = threading.Event()
    for _ in range(300):  # the second run says it waits (bounded: a hang fails the test, not CI)
        runs = [r for r in instance.get_runs(dag_id="past") if r.logical_date == JAN_2]
        if runs and any("depends_on_past: waiting" in e.message for e in instance.get_events(runs[0].run_id)):
            waiting.set()
            break
        thread.join(0.1)
    assert waiting.is_set()
    outcome["load"] = "ok"
    cleared = clear_task_instances(dag, instance, first.run_id, ["load"])
    assert cleared.state == "success"
    thread.join(30)
    assert not thread.is_alive()
    assert result["states"] == {"first": "success", "load": "success", "report": "success"}


def test_wait_for_downstream_also_waits_for_the_previous_runs_downstream_tasks(instance: Any) -> None:
    outcome = {"load": "ok", "report": "fail"}
    make_dag(outcome, wait_for_downstream=True).test(logical_date=JAN_1, instance=instance)
    outcome["report"] = "ok"
    run = make_dag(outcome, timeout=1.5, wait_for_downstream=True).test(logical_date=JAN_2, instance=instance)
    assert states(run)["load"] == "skipped"
    logs = [e.message for e in run.result.events if e.node == "past.load"]
    assert any("waiting for task report of the previous DAG run" in m for m in logs)


DAILY = """
from datetime import datetime
import time
import deras as dg

with dg.DAG("daily_past", schedule="@daily", start_date=datetime(2025, 1, 1), catchup=True) as daily_past:
    def load():
        time.sleep(0.2)
    dg.PythonOperator(task_id="load", python_callable=load, depends_on_past=True)
"""


def test_the_daemons_runs_of_consecutive_dates_run_a_depends_on_past_task_in_date_order(
    make_instance: Any, write_code: Any
) -> None:
    from deras._daemon.daemon_context import DaemonContext
    from deras._daemon.run_worker import execute_stored_run
    from deras._daemon.schedule_ticker import ScheduleTicker

    instance = make_instance()
    loaded = write_code(DAILY)
    ScheduleTicker(DaemonContext(instance, loaded.definitions, loaded.location)).tick(
        datetime(2025, 1, 3, 0, 30, tzinfo=UTC).timestamp()
    )
    jan_1, jan_2 = sorted(instance.get_runs(dag_id="daily_past"), key=lambda r: r.logical_date)
    # The later run's worker starts first: its task waits until the earlier run's succeeded.
    later = threading.Thread(target=execute_stored_run, args=(instance, jan_2.run_id))
    later.start()
    waited = False
    for _ in range(300):  # bounded: a hang fails the test
        waited = any("depends_on_past: waiting" in e.message for e in instance.get_events(jan_2.run_id))
        if waited:
            break
        later.join(0.1)
    assert waited
    assert execute_stored_run(instance, jan_1.run_id) == dg.RunStatus.SUCCESS
    later.join(60)
    assert not later.is_alive()
    assert instance.get_run(jan_2.run_id).status == dg.RunStatus.SUCCESS
    [first] = instance.get_attempts(jan_1.run_id, node="daily_past.load")
    [second] = instance.get_attempts(jan_2.run_id, node="daily_past.load")
    assert second.start_time >= first.end_time
