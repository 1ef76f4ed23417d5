"""``@run_status_sensor`` and ``@run_failure_sensor``: one call per run that ended with a status.

Runs come from ``dg.materialize`` (no job name) and ``DAG.test`` (the DAG id as job name) on an
ephemeral instance.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import deras as dg
from deras._defs.run_request import TickEvaluationError
from deras._defs.run_status_sensor import RunStatusSensorDefinition

NOTIFY = dg.define_asset_job("notify")


@dg.asset
def good() -> int:
    return 1


@dg.asset
def bad() -> int:
    raise ValueError("vendor file is empty")


@pytest.fixture
def instance() -> dg.DerasInstance:
    return dg.DerasInstance.ephemeral()


def succeed(instance: dg.DerasInstance) -> str:
    return dg.materialize([good], instance=instance).run_id


def fail(instance: dg.DerasInstance) -> str:
    return dg.materialize([bad], instance=instance, raise_on_error=False).run_id


def run_dag(instance: dg.DerasInstance, dag_id: str) -> str:
    with dg.DAG(dag_id, schedule=None) as d:
        dg.EmptyOperator(task_id="start")
    return str(d.test(instance=instance).run_id)


def started(sensor: RunStatusSensorDefinition, instance: dg.DerasInstance) -> str | None:
    """The cursor of a sensor's first tick, which only starts watching."""
    first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert first.run_requests == []
    assert first.skip_reason == "first tick: watching the runs that end from now on"
    return first.cursor


def test_the_first_tick_does_not_fire_for_history(instance: dg.DerasInstance) -> None:
    seen: list[str] = []

    @dg.run_status_sensor(dg.RunStatus.SUCCESS)
    def on_success(context: dg.RunStatusSensorContext) -> None:
        seen.append(context.run.run_id)

    succeed(instance)
    cursor = started(on_success, instance)
    assert set(json.loads(cursor or "")) == {"end_time", "run_ids"}
    result = on_success.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert seen == [] and result.skip_reason == "no run ended with status success since the last tick"


def test_each_run_that_ended_with_the_status_is_handled_once(instance: dg.DerasInstance) -> None:
    seen: list[str] = []

    @dg.run_status_sensor(dg.RunStatus.SUCCESS, request_job=NOTIFY)
    def on_success(context: dg.RunStatusSensorContext) -> dg.RunRequest:
        seen.append(context.run.run_id)
        assert context.dagster_run is context.run and context.instance is instance
        return dg.RunRequest(run_key=context.run.run_id)

    cursor = started(on_success, instance)
    a, _, b = succeed(instance), fail(instance), succeed(instance)
    result = on_success.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert seen == [a, b]
    assert [(r.run_key, r.job_name) for r in result.run_requests] == [(a, "notify"), (b, "notify")]
    again = on_success.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=result.cursor))
    assert seen == [a, b] and again.run_requests == []
    c = succeed(instance)
    on_success.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=again.cursor))
    assert seen == [a, b, c]


def test_monitored_jobs_narrow_the_runs_watched(instance: dg.DerasInstance) -> None:
    seen: list[str | None] = []
    with dg.DAG("etl", schedule=None) as etl:
        dg.EmptyOperator(task_id="start")

    @dg.run_status_sensor(monitored_jobs=[etl, "reports"])
    def watched(context: dg.RunStatusSensorContext) -> None:
        seen.append(context.run.job_name)

    assert watched.monitored_jobs == frozenset({"etl", "reports"})
    cursor = started(watched, instance)
    succeed(instance)
    etl.test(instance=instance)
    run_dag(instance, "reports")
    run_dag(instance, "other")
    watched.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert seen == ["etl", "reports"]


def test_run_failure_sensor_gets_the_first_failure_event(instance: dg.DerasInstance) -> None:
    messages: list[str] = []

    @dg.run_failure_sensor
    def alert(context: dg.RunFailureSensorContext) -> None:
        assert context.failure_event is not None
        messages.append(context.failure_event.message)
        messages.extend(e.node or "" for e in context.get_step_failure_events())

    assert (alert.name, alert.run_status, alert.sensor_type) == ("alert", dg.RunStatus.FAILURE, "run_status")
    cursor = started(alert, instance)
    succeed(instance)
    fail(instance)
    result = alert.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert messages == ["ValueError: vendor file is empty", "bad"]
    assert result.run_requests == [] and result.skip_reason is None


