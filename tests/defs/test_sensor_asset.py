"""``@asset_sensor``: a tick calls the function for the newest materialization it has not seen."""

from __future__ import annotations

from typing import Any

import pytest

import deras as dg
from deras._defs.run_request import TickEvaluationError

JOB = dg.define_asset_job("report_job")


@dg.asset
def prices() -> list[float]:
    return [1.0, 2.0]


@dg.asset(key_prefix="vendor")
def quotes() -> int:
    return 1


@pytest.fixture
def instance() -> dg.DerasInstance:
    return dg.DerasInstance.ephemeral()


def make_sensor(calls: list[Any], asset_key: object = "prices") -> dg.AssetSensorDefinition:
    @dg.asset_sensor(asset_key, job=JOB)  # type: ignore[arg-type]
    def prices_updated(context: dg.SensorEvaluationContext, asset_event: Any) -> dg.RunRequest:
        calls.append(asset_event)
        return dg.RunRequest(run_key=asset_event.run_id)

    return prices_updated


def test_asset_sensor_has_the_sensor_attributes_and_its_asset_key() -> None:
    s = make_sensor([])
    assert (s.name, s.job_name, s.asset_key, s.sensor_type, s.minimum_interval_seconds) == (
        "prices_updated",
        "report_job",
        dg.AssetKey("prices"),
        "asset",
        30,
    )
    assert isinstance(s, dg.SensorDefinition)


def test_no_materialization_skips_naming_the_asset(instance: dg.DerasInstance) -> None:
    calls: list[Any] = []
    result = make_sensor(calls).evaluate_tick(dg.build_sensor_context(instance=instance))
    assert (result.run_requests, result.skip_reason, result.cursor) == (
        [],
        "no new materialization of prices",
        None,
    )
    assert calls == []


def test_a_new_materialization_calls_the_function_and_moves_the_cursor(instance: dg.DerasInstance) -> None:
    calls: list[Any] = []
    sensor = make_sensor(calls)
    run_id = dg.materialize([prices], instance=instance).run_id
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    (event,) = calls
    assert (event.asset_key, event.run_id, event.partition) == ("prices", run_id, None)
    assert [(r.run_key, r.job_name) for r in result.run_requests] == [(run_id, "report_job")]
    assert result.cursor == str(event.event_id)
    # Nothing new since: the next tick skips and keeps the cursor.
    again = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=result.cursor))
    assert (again.run_requests, again.skip_reason, again.cursor) == (
        [],
        "no new materialization of prices",
        result.cursor,
    )
    assert len(calls) == 1


def test_several_new_materializations_make_one_call_with_the_newest(instance: dg.DerasInstance) -> None:
    calls: list[Any] = []
    sensor = make_sensor(calls)
    dg.materialize([prices], instance=instance)
    first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    dg.materialize([prices], instance=instance)
    newest = dg.materialize([prices], instance=instance).run_id
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert [r.run_key for r in result.run_requests] == [newest]
    assert int(result.cursor or 0) > int(first.cursor or 0)
    assert len(calls) == 2


def test_materializations_of_other_assets_are_ignored(instance: dg.DerasInstance) -> None:
    calls: list[Any] = []
    dg.materialize([quotes], instance=instance)
    assert make_sensor(calls).evaluate_tick(dg.build_sensor_context(instance=instance)).run_requests == []
    prefixed = make_sensor(calls, dg.AssetKey(["vendor", "quotes"]))
    assert len(prefixed.evaluate_tick(dg.build_sensor_context(instance=instance)).run_requests) == 1
    assert calls[0].asset_key == "vendor/quotes"


def test_a_cursor_that_is_not_an_event_id_starts_from_the_newest(instance: dg.DerasInstance) -> None:
    calls: list[Any] = []
    dg.materialize([prices], instance=instance)
    make_sensor(calls).evaluate_tick(dg.build_sensor_context(instance=instance, cursor="not-a-number"))
    assert len(calls) == 1


def test_the_function_may_skip_and_the_event_still_counts_as_seen(instance: dg.DerasInstance) -> None:
    @dg.asset_sensor("prices", job=JOB)
    def picky(context: object, asset_event: Any) -> dg.SkipReason:
        return dg.SkipReason(f"run {asset_event.run_id} is not interesting")

    dg.materialize([prices], instance=instance)
    result = picky.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert result.skip_reason is not None and result.skip_reason.endswith("is not interesting")
    assert result.cursor is not None


def test_the_asset_sensor_keeps_its_own_cursor(instance: dg.DerasInstance) -> None:
    @dg.asset_sensor("prices", job=JOB)
    def s(context: object, asset_event: object) -> dg.SensorResult:
        return dg.SensorResult(cursor="mine")

    dg.materialize([prices], instance=instance)
    with pytest.raises(TickEvaluationError, match="an asset sensor keeps its own cursor"):
        s.evaluate_tick(dg.build_sensor_context(instance=instance))


def test_an_asset_sensor_needs_an_instance() -> None:
    with pytest.raises(dg.DerasError, match="this sensor context has no instance"):
        make_sensor([]).evaluate_tick(dg.build_sensor_context())


def test_calling_an_asset_sensor_calls_its_function_with_the_event(instance: dg.DerasInstance) -> None:
    calls: list[Any] = []
    dg.materialize([prices], instance=instance)
    event = instance.get_latest_materialization("prices")
    request = make_sensor(calls)(dg.build_sensor_context(instance=instance), event)
    assert calls == [event] and request.run_key == event.run_id  # type: ignore[union-attr]


def test_asset_sensor_function_takes_context_and_asset_event() -> None:
    with pytest.raises(dg.DefinitionError, match=r"takes \(context, event, extra\), but it is called with"):

        @dg.asset_sensor("prices", job=JOB)
        def s(context: object, event: object, extra: object) -> None: ...
