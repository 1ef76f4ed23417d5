"""The DAG the executor tests run on every executor (in-process, multiprocess, Celery) and
compare: mapped tasks, a branch, a failure with its trigger rules, XComs, a BashOperator, and a
task that returns the pid of the process that ran it.

It is a definitions file (``ETL_FILE``): Celery workers load it by path.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import deras as dg

ETL_FILE = Path(__file__)
DAY = datetime(2025, 3, 1)


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


etl_dag = etl()
defs = dg.Definitions(dags=[etl_dag])


def load_etl() -> dg.DAG:
    """The DAG as a code location loads it (a fresh object per call)."""
    from deras._defs.loader import load_definitions

    (dag,) = load_definitions(file=str(ETL_FILE)).definitions.dags
    return dag


def task_states(run: Any) -> dict[tuple[str, int], tuple[str, int]]:
    """``(task_id, map_index) -> (state, try_number)`` of every task instance of ``run``."""
    return {(ti.task_id, ti.map_index): (ti.state, ti.try_number) for ti in run.task_instances}
