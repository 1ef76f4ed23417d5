"""A DAG file written the way Airflow's tutorials write them loads and runs with Airflow's meaning."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from deras._dags.folder import load_dag_folder

TUTORIAL = '''
import textwrap
from datetime import datetime, timedelta

import deras as dg

with dg.DAG(
    "tutorial",
    default_args={
        "depends_on_past": False,
        "email": ["airflow@example.com"],
        "email_on_failure": False,
        "email_on_retry": False,
        "retries": 1,
        "retry_delay": timedelta(minutes=5),
        "queue": "bash_queue",
        "pool": None,
        "priority_weight": 10,
        "end_date": datetime(2030, 1, 1),
        "execution_timeout": timedelta(seconds=300),
        "trigger_rule": "all_success",
    },
    description="A simple tutorial DAG",
    schedule_interval=timedelta(days=1),
    start_date=datetime(2021, 1, 1),
    catchup=False,
    tags=["example"],
) as dag:
    t1 = dg.BashOperator(task_id="print_date", bash_command="echo {{ ds }}")
    t2 = dg.BashOperator(task_id="sleep", depends_on_past=False, bash_command="echo slept", retries=3)
    t1.doc_md = textwrap.dedent("""#### Task Documentation""")
    dag.doc_md = __doc__
    templated_command = textwrap.dedent(
        """
    {% for i in range(2) %}
        echo "{{ ds }} {{ macros.ds_add(ds, 7)}}"
    {% endfor %}
    """
    )
    t3 = dg.BashOperator(task_id="templated", depends_on_past=False, bash_command=templated_command)
    t1 >> [t2, t3]


@dg.dag(schedule=None, start_date=datetime(2021, 1, 1), catchup=False, tags=["example"])
def tutorial_taskflow_api():
    @dg.task()
    def extract():
        return {"1001": 301.27, "1002": 433.21, "1003": 502.22}

    @dg.task(multiple_outputs=True)
    def transform(order_data_dict: dict):
        return {"total_order_value": sum(order_data_dict.values())}

    @dg.task()
    def load(total_order_value: float):
        return f"Total order value is: {total_order_value:.2f}"

    order_data = extract()
    order_summary = transform(order_data)
    load(order_summary["total_order_value"])


tutorial_taskflow_api()
'''


def test_airflows_tutorial_dags_load_from_a_folder_and_run(tmp_path: Path) -> None:
    (tmp_path / "tutorial.py").write_text(textwrap.dedent(TUTORIAL))
    bag = load_dag_folder(tmp_path)
    assert bag.import_errors == {}
    assert sorted(bag.dags) == ["tutorial", "tutorial_taskflow_api"]

    classic = bag.get_dag("tutorial")
    assert classic.get_task("sleep").retries == 3 and classic.get_task("print_date").retries == 1
    assert classic.get_task("print_date").queue == "bash_queue"
    run = classic.test(logical_date=datetime(2025, 1, 1, tzinfo=UTC))
    assert {ti.task_id: ti.state for ti in run.task_instances} == {
        "print_date": "success",
        "sleep": "success",
        "templated": "success",
    }
    assert run.xcom("templated") == "2025-01-01 2025-01-08"  # the last line echoed

    taskflow = bag.get_dag("tutorial_taskflow_api").test(logical_date=datetime(2025, 1, 1, tzinfo=UTC))
    assert taskflow.xcom("load") == "Total order value is: 1236.70"