def test_run_failure_sensor_takes_options(instance: dg.DerasInstance) -> None:
    @dg.run_failure_sensor(
        name="page", monitored_jobs=["etl"], request_job=NOTIFY, minimum_interval_seconds=10
    )
    def alert(context: dg.RunFailureSensorContext) -> dg.RunRequest:
        return dg.RunRequest(tags={"failed_run": context.run.run_id})

    assert (alert.name, alert.monitored_jobs, alert.job_name, alert.minimum_interval_seconds) == (
        "page",
        frozenset({"etl"}),
        "notify",
        10,
    )


def test_skip_reasons_of_the_calls_are_joined(instance: dg.DerasInstance) -> None:
    @dg.run_status_sensor(dg.RunStatus.SUCCESS)
    def picky(context: dg.RunStatusSensorContext) -> dg.SkipReason:
        return dg.SkipReason("not now")

    cursor = started(picky, instance)
    succeed(instance)
    succeed(instance)
    assert picky.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor)).skip_reason == (
        "not now; not now"
    )


def test_a_raising_function_names_the_sensor_and_the_run(instance: dg.DerasInstance) -> None:
    @dg.run_failure_sensor
    def broken(context: dg.RunFailureSensorContext) -> None:
        raise RuntimeError("smtp down")

    cursor = started(broken, instance)
    run_id = fail(instance)
    with pytest.raises(
        TickEvaluationError, match=f"run status sensor 'broken' .for run {run_id}. raised RuntimeError"
    ):
        broken.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_run_requests_without_a_request_job_must_name_one(instance: dg.DerasInstance) -> None:
    @dg.run_status_sensor(dg.RunStatus.SUCCESS)
    def chain(context: dg.RunStatusSensorContext) -> dg.RunRequest:
        return dg.RunRequest()

    cursor = started(chain, instance)
    succeed(instance)
    with pytest.raises(TickEvaluationError, match="returned a RunRequest that runs nothing"):
        chain.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_runs_ending_at_the_same_instant_are_all_handled_once(instance: dg.DerasInstance) -> None:
    seen: list[str] = []

    @dg.run_status_sensor(dg.RunStatus.SUCCESS)
    def on_success(context: dg.RunStatusSensorContext) -> None:
        seen.append(context.run.run_id)

    cursor = started(on_success, instance)
    a = succeed(instance)
    after_a = on_success.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor)).cursor
    # A second run that ended at exactly the same instant, stored after the tick read the first.
    end_time = json.loads(after_a or "")["end_time"]
    twin = dg.RunRecord(run_id="twin", target="assets:good", status=dg.RunStatus.SUCCESS, end_time=end_time)
    instance.store.create_run(twin)
    on_success.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=after_a))
    assert seen == [a, "twin"]


def test_cursors_that_are_not_ours_start_from_now(instance: dg.DerasInstance) -> None:
    seen: list[str] = []

    @dg.run_status_sensor(dg.RunStatus.SUCCESS)
    def on_success(context: dg.RunStatusSensorContext) -> None:
        seen.append(context.run.run_id)

    succeed(instance)
    result = on_success.evaluate_tick(dg.build_sensor_context(instance=instance, cursor="12"))
    assert seen == [] and result.skip_reason is not None and result.skip_reason.startswith("first tick")


@pytest.mark.parametrize("status", [dg.RunStatus.STARTED, "queued", "done"])
def test_the_status_must_be_one_a_run_ends_with(status: Any) -> None:
    with pytest.raises(dg.DefinitionError, match="is not a status a run ends with"):

        @dg.run_status_sensor(status)
        def s(context: object) -> None: ...


def test_run_status_sensor_needs_a_status_in_parentheses() -> None:
    with pytest.raises(dg.DefinitionError, match="needs a status"):

        @dg.run_status_sensor  # type: ignore[arg-type]
        def s(context: object) -> None: ...


def test_canceled_is_a_status_to_watch() -> None:
    @dg.run_status_sensor("canceled")
    def s(context: object) -> None: ...

    assert s.run_status is dg.RunStatus.CANCELED


def test_calling_a_run_status_sensor_calls_its_function(instance: dg.DerasInstance) -> None:
    @dg.run_status_sensor()
    def s(context: dg.RunStatusSensorContext) -> str:
        return context.run.run_id

    run = instance.get_run(succeed(instance))
    assert run is not None
    assert s(dg.RunStatusSensorContext("s", run, instance)) == run.run_id
