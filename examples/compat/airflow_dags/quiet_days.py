"""Short-circuiting: downstream work runs only when there is something to do."""

from datetime import datetime

from airflow import DAG
from airflow.decorators import task
from airflow.operators.bash import BashOperator
from airflow.operators.python import ShortCircuitOperator

with DAG("quiet_days", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    has_rows = ShortCircuitOperator(task_id="has_rows", python_callable=lambda: 0)
    report = BashOperator(task_id="report", bash_command="echo reporting")
    has_rows >> report

    @task.short_circuit
    def is_open() -> bool:
        return True

    @task
    def publish() -> str:
        return "published"

    is_open() >> publish()
