"""Sensors: defining them, their context and cursor, and what one tick decides.

Asset sensors are in ``test_sensor_asset.py``, run status sensors in ``test_sensor_run_status.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import deras as dg
from deras._defs.run_request import TickEvaluationError

JOB = dg.define_asset_job("ingest")


def tick(sensor: dg.SensorDefinition, cursor: str | None = None, **kwargs: object) -> object:
    return sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, **kwargs))  # type: ignore[arg-type]


# -- definition ---------------------------------------------------------------------------------


def test_sensor_has_the_documented_attributes_and_defaults() -> None:
    @dg.sensor(job=JOB)
    def new_files(context: dg.SensorEvaluationContext) -> None:
        """Watch the landing folder."""

    assert (new_files.name, new_files.job_name, new_files.job, new_files.minimum_interval_seconds) == (
        "new_files",
        "ingest",
        JOB,
        30,
    )
    assert (new_files.default_status, new_files.description, new_files.sensor_type) == (
        dg.DefaultSensorStatus.STOPPED,
        "Watch the landing folder.",
        "standard",
    )
    assert isinstance(new_files, dg.SensorDefinition)


def test_sensor_options() -> None:
    @dg.sensor(
        job_name="ingest",
        name="files",
        minimum_interval_seconds=5,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="d",
    )
    def f(context: object) -> None: ...

    assert (f.name, f.job_name, f.minimum_interval_seconds, f.default_status, f.description) == (
        "files",
        "ingest",
        5,
        dg.DefaultSensorStatus.RUNNING,
        "d",
    )


def test_bare_decorator_makes_a_sensor_without_a_job() -> None:
    @dg.sensor
    def watch(context: object) -> None: ...

    assert (watch.name, watch.job_name) == ("watch", None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minimum_interval_seconds": 0}, "minimum_interval_seconds=0 must be a positive number"),
        ({"default_status": "paused"}, "default_status='paused' is not one of"),
        ({"job": JOB, "job_name": "ingest"}, "give job= or job_name=, not both"),
        ({"job": JOB, "asset_selection": ["a"]}, "give job= / job_name= or asset_selection=, not both"),
        ({"name": "no spaces please"}, "use letters, digits"),
    ],
)
def test_sensor_definition_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(dg.DefinitionError, match=message):

        @dg.sensor(**kwargs)  # type: ignore[call-overload]
        def s(context: object) -> None: ...


def test_sensor_function_takes_only_the_context() -> None:
    expected = r"sensor 's' takes \(context, s3\), but it is called with \(context\)"
    with pytest.raises(dg.DefinitionError, match=expected):

        @dg.sensor(job=JOB)
        def s(context: object, s3: object) -> None: ...


def test_positional_job_is_refused_with_a_fix() -> None:
    with pytest.raises(dg.DefinitionError, match=r"pass arguments by keyword, e.g. @sensor\(job=...\)"):
        dg.sensor(JOB)  # type: ignore[call-overload]


# -- evaluation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("returned", "run_keys", "skip"),
    [
        (dg.RunRequest(run_key="a"), ["a"], None),
        ([dg.RunRequest(run_key="a"), dg.RunRequest(run_key="b")], ["a", "b"], None),
        (dg.SkipReason("nothing new"), [], "nothing new"),
        (None, [], None),
        (dg.SensorResult(run_requests=[dg.RunRequest(run_key="c")]), ["c"], None),
        (dg.SensorResult(skip_reason="quiet"), [], "quiet"),
        (dg.SensorResult(skip_reason=dg.SkipReason("quiet")), [], "quiet"),
    ],
)
def test_sensor_results_are_normalised(returned: object, run_keys: list[str], skip: str | None) -> None:
    @dg.sensor(job=JOB)
    def s(context: object) -> object:
        return returned

    result = s.evaluate_tick(dg.build_sensor_context())
    assert [r.run_key for r in result.run_requests] == run_keys
    assert all(r.job_name == "ingest" for r in result.run_requests)
    assert (result.skip_reason, result.cursor, result.dynamic_partitions_requests) == (skip, None, [])


def test_a_yielding_sensor_is_drained() -> None:
    @dg.sensor(job=JOB)
    def files(context: object) -> Iterator[dg.RunRequest]:
        yield dg.RunRequest(run_key="a.csv")
        yield dg.RunRequest(run_key="b.csv")

    assert [r.run_key for r in files.evaluate_tick(dg.build_sensor_context()).run_requests] == [
        "a.csv",
        "b.csv",
    ]
    called = files(dg.build_sensor_context())
    assert isinstance(called, list) and [r.run_key for r in called] == ["a.csv", "b.csv"]


def test_calling_a_sensor_returns_what_its_function_returned() -> None:
    skip = dg.SkipReason("no files")

    @dg.sensor(job=JOB)
    def s(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        assert context.cursor is None
        return skip

    assert s(dg.build_sensor_context()) is skip
    assert s() is skip  # a default context
    assert s(context=dg.build_sensor_context()) is skip


def test_the_cursor_after_the_tick_is_what_the_function_left() -> None:
    @dg.sensor(job=JOB)
    def counter(context: dg.SensorEvaluationContext) -> dg.RunRequest:
        n = int(context.cursor or 0) + 1
        context.update_cursor(str(n))
        return dg.RunRequest(run_key=str(n))

    first = counter.evaluate_tick(dg.build_sensor_context())
    second = counter.evaluate_tick(dg.build_sensor_context(cursor=first.cursor))
    assert (first.cursor, second.cursor, second.run_requests[0].run_key) == ("1", "2", "2")


def test_an_untouched_cursor_is_kept_and_may_be_cleared() -> None:
    @dg.sensor(job=JOB)
    def idle(context: object) -> None: ...

    assert idle.evaluate_tick(dg.build_sensor_context(cursor="7")).cursor == "7"

    @dg.sensor(job=JOB)
    def reset(context: dg.SensorEvaluationContext) -> None:
        context.update_cursor(None)

    assert reset.evaluate_tick(dg.build_sensor_context(cursor="7")).cursor is None


def test_sensor_result_sets_the_cursor() -> None:
    @dg.sensor(job=JOB)
    def s(context: object) -> dg.SensorResult:
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key="x")], cursor="99")

    assert s.evaluate_tick(dg.build_sensor_context(cursor="1")).cursor == "99"


def test_setting_the_cursor_twice_is_an_error() -> None:
    @dg.sensor(job=JOB)
    def s(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        context.update_cursor("1")
        return dg.SensorResult(cursor="2")

    with pytest.raises(TickEvaluationError, match="set the cursor in one place"):
        s.evaluate_tick(dg.build_sensor_context())


def test_a_sensor_result_carries_dynamic_partition_requests() -> None:
    files = dg.DynamicPartitionsDefinition("files")

    @dg.sensor(job=JOB)
    def s(context: object) -> dg.SensorResult:
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key="a.csv")],
            dynamic_partitions_requests=[
                files.build_add_request(["a.csv"]),
                files.build_delete_request(["old"]),
            ],
        )

    result = s.evaluate_tick(dg.build_sensor_context())
    assert result.dynamic_partitions_requests == [
        dg.AddDynamicPartitionsRequest("files", ("a.csv",)),
        dg.DeleteDynamicPartitionsRequest("files", ("old",)),
    ]
    assert result.run_requests[0].partition_key == "a.csv"


@pytest.mark.parametrize(
    ("returned", "described"),
    [
        (42, "returned int 42"),
        ({"ops": {}}, "returned dict {'ops': {}}"),
        ([dg.RunRequest(), "b.csv"], "returned a list holding str 'b.csv'"),
    ],
)
def test_sensor_returning_garbage_raises_naming_it(returned: object, described: str) -> None:
    @dg.sensor(job=JOB)
    def new_files(context: object) -> object:
        return returned

    with pytest.raises(TickEvaluationError) as err:
        new_files.evaluate_tick(dg.build_sensor_context())
    assert str(err.value).startswith(f"sensor 'new_files' {described}, which is not a tick result")
    assert "a SensorResult or None" in str(err.value)


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ([dg.RunRequest(), dg.SkipReason("no")], "returned both RunRequests and a SkipReason"),
        ([dg.SkipReason("a"), dg.SkipReason("b")], "returned 2 SkipReasons: return one"),
        ([dg.SensorResult(), dg.RunRequest()], "a SensorResult together with other values"),
    ],
)
def test_contradictory_results_are_errors(returned: object, message: str) -> None:
    @dg.sensor(job=JOB)
    def s(context: object) -> object:
        return returned

    with pytest.raises(TickEvaluationError, match=message):
        s.evaluate_tick(dg.build_sensor_context())


def test_a_raising_sensor_is_reported_naming_it() -> None:
    @dg.sensor(job=JOB)
    def broken(context: object) -> None:
        raise ConnectionError("bucket unreachable")

    with pytest.raises(
        TickEvaluationError, match="sensor 'broken' raised ConnectionError: bucket unreachable"
    ):
        broken.evaluate_tick(dg.build_sensor_context())


def test_a_bad_sensor_result_is_reported_naming_the_sensor() -> None:
    @dg.sensor(job=JOB)
    def s(context: object) -> dg.SensorResult:
        return dg.SensorResult(run_requests=[dg.RunRequest()], skip_reason="no")

    with pytest.raises(TickEvaluationError, match="sensor 's' raised TypeError: SensorResult got both"):
        s.evaluate_tick(dg.build_sensor_context())


# -- what the run requests run --------------------------------------------------------------------


def test_run_requests_of_a_sensor_without_a_job_must_name_one() -> None:
    @dg.sensor
    def s(context: object) -> list[dg.RunRequest]:
        return [dg.RunRequest(job_name="other"), dg.RunRequest(asset_selection=["a"])]

    requests = s.evaluate_tick(dg.build_sensor_context()).run_requests
    assert [(r.job_name, r.asset_selection) for r in requests] == [("other", None), (None, ["a"])]

    @dg.sensor
    def aimless(context: object) -> dg.RunRequest:
        return dg.RunRequest()

    with pytest.raises(TickEvaluationError, match="returned a RunRequest that runs nothing"):
        aimless.evaluate_tick(dg.build_sensor_context())


def test_a_sensor_with_an_asset_selection_gives_it_to_its_run_requests() -> None:
    @dg.sensor(asset_selection=["raw", "clean"])
    def s(context: object) -> list[dg.RunRequest]:
        return [dg.RunRequest(), dg.RunRequest(asset_selection=["raw"])]

    requests = s.evaluate_tick(dg.build_sensor_context()).run_requests
    assert [r.asset_selection for r in requests] == [["raw", "clean"], ["raw"]]


def test_a_run_request_for_another_job_than_the_sensors_is_an_error() -> None:
    @dg.sensor(job=JOB)
    def s(context: object) -> dg.RunRequest:
        return dg.RunRequest(job_name="other")

    with pytest.raises(TickEvaluationError, match="RunRequest for job 'other', but it runs 'ingest'"):
        s.evaluate_tick(dg.build_sensor_context())


# -- context ------------------------------------------------------------------------------------


def test_context_has_the_documented_attributes() -> None:
    instance = dg.DerasInstance.ephemeral()
    ctx = dg.build_sensor_context(instance=instance, cursor="c", last_run_key="k", definitions="defs")
    assert (ctx.instance, ctx.cursor, ctx.last_run_key, ctx.definitions) == (instance, "c", "k", "defs")
    assert ctx.repository_def == "defs"
    assert ctx.last_tick_completion_time is None


def test_context_without_an_instance_says_how_to_give_one() -> None:
    with pytest.raises(dg.DerasError, match=r"build_sensor_context\(instance=dg.DerasInstance.ephemeral\(\)"):
        _ = dg.build_sensor_context().instance


def test_cursors_are_strings() -> None:
    with pytest.raises(dg.DerasError, match="a cursor is a string or None, got int"):
        dg.build_sensor_context(cursor=5)  # type: ignore[arg-type]
    with pytest.raises(dg.DerasError, match=r"context.update_cursor\(\): a cursor is a string"):
        dg.build_sensor_context().update_cursor({"id": 1})  # type: ignore[arg-type]


def test_context_log_is_a_logger_named_after_the_sensor() -> None:
    loggers: list[logging.Logger] = []

    @dg.sensor(job=JOB)
    def watcher(context: dg.SensorEvaluationContext) -> None:
        loggers.append(context.log)

    watcher.evaluate_tick(dg.build_sensor_context())
    assert isinstance(loggers[0], logging.Logger) and loggers[0].name == "deras.sensor.watcher"


def test_evaluating_with_a_schedule_context_is_an_error() -> None:
    @dg.sensor(job=JOB)
    def s(context: object) -> None: ...

    with pytest.raises(TickEvaluationError, match="was evaluated with ScheduleEvaluationContext"):
        s.evaluate_tick(dg.build_schedule_context())  # type: ignore[arg-type]


# -- requests of dynamic partitions ---------------------------------------------------------------


def test_dynamic_partition_requests_hold_a_tuple_of_string_keys() -> None:
    files = dg.DynamicPartitionsDefinition("files")
    assert files.build_add_request(["a", "b"]).partition_keys == ("a", "b")
    with pytest.raises(TypeError, match=r"give a list of partition keys, e.g. \['a.csv'\]"):
        files.build_add_request("a.csv")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="partition key 3 is not a string"):
        dg.AddDynamicPartitionsRequest("files", [3])  # type: ignore[list-item]


def test_sensor_result_checks_what_it_holds() -> None:
    with pytest.raises(TypeError, match="holds str 'x', not a RunRequest"):
        dg.SensorResult(run_requests=["x"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="a cursor is a string"):
        dg.SensorResult(cursor=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="build_add_request"):
        dg.SensorResult(dynamic_partitions_requests=["files"])  # type: ignore[list-item]
