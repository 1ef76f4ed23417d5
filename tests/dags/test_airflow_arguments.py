"""Airflow DAG files pass many operator and DAG arguments: each is accepted; typos are errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import deras as dg
from deras._core.errors import DefinitionError

DAY = datetime(2025, 1, 1, tzinfo=UTC)

AIRFLOW_OPERATOR_ARGUMENTS = {
    "depends_on_past": False,
    "wait_for_downstream": False,
    "email": ["team@example.com"],
    "email_on_failure": False,
    "email_on_retry": False,
    "doc_md": "# Load",
    "doc": "load",
    "owner": "data",
    "queue": "heavy",
    "pool": "db",
    "pool_slots": 2,
    "priority_weight": 10,
    "weight_rule": "absolute",
    "max_active_tis_per_dag": 1,
    "max_active_tis_per_dagrun": 1,
    "do_xcom_push": True,
    "executor_config": {"KubernetesExecutor": {"image": "x"}},
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "max_retry_delay": timedelta(minutes=10),
    "retry_exponential_backoff": True,
    "start_date": datetime(2024, 1, 1),
    "end_date": datetime(2030, 1, 1),
    "execution_timeout": timedelta(hours=1),
    "on_execute_callback": None,
    "run_as_user": "etl",
}


def test_every_common_operator_argument_is_accepted_and_kept() -> None:
    with dg.DAG("args") as d:
        t = dg.EmptyOperator(task_id="t", **AIRFLOW_OPERATOR_ARGUMENTS)
    assert d.get_task("t") is t
    assert (t.owner, t.queue, t.pool_slots, t.priority_weight) == ("data", "heavy", 2, 10)
    assert t.email == ["team@example.com"] and t.doc_md == "# Load"


def test_default_args_apply_to_every_task_and_unknown_keys_are_ignored() -> None:
    default_args = {"owner": "data", "email": "a@example.com", "retries": 3, "not_an_argument": 1}
    with dg.DAG("defaults", default_args=default_args):
        t = dg.EmptyOperator(task_id="t")
        own = dg.EmptyOperator(task_id="own", owner="me")
    assert (t.owner, t.email, t.retries) == ("data", "a@example.com", 3)
    assert own.owner == "me"


def test_an_unknown_argument_on_an_operator_is_an_error_naming_the_closest() -> None:
    with (
        pytest.raises(DefinitionError, match=r"task 't' of DAG 'typo': invalid .*'retires'.*'retries'"),
        dg.DAG("typo"),
    ):
        dg.EmptyOperator(task_id="t", retires=3)


def test_an_unknown_argument_on_a_taskflow_task_is_an_error() -> None:
    @dg.task(priority_wieght=3)
    def t() -> None:
        pass

    with pytest.raises(DefinitionError, match=r"invalid argument.*'priority_wieght'"), dg.DAG("typo2"):
        t()


def test_sla_is_accepted_with_a_warning_that_it_is_not_enforced() -> None:
    with pytest.warns(UserWarning, match="sla=.*not enforced"), dg.DAG("sla"):
        dg.EmptyOperator(task_id="t", sla=timedelta(hours=1))


def test_wait_for_downstream_implies_depends_on_past() -> None:
    with dg.DAG("wfd") as d:
        dg.EmptyOperator(task_id="t", wait_for_downstream=True)
    assert d.get_task("t").depends_on_past is True


def test_do_xcom_push_false_stores_no_return_value() -> None:
    with dg.DAG("quiet") as d:
        dg.PythonOperator(task_id="loud", python_callable=lambda: 1)
        dg.PythonOperator(task_id="quiet", python_callable=lambda: 2, do_xcom_push=False)
    run = d.test(logical_date=DAY)
    assert run.state == "success"
    assert run.xcom("loud") == 1
    with pytest.raises(KeyError, match="no XCom 'return_value' from task 'quiet'"):
        run.xcom("quiet")


def test_every_common_dag_argument_is_accepted() -> None:
    d = dg.DAG(
        "dag_args",
        description="loads",
        doc_md="# Loads",
        max_active_runs=1,
        max_active_tasks=4,
        dagrun_timeout=timedelta(hours=2),
        default_view="graph",
        orientation="TB",
        render_template_as_native_obj=False,
        template_searchpath=["/tmp"],
        is_paused_upon_creation=True,
        owner_links={"data": "https://example.com"},
        access_control=None,
        tags=["a"],
        catchup=False,
    )
    assert (d.max_active_tasks, d.default_view, d.is_paused_upon_creation) == (4, "graph", True)


def test_an_unknown_dag_argument_is_an_error_naming_the_closest() -> None:
    with pytest.raises(DefinitionError, match=r"DAG 'bad': invalid .*'max_active_run'.*'max_active_runs'"):
        dg.DAG("bad", max_active_run=1)


def test_schedule_interval_is_airflow_2s_name_for_schedule() -> None:
    d = dg.DAG("old", schedule_interval="@daily", start_date=DAY)
    assert d.schedule_arg == "@daily" and d.schedule.is_periodic
    with pytest.raises(DefinitionError, match="schedule= or schedule_interval=, not both"):
        dg.DAG("both", schedule="@daily", schedule_interval="@daily", start_date=DAY)


def test_start_date_in_default_args_is_the_dags_start_date() -> None:
    d = dg.DAG("from_defaults", schedule="@daily", default_args={"start_date": DAY})
    assert d.start_date == DAY


def test_user_defined_macros_and_filters_render_in_templates() -> None:
    with dg.DAG(
        "macros",
        user_defined_macros={"region": "eu", "double": lambda n: n * 2},
        user_defined_filters={"shout": lambda s: s.upper() + "!"},
    ) as d:
        dg.BashOperator(task_id="t", bash_command="echo {{ region | shout }} {{ double(21) }}")
    run = d.test(logical_date=DAY)
    assert run.xcom("t") == "EU! 42"


def test_render_template_as_native_obj_gives_templated_fields_their_values() -> None:
    def receive(ids, config, text):
        return {"ids": ids, "config": config, "text": text}

    for native, expected in [
        (True, {"ids": [1, 2], "config": {"n": 3}, "text": "ids: [1, 2]"}),
        (False, {"ids": "[1, 2]", "config": "{'n': 3}", "text": "ids: [1, 2]"}),
    ]:
        with dg.DAG(
            f"native_{native}", params={"ids": [1, 2], "n": 3}, render_template_as_native_obj=native
        ) as d:
            dg.PythonOperator(
                task_id="t",
                python_callable=receive,
                op_kwargs={
                    "ids": "{{ params.ids }}",
                    "config": "{{ {'n': params.n} }}",
                    "text": "ids: {{ params.ids }}",
                },
            )
        assert d.test(logical_date=DAY).xcom("t") == expected


def test_a_native_template_naming_something_undefined_still_fails_the_task() -> None:
    with dg.DAG("native_undefined", render_template_as_native_obj=True) as d:
        dg.PythonOperator(task_id="t", python_callable=lambda x: x, op_kwargs={"x": "{{ nope }}"})
    run = d.test(logical_date=DAY)
    assert run.get_task_instance("t").state == "failed"
    failures = [e.message for e in run.result.events if e.event_type == dg.EventType.STEP_FAILURE]
    assert any("'nope' is undefined" in m for m in failures)


def test_execute_and_skipped_callbacks_and_lists_of_callbacks_are_called() -> None:
    calls: list[str] = []

    def skip() -> None:
        raise dg.SkipTask("nothing new")

    def fail() -> None:
        raise RuntimeError("boom")

    with dg.DAG("callbacks_airflow") as d:
        dg.PythonOperator(
            task_id="skipper",
            python_callable=skip,
            on_execute_callback=lambda ctx: calls.append(f"execute {ctx['ti'].task_id}"),
            on_skipped_callback=lambda ctx: calls.append(f"skipped {ctx['ti'].task_id}"),
        )
        dg.PythonOperator(
            task_id="failer",
            python_callable=fail,
            on_failure_callback=[lambda ctx: calls.append("first"), lambda ctx: calls.append("second")],
        )
    d.test(logical_date=DAY)
    assert calls == ["execute skipper", "skipped skipper", "first", "second"]


def test_dag_test_takes_airflows_run_conf_and_execution_date() -> None:
    with dg.DAG("airflow_test_args", params={"n": 1}) as d:
        dg.PythonOperator(task_id="t", python_callable=lambda params: params["n"])
    run = d.test(execution_date=DAY, run_conf={"n": 7})
    assert (run.logical_date, run.xcom("t")) == (DAY, 7)
    with pytest.raises(DefinitionError, match="conf= or run_conf=, not both"):
        d.test(conf={}, run_conf={})


def test_operator_specific_airflow_arguments_are_accepted() -> None:
    with dg.DAG("specific") as d:
        dg.PythonOperator(
            task_id="p", python_callable=lambda: 1, templates_exts=[".sql"], show_return_value_in_logs=False
        )
        dg.BashOperator(task_id="b", bash_command="echo hi", output_encoding="utf-8")
    assert d.test(logical_date=DAY).state == "success"


def test_default_args_also_give_an_operators_own_arguments() -> None:
    class LoadOperator(dg.BaseOperator):
        def __init__(self, table: str, *, schema: str = "public", **kwargs: object) -> None:
            self.table, self.schema = table, schema
            super().__init__(**kwargs)  # type: ignore[arg-type]

        def execute(self, context: dict[str, object]) -> str:
            return f"{self.schema}.{self.table}"

    default_args = {
        "bash_command": "echo $GREETING",
        "env": {"GREETING": "hi"},
        "schema": "raw",
        "table": "t0",
    }
    with dg.DAG("own_defaults", default_args=default_args) as d:
        dg.BashOperator(task_id="greet")
        dg.BashOperator(task_id="own", bash_command="echo own")
        LoadOperator(table="orders", task_id="load")
        LoadOperator("customers", task_id="positional")
        LoadOperator(task_id="defaulted")
    run = d.test(logical_date=DAY)
    assert [run.xcom(t) for t in ("greet", "own", "load", "positional", "defaulted")] == [
        "hi",
        "own",
        "raw.orders",
        "raw.customers",
        "raw.t0",
    ]
