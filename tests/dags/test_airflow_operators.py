"""Airflow's short-circuit and bash TaskFlow tasks, get_current_context and edge labels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import deras as dg
from deras._core.errors import DerasError

DAY = datetime(2025, 1, 1, tzinfo=UTC)


def states(run: Any) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.task_instances}


def short_circuit_dag(result: Any, ignore: bool) -> dg.DAG:
    with dg.DAG(f"sc_{bool(result)}_{ignore}") as d:
        gate = dg.ShortCircuitOperator(
            task_id="gate", python_callable=lambda: result, ignore_downstream_trigger_rules=ignore
        )
        direct = dg.EmptyOperator(task_id="direct")
        after = dg.EmptyOperator(task_id="after", trigger_rule="all_done")
        side = dg.EmptyOperator(task_id="side")
        gate >> direct >> after
        side >> after
    return d


@pytest.mark.parametrize("falsy", [False, 0, "", [], None])
def test_a_falsy_short_circuit_skips_everything_downstream_whatever_its_trigger_rule(falsy: Any) -> None:
    run = short_circuit_dag(falsy, ignore=True).test(logical_date=DAY)
    assert states(run) == {"gate": "success", "direct": "skipped", "after": "skipped", "side": "success"}
    assert run.state == "success"


def test_a_short_circuit_that_respects_trigger_rules_skips_only_its_direct_downstream() -> None:
    run = short_circuit_dag(False, ignore=False).test(logical_date=DAY)
    assert states(run) == {"gate": "success", "direct": "skipped", "after": "success", "side": "success"}


@pytest.mark.parametrize("ignore", [True, False])
def test_a_truthy_short_circuit_lets_everything_run(ignore: bool) -> None:
    run = short_circuit_dag("yes", ignore=ignore).test(logical_date=DAY)
    assert set(states(run).values()) == {"success"}
    assert run.xcom("gate") == "yes"


def test_the_skip_message_names_the_short_circuit_task() -> None:
    run = short_circuit_dag(False, ignore=True).test(logical_date=DAY)
    skipped = [e.message for e in run.result.events if e.node == f"{run.dag_id}.after"]
    assert any("short-circuited by task gate" in m for m in skipped)


def test_task_short_circuit_decorator() -> None:
    @dg.dag
    def weekdays():
        @dg.task.short_circuit
        def is_weekday(logical_date) -> bool:
            return logical_date.weekday() < 5

        @dg.task.short_circuit(ignore_downstream_trigger_rules=False)
        def never() -> bool:
            return False

        @dg.task
        def load() -> str:
            return "loaded"

        @dg.task(trigger_rule="none_failed")
        def report() -> str:
            return "reported"

        is_weekday() >> load()
        never() >> load() >> report()

    saturday = weekdays().test(logical_date=datetime(2025, 1, 4, tzinfo=UTC))
    wednesday = weekdays().test(logical_date=DAY)
    assert states(saturday)["load"] == "skipped"
    assert states(wednesday)["load"] == "success"
    assert states(wednesday)["load__1"] == "skipped"
    assert states(wednesday)["report"] == "success"  # only the direct downstream of `never` skips


def test_task_bash_runs_the_templated_command_its_function_returns() -> None:
    @dg.dag(params={"who": "team"})
    def exports():
        @dg.task
        def table() -> str:
            return "orders"

        @dg.task.bash(env={"MODE": "full"}, append_env=True)
        def export(name: str) -> str:
            return f"echo {name} {{{{ ds }}}} {{{{ params.who }}}} $MODE"

        export(table())

    run = exports().test(logical_date=DAY)
    assert run.xcom("export") == "orders 2025-01-01 team full"


def test_task_bash_exit_99_skips_and_a_failure_fails() -> None:
    @dg.dag
    def codes():
        @dg.task.bash
        def skip() -> str:
            return "exit 99"

        @dg.task.bash
        def fail() -> str:
            return "echo broken; exit 3"

        skip(), fail()

    assert states(codes().test(logical_date=DAY)) == {"skip": "skipped", "fail": "failed"}


@pytest.mark.parametrize("returned", ["", "   ", None, 3])
def test_task_bash_returning_no_command_fails_saying_so(returned: Any) -> None:
    @dg.dag
    def empty():
        @dg.task.bash
        def nothing() -> Any:
            return returned

        nothing()

    run = empty().test(logical_date=DAY)
    failures = [e.message for e in run.result.events if e.event_type == dg.EventType.STEP_FAILURE]
    assert any("must return the bash command as a non-empty string" in m for m in failures)


def read_context() -> str:
    context = dg.get_current_context()
    return f"{context['ds']} {context['ti'].task_id} {context['params']['n']} {context['dag_run'].run_id}"


def test_get_current_context_inside_a_task_is_its_context() -> None:
    @dg.dag(params={"n": 5})
    def ctx():
        @dg.task
        def deep() -> str:
            return read_context()

        deep()

    with dg.DAG("ctx_classic", params={"n": 6}) as classic:
        dg.PythonOperator(task_id="classic", python_callable=read_context)

    run = ctx().test(logical_date=DAY)
    assert run.xcom("deep") == f"2025-01-01 deep 5 {run.run_id}"
    run = classic.test(logical_date=DAY)
    assert run.xcom("classic") == f"2025-01-01 classic 6 {run.run_id}"


def test_get_current_context_outside_a_task_is_a_clear_error() -> None:
    with pytest.raises(DerasError, match="get_current_context\\(\\) was called outside a running task"):
        dg.get_current_context()


def test_labels_name_edges_and_wire_through() -> None:
    with dg.DAG("labels") as d:
        check, load, alert, done = (dg.EmptyOperator(task_id=t) for t in ("check", "load", "alert", "done"))
        check >> dg.Label("valid") >> load
        check >> dg.Label("invalid") >> [alert, done]
        done << dg.Label("after load") << load
        dg.chain(alert, dg.Label("then"), done)
    assert d.get_task("load").upstream_task_ids == {"check"}
    assert d.get_task("done").upstream_task_ids == {"check", "load", "alert"}
    assert d.get_edge_info("check", "load") == {"label": "valid"}
    assert d.get_edge_info("check", "alert") == {"label": "invalid"}
    assert d.get_edge_info("load", "done") == {"label": "after load"}
    assert d.get_edge_info("alert", "done") == {"label": "then"}
    assert d.get_edge_info("check", "check") == {}
    assert set(states(d.test(logical_date=DAY)).values()) == {"success"}


def test_labels_work_with_taskflow_outputs_and_groups() -> None:
    @dg.dag
    def flows():
        @dg.task
        def a() -> int:
            return 1

        @dg.task
        def b() -> int:
            return 2

        with dg.TaskGroup("g") as g:
            dg.EmptyOperator(task_id="inner")
        a() >> dg.Label("into group") >> g >> dg.Label("out") >> b()

    d = flows()
    assert d.get_edge_info("a", "g.inner") == {"label": "into group"}
    assert d.get_edge_info("g.inner", "b") == {"label": "out"}


def test_task_group_decorator_builds_its_tasks_in_a_group_and_returns_their_output() -> None:
    @dg.dag
    def grouped():
        @dg.task
        def extract() -> list[int]:
            return [1, 2]

        @dg.task_group
        def clean(rows):
            @dg.task
            def dedupe(rows: list[int]) -> list[int]:
                return sorted(set(rows))

            return dedupe(rows)

        @dg.task_group(group_id="checks", tooltip="quality")
        def quality():
            dg.EmptyOperator(task_id="count")

        @dg.task
        def load(rows: list[int]) -> int:
            return len(rows)

        cleaned = clean(extract())
        load(cleaned) << quality()

    d = grouped()
    assert sorted(d.task_ids) == ["checks.count", "clean.dedupe", "extract", "load"]
    assert d.get_task("load").upstream_task_ids == {"clean.dedupe", "checks.count"}
    assert grouped().test(logical_date=DAY).xcom("load") == 2


def test_cross_downstream_links_every_pair() -> None:
    with dg.DAG("cross") as d:
        a, b, x, y = (dg.EmptyOperator(task_id=t) for t in "abxy")
        dg.cross_downstream([a, b], [x, y])
    assert d.get_task("x").upstream_task_ids == {"a", "b"}
    assert d.get_task("y").upstream_task_ids == {"a", "b"}


def test_fail_task_fails_without_using_the_retries_left() -> None:
    attempts = []

    def broken() -> None:
        attempts.append(1)
        raise dg.FailTask("corrupt input: retrying will not help")

    with dg.DAG("no_retry") as d:
        dg.PythonOperator(task_id="t", python_callable=broken, retries=3, retry_delay=0)
    run = d.test(logical_date=DAY)
    assert run.get_task_instance("t").state == "failed"
    assert len(attempts) == 1


def test_days_ago_is_midnight_utc_n_days_back() -> None:
    from datetime import timedelta

    today = dg.days_ago(0)
    assert (today.hour, today.minute, today.tzinfo) == (0, 0, UTC)
    assert today - dg.days_ago(2) == timedelta(days=2)


def test_a_branch_may_return_a_task_group_id_to_follow_the_group() -> None:
    with dg.DAG("branch_group") as d:
        pick = dg.BranchPythonOperator(task_id="pick", python_callable=lambda: "big")
        with dg.TaskGroup("big") as big:
            a = dg.EmptyOperator(task_id="a")
            a >> dg.EmptyOperator(task_id="b")
        small = dg.EmptyOperator(task_id="small")
        pick >> [big, small]
    assert states(d.test(logical_date=DAY)) == {
        "pick": "success",
        "big.a": "success",
        "big.b": "success",
        "small": "skipped",
    }
