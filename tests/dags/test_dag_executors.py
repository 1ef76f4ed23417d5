"""DAG tasks give the same task-instance states and values whichever executor runs them."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

import deras as dg

DAY = datetime(2025, 3, 1)


def _etl() -> dg.DAG:
    @dg.dag(schedule=None, dag_id="etl")
    def etl() -> None:
        @dg.task
        def extract() -> list[int]:
            return [1, 2, 3]

        @dg.task
        def double(n: int) -> int:
            return n * 2

        @dg.task
        def total(values: list[int], **context: object) -> int:
            ti = context["ti"]
            ti.xcom_push("count", len(values))  # type: ignore[attr-defined]
            return sum(values)

        @dg.task.branch
        def choose(value: int) -> str:
            return "big" if value > 5 else "small"

        @dg.task
        def big() -> str:
            return "big"

        @dg.task
        def small() -> str:
            return "small"

        @dg.task
        def fails() -> None:
            raise ValueError("no")

        @dg.task(trigger_rule="all_done")
        def cleanup() -> str:
            return "cleaned"

        @dg.task(trigger_rule="one_failed")
        def alert() -> str:
            return "alerted"

        @dg.task
        def after_fail() -> str:
            return "never"

        summed = total(double.expand(n=extract()))
        choice = choose(summed)
        choice >> [big(), small()]
        failed = fails()
        failed >> [cleanup(), alert(), after_fail()]
        classic = dg.BashOperator(task_id="bash", bash_command="echo {{ ds }}")
        summed >> classic
        dg.PythonOperator(task_id="where", python_callable=os.getpid)

    return etl()


def _states(run: dg.DagRun) -> dict[tuple[str, int], tuple[str, int]]:
    return {(ti.task_id, ti.map_index): (ti.state, ti.try_number) for ti in run.task_instances}


@pytest.mark.parametrize("executor", ["multiprocess", {"type": "multiprocess", "max_concurrent": 1}])
def test_dag_tasks_end_as_they_do_in_process(executor: object) -> None:
    in_process = _etl().test(logical_date=DAY)
    pooled = _etl().test(logical_date=DAY, executor=executor)
    assert _states(pooled) == _states(in_process)
    assert pooled.state == in_process.state == "failed"
    for task_id in ("total", "big", "cleanup", "alert", "bash"):
        assert pooled.xcom(task_id) == in_process.xcom(task_id)
    assert pooled.xcom("total", key="count") == 3
    assert [pooled.xcom("double", map_index=i) for i in range(3)] == [2, 4, 6]
    assert pooled.get_task_instance("small").state == "skipped"
    assert pooled.get_task_instance("after_fail").state == "upstream_failed"
    assert in_process.xcom("where") == os.getpid() != pooled.xcom("where")
