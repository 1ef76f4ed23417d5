"""Airflow Variables: read with a default, as JSON, and from a template."""

from datetime import datetime

from airflow.decorators import dag, task
from airflow.models import Variable
from airflow.operators.bash import BashOperator


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def variables_demo():
    @task
    def read_settings() -> dict:
        threshold = int(Variable.get("threshold", default_var=10))
        regions = Variable.get("regions", deserialize_json=True, default_var=["eu"])
        Variable.set("last_reader", "variables_demo")
        return {"threshold": threshold, "regions": regions}

    greet = BashOperator(task_id="greet", bash_command="echo region {{ var.value.region_name }}")

    read_settings() >> greet


variables_demo()
