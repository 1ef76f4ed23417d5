"""``RunRetryPolicy``: how the daemon re-launches failed runs of a job or DAG (the runs schedules
and sensors start included)."""

from __future__ import annotations

from datetime import timedelta

import pytest

import deras as dg


def test_defaults_retry_once_from_failure() -> None:
    policy = dg.RunRetryPolicy()
    assert (policy.max_retries, policy.from_failure, policy.delay) == (1, True, None)
    with pytest.raises(AttributeError):
        policy.max_retries = 3  # type: ignore[misc]


def test_delay_is_seconds_and_takes_a_timedelta() -> None:
    assert dg.RunRetryPolicy(max_retries=2, delay=timedelta(minutes=2)).delay == 120.0
    assert dg.RunRetryPolicy(delay=5).delay == 5.0
    assert dg.RunRetryPolicy(max_retries=0, from_failure=False) == dg.RunRetryPolicy(0, False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_retries": -1}, "max_retries=-1.: must be an integer >= 0"),
        ({"max_retries": 1.5}, "must be an integer >= 0"),
        ({"max_retries": True}, "must be an integer >= 0"),
        ({"from_failure": "yes"}, "must be True or False"),
        ({"delay": -1}, "must be seconds >= 0"),
        ({"delay": "1m"}, "must be seconds >= 0"),
    ],
)
def test_invalid_policies_are_definition_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(dg.DefinitionError, match=message):
        dg.RunRetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_a_dag_keeps_its_run_retry_policy() -> None:
    policy = dg.RunRetryPolicy(max_retries=2)
    with dg.DAG("etl", schedule=None, run_retry_policy=policy) as etl:
        dg.EmptyOperator(task_id="start")
    assert etl.run_retry_policy is policy

    @dg.dag(schedule=None, run_retry_policy=policy)
    def decorated() -> None:
        dg.EmptyOperator(task_id="start")

    assert decorated().run_retry_policy is policy
    with dg.DAG("plain", schedule=None) as plain:
        dg.EmptyOperator(task_id="start")
    assert plain.run_retry_policy is None


def test_a_dag_run_retry_policy_must_be_one() -> None:
    with pytest.raises(
        dg.DefinitionError, match=r"DAG 'etl': run_retry_policy=RetryPolicy\(.*\(RetryPolicy retries one step"
    ):
        dg.DAG("etl", run_retry_policy=dg.RetryPolicy(max_retries=2))


def test_an_asset_job_keeps_its_run_retry_policy() -> None:
    policy = dg.RunRetryPolicy(max_retries=3, from_failure=False)
    assert dg.define_asset_job("j", run_retry_policy=policy).run_retry_policy is policy
