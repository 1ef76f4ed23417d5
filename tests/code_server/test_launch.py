"""Launch requests inside the code server: queued runs and backfills, or a clear refusal."""

from __future__ import annotations

import pytest

from deras._code_server.launch import launch
from deras._code_server.request import LaunchRejected, LaunchRequest
from deras._core import tags as deras_tags
from deras._core.status import RunStatus
from deras._daemon.run_worker import execute_stored_run

CODE = """
from datetime import datetime
import deras as dg

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")

@dg.asset(partitions_def=daily)
def prices(context):
    return 1

@dg.asset
def a():
    return 1

@dg.asset
def b(a):
    import os
    if os.environ.get("B_FAILS"):
        raise ValueError("b failed")
    return a + 1

prices_job = dg.define_asset_job("prices_job", selection="prices", tags={"team": "data"})

with dg.DAG("etl", schedule="@daily", start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 31),
            params={"limit": dg.Param(5, type="integer")}) as etl:
    first = dg.EmptyOperator(task_id="first")
    second = dg.EmptyOperator(task_id="second")
    first >> second

defs = dg.Definitions(assets=[prices, a, b], jobs=[prices_job], dags=[etl])
"""


@pytest.fixture
def queue(make_instance, write_code):  # type: ignore[no-untyped-def]
    instance = make_instance()
    loaded = write_code(CODE)

    def submit(data: dict) -> str:  # type: ignore[type-arg]
        result = launch(
            LaunchRequest.from_json(data),
            definitions=loaded.definitions,
            location=loaded.location,
            instance=instance,
        )
        return result.run_id or result.backfill_id or ""

    submit.instance = instance  # type: ignore[attr-defined]
    submit.location = loaded.location  # type: ignore[attr-defined]
    return submit


def test_a_selection_with_a_partition_becomes_one_queued_run(queue) -> None:  # type: ignore[no-untyped-def]
    run = queue.instance.get_run(
        queue({"selection": "prices", "partition": "2024-01-05", "tags": {"who": "me"}})
    )
    assert (run.status, run.selection, run.partition_key) == (RunStatus.QUEUED, ["prices"], "2024-01-05")
    assert run.tags["who"] == "me" and run.code_location == queue.location


def test_a_job_run_carries_the_jobs_name_and_tags(queue) -> None:  # type: ignore[no-untyped-def]
    run = queue.instance.get_run(queue({"job": "prices_job", "partition": "2024-01-05"}))
    assert (run.job_name, run.partition_key, run.tags["team"]) == ("prices_job", "2024-01-05", "data")


def test_a_dag_run_is_queued_for_its_logical_date_with_its_conf(queue) -> None:  # type: ignore[no-untyped-def]
    run = queue.instance.get_run(queue({"dag_id": "etl", "logical_date": "2024-01-10", "conf": {"limit": 2}}))
    assert (run.status, run.dag_id, run.run_type) == (RunStatus.QUEUED, "etl", "manual")
    assert run.logical_date.isoformat().startswith("2024-01-10") and run.run_config == {"conf": {"limit": 2}}


def test_the_same_request_twice_queues_one_run(queue) -> None:  # type: ignore[no-untyped-def]
    request = {"selection": "a", "request_id": "once"}
    assert queue(request) == queue(request)
    assert len(queue.instance.get_runs()) == 1


@pytest.mark.parametrize(
    ("request_json", "says"),
    [
        ({"selection": "nope"}, "no asset named 'nope'"),
        ({"selection": "prices", "partition": "2030-01-01"}, "'2030-01-01' is not in"),
        ({"selection": "prices"}, "give a partition"),
        ({"selection": "a", "partition": "2024-01-01"}, "none of the selected assets is partitioned"),
        ({"job": "nojob"}, "no job named 'nojob' (jobs: ['prices_job'])"),
        ({"job": "etl"}, "is a DAG, not an asset job"),
        ({"dag_id": "nodag"}, "no DAG named 'nodag'"),
        ({"dag_id": "etl"}, "is after its end_date"),
        ({"dag_id": "etl", "logical_date": "2024-03-01"}, "is after its end_date"),
        ({"dag_id": "etl", "logical_date": "yesterday"}, "is not a date"),
        ({"dag_id": "etl", "logical_date": "2024-01-10", "conf": {"limit": "x"}}, "param 'limit'"),
        (
            {"backfill": {"job": "prices_job", "partition_range": ["2024-01-01", "2031-01-01"]}},
            "'2031-01-01'",
        ),
        ({"backfill": {"selection": "a", "partitions": ["x"]}}, "not partitioned"),
        ({"reexecute": "no-such-run"}, "no run with id no-such-run"),
        ({"clear": {"run_id": "no-such-run", "task_ids": ["first"]}}, "no run with id"),
    ],
)
def test_bad_input_is_rejected_naming_it_and_writes_nothing(queue, request_json, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaunchRejected) as err:
        queue(request_json)
    assert says in str(err.value)
    assert queue.instance.get_runs() == [] and queue.instance.get_backfills() == []


