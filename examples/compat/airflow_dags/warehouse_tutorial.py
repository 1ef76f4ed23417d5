"""
### Warehouse tutorial

A classic-style DAG as Airflow's tutorial writes one: `default_args`, three Bash tasks, a Jinja
template with `macros.ds_add`, docs on the DAG and on a task. Runs unchanged with
`deras --compat airflow`.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

default_args = {
    "owner": "data-eng",
    "depends_on_past": False,
    "email": ["oncall@example.com"],
    "email_on_failure": False,
    "email_on_retry": False,
    "retries": 1,
    "retry_delay": timedelta(seconds=1),
    "queue": "default",
    "pool_slots": 1,
    "priority_weight": 10,
    "sla_miss_callback_owner": "ignored by Airflow and by deras",  # an unknown key: ignored
}

with DAG(
    "warehouse_tutorial",
    default_args=default_args,
    description="Stamp the date, wait, and print a week of dates",
    schedule=timedelta(days=1),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
) as dag:
    dag.doc_md = __doc__

    stamp = BashOperator(task_id="stamp_date", bash_command="date -u +%F")
    stamp.doc_md = "Prints today's date in UTC."

    pause = BashOperator(task_id="pause", depends_on_past=False, bash_command="sleep 0.1", retries=2)

    week_template = """
{% for offset in range(3) %}
    echo "run date {{ ds }} plus {{ offset * 7 }} days: {{ macros.ds_add(ds, offset * 7) }}"
{% endfor %}
"""
    week = BashOperator(task_id="print_weeks", bash_command=week_template)

    stamp >> [pause, week]
