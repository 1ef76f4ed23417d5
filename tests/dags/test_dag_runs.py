"""Running DAGs: values between tasks, trigger rules, branching, retries, callbacks, mapping."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import deras as dg

DAY = datetime(2025, 3, 1, tzinfo=UTC)


def test_return_values_flow_and_dag_run_reports_task_instances() -> None:
    @dg.dag(schedule="@daily", start_date=datetime(2025, 1, 1))
    def etl() -> None:
        @dg.task
        def extract() -> list[int]:
            return [1, 2, 3]

        @dg.task(retries=3, retry_exponential_backoff=True, execution_timeout=timedelta(minutes=5))
        def transform(rows: list[int]) -> list[int]:
            return [r * 2 for r in rows]

        @dg.task(trigger_rule="all_done")
        def load(rows: list[int], **context: Any) -> int:
            assert context["ds"] == "2025-03-01"
            assert context["data_interval_end"] == DAY + timedelta(days=1)
            assert context["ti"].task_id == "load"
            return sum(rows)

        load(transform(extract()))

    run = etl().test(logical_date=DAY)
    assert run.state == "success"
    assert run.get_task_instance("load").state == "success"
    assert run.get_task_instance("load").try_number == 1
    assert run.xcom("load") == 12
    assert {ti.task_id for ti in run.task_instances} == {"extract", "transform", "load"}
    assert run.logical_date == DAY and run.run_type == "manual"


def test_failed_task_makes_downstream_upstream_failed_and_all_done_still_runs() -> None:
    ran: list[str] = []
    with dg.DAG("tr") as d:

        def boom() -> None:
            raise RuntimeError("boom")

        bad = dg.PythonOperator(task_id="bad", python_callable=boom)
        after = dg.PythonOperator(task_id="after", python_callable=lambda: ran.append("after"))
        cleanup = dg.PythonOperator(
            task_id="cleanup", python_callable=lambda: ran.append("cleanup"), trigger_rule="all_done"
        )
        alarm = dg.PythonOperator(
            task_id="alarm", python_callable=lambda: ran.append("alarm"), trigger_rule="one_failed"
        )
        bad >> [after, cleanup, alarm]
    run = d.test(logical_date=DAY)
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.task_instances}
    assert states == {"bad": "failed", "after": "upstream_failed", "cleanup": "success", "alarm": "success"}
    assert sorted(ran) == ["alarm", "cleanup"]


def test_skip_task_skips_and_downstream_follows_trigger_rules() -> None:
    with dg.DAG("skip") as d:

        def nothing_new() -> None:
            raise dg.SkipTask("no new files")

        check = dg.PythonOperator(task_id="check", python_callable=nothing_new)
        process = dg.EmptyOperator(task_id="process")
        report = dg.EmptyOperator(task_id="report", trigger_rule="none_failed")
        check >> process >> report
    run = d.test(logical_date=DAY)
    states = {ti.task_id: ti.state for ti in run.task_instances}
    assert states == {"check": "skipped", "process": "skipped", "report": "success"}
    assert run.state == "success"


def test_a_task_skipped_before_it_ran_has_try_number_0_and_one_that_raised_skiptask_1() -> None:
    """As in Airflow: try_number counts the tries made. ``check`` ran and skipped itself;
    ``process`` (its downstream) and ``after`` (upstream failed) never ran."""
    with dg.DAG("tries") as d:

        def nothing_new() -> None:
            raise dg.SkipTask("no new files")

        def boom() -> None:
            raise RuntimeError("boom")

        check = dg.PythonOperator(task_id="check", python_callable=nothing_new)
        process = dg.EmptyOperator(task_id="process")
        bad = dg.PythonOperator(task_id="bad", python_callable=boom)
        after = dg.EmptyOperator(task_id="after")
        check >> process
        bad >> after
    run = d.test(logical_date=DAY)
    tries = {ti.task_id: (ti.state, ti.try_number) for ti in run.task_instances}
    assert tries == {
        "check": ("skipped", 1),
        "process": ("skipped", 0),
        "bad": ("failed", 1),
        "after": ("upstream_failed", 0),
    }
    assert all(ti.start_date is not None for ti in run.task_instances)  # Airflow stamps skips too


def test_branch_follows_the_returned_task_ids() -> None:
    @dg.dag
    def branching() -> None:
        @dg.task.branch
        def choose() -> str:
            return "big"

        @dg.task
        def big() -> str:
            return "big"

        @dg.task
        def small() -> str:
            return "small"

        @dg.task(trigger_rule="none_failed")
        def join() -> None: ...

        c = choose()
        b, s = big(), small()
        c >> [b, s]
        [b, s] >> join()

    run = branching().test(logical_date=DAY)
    states = {ti.task_id: ti.state for ti in run.task_instances}
    assert states == {"choose": "success", "big": "success", "small": "skipped", "join": "success"}


def test_retries_use_the_next_try_number_and_call_the_retry_callback() -> None:
    tries: list[int] = []
    retried: list[int] = []

    def flaky(ti: Any) -> str:
        tries.append(ti.try_number)
        if ti.try_number < 3:
            raise ConnectionError("try later")
        return "ok"

    with dg.DAG("retry") as d:
        dg.PythonOperator(
            task_id="flaky",
            python_callable=flaky,
            retries=2,
            retry_delay=0,
            on_retry_callback=lambda context: retried.append(context["try_number"]),
        )
    run = d.test(logical_date=DAY)
    assert tries == [1, 2, 3] and retried == [1, 2]
    ti = run.get_task_instance("flaky")
    assert (ti.state, ti.try_number) == ("success", 3)


def test_callbacks_get_keyword_context_and_a_raising_callback_changes_nothing() -> None:
    seen: dict[str, Any] = {}

    def on_failure(*, context: dict[str, Any]) -> None:
        seen["failure"] = str(context["exception"])

    def broken_success(*, context: dict[str, Any]) -> None:
        raise ValueError("callback bug")

    def dag_failed(*, context: dict[str, Any]) -> None:
        seen["dag"] = context["dag_run"].run_id

    with dg.DAG("cb", on_failure_callback=dag_failed) as d:
        ok = dg.EmptyOperator(task_id="ok", on_success_callback=broken_success)
        bad = dg.PythonOperator(task_id="bad", python_callable=lambda: 1 / 0, on_failure_callback=on_failure)
        ok >> bad
    run = d.test(logical_date=DAY)
    assert run.get_task_instance("ok").state == "success"
    assert seen == {"failure": "division by zero", "dag": run.run_id}
    logs = [e for e in run.result.events if e.event_type == dg.EventType.LOG and e.level == "ERROR"]
    assert any("on_success_callback raised (ignored)" in e.message for e in logs)


def test_execution_timeout_really_stops_a_bash_task(no_hang) -> None:
    with dg.DAG("slow") as d:
        dg.BashOperator(task_id="sleepy", bash_command="sleep 60", execution_timeout=timedelta(seconds=0.3))
    with no_hang(30):
        run = d.test(logical_date=DAY)
    assert run.get_task_instance("sleepy").state == "failed"


def test_bash_operator_templates_and_fails_on_nonzero_exit() -> None:
    with dg.DAG("bash", params={"name": "deras"}) as d:
        hello = dg.BashOperator(
            task_id="hello", bash_command="echo {{ ds_nodash }} {{ params.name }} {{ run_id }}"
        )
        bad = dg.BashOperator(task_id="bad", bash_command="echo about to fail; exit 3")
        hello >> bad
    run = d.test(logical_date=DAY)
    assert run.xcom("hello") == f"20250301 deras {run.run_id}"
    assert run.get_task_instance("bad").state == "failed"
    logs = "\n".join(e.message for e in run.result.events if e.node == "bash.bad")
    assert "about to fail" in logs and "exit code 3" in logs


def test_xcom_push_and_pull() -> None:
    with dg.DAG("xcom") as d:

        def push(ti: Any) -> None:
            ti.xcom_push("rows", 41)

        def pull(ti: Any) -> int:
            return ti.xcom_pull(task_ids="push", key="rows") + 1

        dg.PythonOperator(task_id="push", python_callable=push) >> dg.PythonOperator(
            task_id="pull", python_callable=pull
        )
    assert d.test(logical_date=DAY).xcom("pull") == 42


def test_dynamic_mapping_runs_one_instance_per_element_in_order() -> None:
    @dg.dag
    def mapped() -> None:
        @dg.task
        def numbers() -> list[int]:
            return [1, 2, 3]

        @dg.task
        def add(x: int, y: int) -> int:
            return x + y

        @dg.task
        def total(values: list[int]) -> int:
            return sum(values)

        total(add.partial(y=10).expand(x=numbers()))

    run = mapped().test(logical_date=DAY)
    assert run.xcom("total") == 36
    assert [run.get_task_instance("add", i).map_index for i in range(3)] == [0, 1, 2]
    assert [run.xcom("add", map_index=i) for i in range(3)] == [11, 12, 13]


def test_mapping_over_an_empty_list_follows_trigger_rules() -> None:
    @dg.dag
    def empty() -> None:
        @dg.task
        def nothing() -> list[int]:
            return []

        @dg.task
        def each(x: int) -> int:
            return x

        @dg.task(trigger_rule="none_failed")
        def after(values: list[int]) -> int:
            return len(values)

        @dg.task
        def strict(values: list[int]) -> int:
            return len(values)

        mapped = each.expand(x=nothing())
        after(mapped)
        strict(mapped)

    run = empty().test(logical_date=DAY)
    states = {ti.task_id: ti.state for ti in run.task_instances}
    assert states["each"] == "skipped" and states["after"] == "success" and states["strict"] == "skipped"
    assert run.xcom("after") == 0


def test_params_are_validated_before_anything_runs() -> None:
    ran: list[int] = []

    @dg.dag(params={"n": dg.Param(5, type="integer", minimum=1)})
    def sized() -> None:
        @dg.task
        def use(**context: Any) -> None:
            ran.append(context["params"]["n"])

        use()

    d = sized()
    assert d.test(logical_date=DAY, conf={"n": 3}).state == "success"
    with pytest.raises(dg.ConfigError, match="n"):
        d.test(logical_date=DAY, conf={"n": 0})
    assert ran == [3]


def test_outlets_record_materializations() -> None:
    instance = dg.DerasInstance.ephemeral()
    with dg.DAG("out") as d:
        dg.EmptyOperator(task_id="publish", outlets=[dg.AssetKey("report")])
    run = d.test(logical_date=DAY, instance=instance)
    mat = instance.get_latest_materialization("report")
    assert mat is not None and mat.run_id == run.run_id


def test_large_return_value_stays_out_of_the_database(instance: Any) -> None:
    blob = b"x" * 5_000_000

    with dg.DAG("big") as d:
        dg.PythonOperator(task_id="make", python_callable=lambda: blob)
    run = d.test(logical_date=DAY, instance=instance)
    assert run.xcom("make") == blob
    events = instance.get_events(run.run_id)
    assert max(len(repr(e.data)) + len(e.message) for e in events) < 10_000


def test_dagrun_timeout_skips_what_has_not_started_and_fails_the_run() -> None:
    with dg.DAG("slowrun", dagrun_timeout=timedelta(seconds=0.2)) as d:
        slow = dg.PythonOperator(task_id="slow", python_callable=lambda: time.sleep(0.4))
        later = dg.EmptyOperator(task_id="later", trigger_rule="always")
        slow >> later
    run = d.test(logical_date=DAY)
    states = {ti.task_id: ti.state for ti in run.task_instances}
    assert states == {"slow": "success", "later": "skipped"}
    assert run.state == "failed"


def test_exponential_backoff_and_max_retry_delay_shape_the_waits() -> None:
    with dg.DAG("backoff") as d:
        dg.PythonOperator(
            task_id="t",
            python_callable=lambda: 1,
            retries=4,
            retry_delay=timedelta(seconds=1),
            retry_exponential_backoff=True,
            max_retry_delay=timedelta(seconds=3),
        )
    policy = next(n for n in d.graph_nodes()).retry_policy
    assert [policy.delay_for(k) for k in (1, 2, 3, 4)] == [1, 2, 3, 3]


def test_asset_schedule_is_stored_for_the_daemon_and_runs_as_asset_triggered() -> None:
    with dg.DAG("on_raw", schedule=[dg.AssetKey("raw_data")], start_date=datetime(2025, 1, 1)) as d:
        dg.EmptyOperator(task_id="t")
    assert d.schedule.kind == "assets"
    assert [k.to_user_string() for k in d.schedule.asset_keys] == ["raw_data"]
    run = d.test(logical_date=DAY, run_type="asset_triggered")
    assert run.run_type == "asset_triggered" and run.state == "success"


def test_unknown_run_type_is_refused() -> None:
    with dg.DAG("rt") as d:
        dg.EmptyOperator(task_id="t")
    with pytest.raises(ValueError, match="run_type 'nightly'"):
        d.test(run_type="nightly")


def test_cleared_run_on_a_persistent_store(instance: Any) -> None:
    from deras._exec.dag_runs import clear_task_instances

    flaky = {"fail": True}

    def maybe_fail() -> int:
        if flaky["fail"]:
            raise RuntimeError("first time")
        return 7

    with dg.DAG("persist") as d:
        first = dg.PythonOperator(task_id="first", python_callable=lambda: 5)
        second = dg.PythonOperator(task_id="second", python_callable=maybe_fail)
        first >> second
    run = d.test(logical_date=DAY, instance=instance)
    assert run.state == "failed"
    flaky["fail"] = False
    again = clear_task_instances(d, instance, run.run_id, ["second"])
    assert again.state == "success" and again.xcom("second") == 7 and again.xcom("first") == 5
    assert again.get_task_instance("second").try_number == 2


def test_all_done_task_after_a_failed_one_gets_none_for_its_value() -> None:
    @dg.dag
    def tolerant() -> None:
        @dg.task
        def fragile() -> int:
            raise RuntimeError("broken source")

        @dg.task(trigger_rule="all_done")
        def report(value: int | None) -> str:
            return "nothing" if value is None else str(value)

        report(fragile())

    run = tolerant().test(logical_date=DAY)
    assert run.get_task_instance("report").state == "success" and run.xcom("report") == "nothing"
    assert run.state == "failed"


def test_reexecute_of_a_dag_run_points_to_tasks_clear() -> None:
    instance = dg.DerasInstance.ephemeral()
    with dg.DAG("re") as d:
        dg.PythonOperator(task_id="bad", python_callable=lambda: 1 / 0)
    run = d.test(logical_date=DAY, instance=instance)
    with pytest.raises(dg.DerasError, match="deras tasks clear re --run"):
        instance.reexecute(run.run_id, definitions=dg.Definitions(dags=[d]))


def test_logical_date_is_read_in_the_dags_timezone() -> None:
    from zoneinfo import ZoneInfo

    seen: list[str] = []
    with dg.DAG(
        "berlin", schedule="@daily", start_date=datetime(2025, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    ) as d:

        def note(ds: str) -> None:  # a parameter named ds receives the context's ds
            seen.append(ds)

        dg.PythonOperator(task_id="t", python_callable=note)
    run = d.test(logical_date=datetime(2025, 3, 30))
    assert seen == ["2025-03-30"]
    assert run.logical_date.utcoffset() == timedelta(hours=1)