def test_a_backfill_from_a_partition_range_or_list_is_stored_for_the_daemon(queue) -> None:  # type: ignore[no-untyped-def]
    by_range = queue.instance.get_backfill(
        queue({"backfill": {"job": "prices_job", "partition_range": ["2024-01-01", "2024-01-03"]}})
    )
    by_list = queue.instance.get_backfill(
        queue({"backfill": {"selection": "prices", "partitions": ["2024-01-09"]}})
    )
    assert by_range.record.num_units == 3 and by_range.record.code_location == queue.location
    assert by_list.record.num_units == 1


def test_a_dag_backfill_takes_logical_dates(queue) -> None:  # type: ignore[no-untyped-def]
    view = queue.instance.get_backfill(
        queue({"backfill": {"dag_id": "etl", "partition_range": ["2024-01-01", "2024-01-04"]}})
    )
    assert view.record.target["dag_id"] == "etl" and view.record.num_units == 4


def test_reexecute_from_failure_queues_a_child_of_the_nodes_left(queue, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    instance = queue.instance
    monkeypatch.setenv("B_FAILS", "1")
    parent = queue({"selection": "a,b"})
    assert execute_stored_run(instance, parent) == RunStatus.FAILURE
    monkeypatch.delenv("B_FAILS")
    child = instance.get_run(queue({"reexecute": parent, "from_failure": True}))
    assert (child.status, child.selection, child.parent_run_id) == (RunStatus.QUEUED, ["b"], parent)
    assert child.tags[deras_tags.FROM_FAILURE] == "true"
    assert execute_stored_run(instance, child.run_id) == RunStatus.SUCCESS  # a's stored output is loaded


def test_reexecuting_a_run_that_succeeded_from_failure_is_rejected(queue) -> None:  # type: ignore[no-untyped-def]
    parent = queue({"selection": "a"})
    assert execute_stored_run(queue.instance, parent) == RunStatus.SUCCESS
    with pytest.raises(LaunchRejected, match="only a failed or canceled run re-executes from failure"):
        queue({"reexecute": parent})
    assert len(queue.instance.get_runs()) == 1


def test_clearing_tasks_checks_the_run_and_its_tasks(queue) -> None:  # type: ignore[no-untyped-def]
    run_id = queue({"dag_id": "etl", "logical_date": "2024-01-10"})
    with pytest.raises(LaunchRejected, match="clear its tasks once it has finished"):
        queue({"clear": {"run_id": run_id, "task_ids": ["first"]}})
    assert execute_stored_run(queue.instance, run_id) == RunStatus.SUCCESS
    with pytest.raises(LaunchRejected, match="has no task 'nope'"):
        queue({"clear": {"run_id": run_id, "task_ids": ["nope"]}})
    plain = queue({"selection": "a"})
    with pytest.raises(LaunchRejected, match="is not a DAG run"):
        queue({"clear": {"run_id": plain, "task_ids": ["first"]}})


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "is a JSON object"),
        ({}, "names none"),
        ({"selection": "a", "job": "j"}, "names selection, job"),
        ({"selection": "a", "color": "red"}, "unknown field(s) color"),
        ({"selection": 3}, "selection must be a string or a list"),
        ({"selection": "a", "tags": {"n": 1}}, "tag(s) n have other values"),
        ({"selection": "a", "partition_range": ["x"]}, "a pair of partition keys"),
        ({"dag_id": "etl", "conf": "n=1"}, "conf must be an object"),
    ],
)
def test_a_malformed_request_is_rejected_before_any_code_runs(data, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaunchRejected) as err:
        LaunchRequest.from_json(data)
    assert says in str(err.value)


def test_a_request_survives_a_json_round_trip() -> None:
    request = LaunchRequest.from_json({"selection": "a", "partition_range": ["1", "2"], "tags": {"k": "v"}})
    assert LaunchRequest.from_json(request.to_json()) == request
