"""Branching: a branch task picks one route by the weekday of the logical date; the join runs
after whichever route ran (`none_failed_min_one_success`). Edges carry labels."""

from datetime import datetime

from airflow.decorators import dag, task
from airflow.operators.empty import EmptyOperator
from airflow.utils.edgemodifier import Label
from airflow.utils.trigger_rule import TriggerRule


@dag(schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False)
def pick_route():
    @task.branch
    def choose(**context) -> str:
        weekday = context["logical_date"].weekday()
        return "weekend_route" if weekday >= 5 else "weekday_route"

    weekday_route = EmptyOperator(task_id="weekday_route")
    weekend_route = EmptyOperator(task_id="weekend_route")
    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)

    chosen = choose()
    chosen >> Label("Mon-Fri") >> weekday_route >> join
    chosen >> Label("Sat-Sun") >> weekend_route >> join


pick_route()
