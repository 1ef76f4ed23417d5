"""The TaskFlow style: extract, transform with multiple outputs, load one of them.

The DAG is created by calling the decorated function at module level, without assigning it,
as Airflow >= 2.4 allows.
"""

import json

import pendulum
from airflow.decorators import dag, task


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example"],
)
def orders_taskflow():
    @task()
    def extract() -> dict:
        raw = '{"A-17": 120.5, "A-18": 99.25, "A-19": 30.25}'
        return json.loads(raw)

    @task(multiple_outputs=True)
    def transform(orders: dict) -> dict:
        return {"total": sum(orders.values()), "count": len(orders)}

    @task()
    def load(total: float, count: int) -> str:
        line = f"{count} orders worth {total:.2f}"
        print(line)
        return line

    summary = transform(extract())
    load(summary["total"], summary["count"])


orders_taskflow()
