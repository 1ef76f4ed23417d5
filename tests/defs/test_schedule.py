"""Schedules: defining them, what they are, and what one tick requests.

Tick times and daylight saving are in ``test_schedule_dst.py``; partitioned schedules in
``test_schedule_partitioned.py``; schedules inside ``Definitions`` in ``test_schedule_definitions.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import deras as dg
from deras._defs.run_request import TickEvaluationError

JOB = dg.define_asset_job("daily_prices")
MONDAY_2AM = datetime(2025, 1, 6, 2, tzinfo=UTC)


def context(when: datetime = MONDAY_2AM) -> dg.ScheduleEvaluationContext:
    return dg.build_schedule_context(scheduled_execution_time=when)


# -- RunRequest and SkipReason ----------------------------------------------------------------------


def test_run_request_has_the_documented_attributes_and_defaults() -> None:
    r = dg.RunRequest()
    assert (r.run_key, r.run_config, r.tags, r.partition_key, r.job_name, r.asset_selection) == (
        None,
        {},
        {},
        None,
        None,
        None,
    )
    r = dg.RunRequest("k", {"ops": {}}, {"team": "a"}, partition_key="2025-01-01", job_name="j")
    assert (r.run_key, r.run_config, r.tags, r.partition_key, r.job_name) == (
        "k",
        {"ops": {}},
        {"team": "a"},
        "2025-01-01",
        "j",
    )


def test_run_request_is_immutable_and_copies_its_dicts() -> None:
    tags = {"a": "1"}
    r = dg.RunRequest(tags=tags)
    tags["b"] = "2"
    assert r.tags == {"a": "1"}
    with pytest.raises(AttributeError):
        r.run_key = "x"  # type: ignore[misc]


def test_run_request_fields_after_tags_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        dg.RunRequest("k", {}, {}, "2025-01-01")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"run_key": 3}, "run key is a string"),
        ({"partition_key": 20250101}, "partition key is a string"),
        ({"tags": {"n": 1}}, "tag 'n': 1 is not a string pair"),
        ({"run_config": "x"}, "run config is a dict"),
        ({"job_name": JOB}, "give the job's name as a string"),
        ({"asset_selection": []}, "selects nothing"),
    ],
)
def test_run_request_rejects_wrong_types_with_a_clear_message(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        dg.RunRequest(**kwargs)  # type: ignore[arg-type]


def test_skip_reason_keeps_its_message() -> None:
    assert dg.SkipReason("holiday").skip_message == "holiday"
    assert dg.SkipReason().skip_message is None


# -- definition ---------------------------------------------------------------------------------


def test_schedule_definition_has_the_documented_attributes() -> None:
    s = dg.ScheduleDefinition(
        job=JOB,
        cron_schedule="0 2 * * *",
        execution_timezone="Asia/Jakarta",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="nightly",
    )
    assert (s.name, s.cron_schedule, s.execution_timezone, s.job_name, s.job) == (
        "daily_prices_schedule",
        "0 2 * * *",
        "Asia/Jakarta",
        "daily_prices",
        JOB,
    )
    assert (s.default_status, s.description) == (dg.DefaultScheduleStatus.RUNNING, "nightly")
    assert repr(s) == "<ScheduleDefinition daily_prices_schedule: '0 2 * * *' Asia/Jakarta -> daily_prices>"


def test_default_status_is_stopped_and_accepts_its_names_in_any_case() -> None:
    assert dg.ScheduleDefinition(job=JOB, cron_schedule="@daily").default_status == "stopped"
    s = dg.ScheduleDefinition(job=JOB, cron_schedule="@daily", default_status="RUNNING")
    assert s.default_status is dg.DefaultScheduleStatus.RUNNING
    with pytest.raises(dg.DefinitionError, match="default_status='on' is not one of"):
        dg.ScheduleDefinition(job=JOB, cron_schedule="@daily", default_status="on")


def test_schedule_may_run_a_dag_or_a_job_by_name() -> None:
    with dg.DAG("etl", schedule=None) as etl:
        dg.EmptyOperator(task_id="start")
    assert dg.ScheduleDefinition(job=etl, cron_schedule="@hourly").name == "etl_schedule"
    by_name = dg.ScheduleDefinition("nightly", job_name="etl", cron_schedule="@daily")
    assert (by_name.name, by_name.job, by_name.job_name) == ("nightly", None, "etl")


@pytest.mark.parametrize("cron", ["0 25 * * *", "61 * * * *", "every day", "0 0 30 2 *", "@sometimes"])
def test_invalid_cron_raises_at_definition_naming_the_string_and_the_schedule(cron: str) -> None:
    with pytest.raises(dg.DefinitionError) as err:
        dg.ScheduleDefinition("nightly", job=JOB, cron_schedule=cron)
    assert repr(cron) in str(err.value) and "schedule 'nightly'" in str(err.value)


def test_invalid_timezone_raises_at_definition_naming_it() -> None:
    with pytest.raises(dg.DefinitionError, match="timezone 'Mars/Olympus' is not an IANA timezone"):
        dg.ScheduleDefinition(job=JOB, cron_schedule="@daily", execution_timezone="Mars/Olympus")


@pytest.mark.parametrize("cron", ["@once", None, 5])
def test_a_schedule_needs_a_cron_string(cron: object) -> None:
    with pytest.raises(dg.DefinitionError, match="cron"):
        dg.ScheduleDefinition(job=JOB, cron_schedule=cron)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"job": JOB, "job_name": "x"}, "give job= or job_name=, not both"),
        ({}, "needs a name= or a job="),
        ({"name": "orphan"}, "runs nothing"),
        ({"job": "daily_prices"}, "job='daily_prices' is a name; pass it as job_name="),
        ({"job": JOB, "name": "bad name!"}, "use letters, digits"),
        ({"job": JOB, "run_config": {}, "execution_fn": lambda: None}, "not both"),
        ({"job": JOB, "tags": {"n": 1}}, "is not a string pair"),
    ],
)
def test_schedule_definition_errors_say_what_to_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(dg.DefinitionError, match=message):
        dg.ScheduleDefinition(cron_schedule="@daily", **kwargs)  # type: ignore[arg-type]


def test_passing_the_dag_function_instead_of_the_dag_says_to_call_it() -> None:
    @dg.dag(schedule=None)
    def etl() -> None:
        dg.EmptyOperator(task_id="start")

    with pytest.raises(
        dg.DefinitionError, match=r"job=etl is the @dag function, not the DAG: call it, job=etl\(\)"
    ):
        dg.ScheduleDefinition(job=etl, cron_schedule="@daily")


def test_schedule_decorator_without_a_cron_says_how_to_write_it() -> None:
    with pytest.raises(dg.DefinitionError, match=r"@schedule\('0 2 \* \* \*', job=...\)"):

        @dg.schedule  # type: ignore[arg-type]
        def nightly(context: object) -> None: ...


def test_schedule_function_may_take_only_the_context() -> None:
    with pytest.raises(dg.DefinitionError, match=r"takes \(context, db\), but it is called with \(context\)"):

        @dg.schedule("@daily", job=JOB)
        def nightly(context: object, db: object) -> None: ...


# -- evaluation ---------------------------------------------------------------------------------


def test_plain_schedule_requests_one_run_with_its_config_and_tags() -> None:
    s = dg.ScheduleDefinition(
        job=JOB, cron_schedule="@daily", run_config={"ops": {"a": 1}}, tags={"team": "prices"}
    )
    result = s.evaluate_tick(context())
    assert result.skip_reason is None
    assert result.run_requests == [
        dg.RunRequest(run_config={"ops": {"a": 1}}, tags={"team": "prices"}, job_name="daily_prices")
    ]
    assert s(context()) == dg.RunRequest(run_config={"ops": {"a": 1}}, tags={"team": "prices"})


def test_decorated_schedule_is_named_after_its_function_and_documented_by_its_docstring() -> None:
    @dg.schedule("0 2 * * *", job=JOB)
    def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        """Refresh prices at night.

        More detail.
        """
        return dg.RunRequest()

    assert (nightly.name, nightly.description, nightly.job_name) == (
        "nightly",
        "Refresh prices at night.",
        "daily_prices",
    )


@pytest.mark.parametrize(
    ("returned", "run_keys", "skip"),
    [
        (dg.RunRequest(run_key="a"), ["a"], None),
        ([dg.RunRequest(run_key="a"), dg.RunRequest(run_key="b")], ["a", "b"], None),
        (dg.SkipReason("holiday"), [], "holiday"),
        ([dg.SkipReason("holiday")], [], "holiday"),
        ([], [], None),
        (None, [], None),
    ],
)
def test_schedule_function_results_are_normalised(
    returned: object, run_keys: list[str], skip: str | None
) -> None:
    @dg.schedule("@daily", job=JOB)
    def s(context: object) -> object:
        return returned

    result = s.evaluate_tick(context())
    assert [r.run_key for r in result.run_requests] == run_keys
    assert all(r.job_name == "daily_prices" for r in result.run_requests)
    assert result.skip_reason == skip


def test_schedule_may_yield_its_run_requests() -> None:
    @dg.schedule("@daily", job=JOB)
    def per_region(context: object):  # type: ignore[no-untyped-def]
        for region in ("eu", "us"):
            yield dg.RunRequest(run_key=region, tags={"region": region})

    assert [r.run_key for r in per_region.evaluate_tick(context()).run_requests] == ["eu", "us"]
    assert [r.run_key for r in per_region(context())] == ["eu", "us"]  # a generator is drained


def test_schedule_returning_a_dict_requests_a_run_with_that_config() -> None:
    @dg.schedule("@daily", job=JOB, tags={"via": "schedule"})
    def configured(context: dg.ScheduleEvaluationContext) -> dict[str, object]:
        return {"date": context.scheduled_execution_time.date().isoformat()}

    (request,) = configured.evaluate_tick(context()).run_requests
    assert (request.run_config, request.tags) == ({"date": "2025-01-06"}, {"via": "schedule"})


def test_schedule_tags_go_under_the_run_request_tags() -> None:
    @dg.schedule("@daily", job=JOB, tags={"team": "prices", "tier": "1"})
    def s(context: object) -> dg.RunRequest:
        return dg.RunRequest(tags={"tier": "2"})

    assert s.evaluate_tick(context()).run_requests[0].tags == {"team": "prices", "tier": "2"}


def test_schedule_function_may_take_no_context() -> None:
    @dg.schedule("@daily", job=JOB)
    def s() -> dg.RunRequest:
        return dg.RunRequest(run_key="x")

    assert s.evaluate_tick(context()).run_requests[0].run_key == "x"
    assert s().run_key == "x"


def test_calling_a_schedule_returns_what_its_function_returned() -> None:
    skip = dg.SkipReason("weekend")

    @dg.schedule("@daily", job=JOB)
    def s(context: object) -> dg.SkipReason:
        return skip

    assert s(context()) is skip


def test_the_function_sees_the_tick_time_in_the_execution_timezone() -> None:
    seen: list[datetime] = []

    @dg.schedule("0 2 * * *", job=JOB, execution_timezone="Asia/Jakarta")
    def s(context: dg.ScheduleEvaluationContext) -> None:
        seen.append(context.scheduled_execution_time)

    s.evaluate_tick(context(datetime(2025, 1, 5, 19, tzinfo=UTC)))
    assert [t.isoformat() for t in seen] == ["2025-01-06T02:00:00+07:00"]
    assert seen[0].tzinfo == ZoneInfo("Asia/Jakarta")


@pytest.mark.parametrize(
    ("returned", "described"),
    [
        (42, "returned int 42"),
        ("run it", "returned str 'run it'"),
        ([dg.RunRequest(), 3], "returned a list holding int 3"),
        (dg.SensorResult(), "returned SensorResult"),
    ],
)
def test_schedule_returning_garbage_raises_naming_it(returned: object, described: str) -> None:
    @dg.schedule("@daily", job=JOB)
    def nightly(context: object) -> object:
        return returned

    with pytest.raises(TickEvaluationError) as err:
        nightly.evaluate_tick(context())
    message = str(err.value)
    assert isinstance(err.value, dg.DerasError)
    assert message.startswith(f"schedule 'nightly' {described}")
    assert "return a RunRequest, a list of them, a SkipReason, a run config dict or None" in message


def test_schedule_returning_runs_and_a_skip_reason_is_an_error() -> None:
    @dg.schedule("@daily", job=JOB)
    def confused(context: object) -> list[object]:
        return [dg.RunRequest(), dg.SkipReason("no")]

    with pytest.raises(
        TickEvaluationError, match="schedule 'confused' returned both RunRequests and a SkipReason"
    ):
        confused.evaluate_tick(context())


def test_a_raising_schedule_function_is_reported_naming_the_schedule() -> None:
    @dg.schedule("@daily", job=JOB)
    def broken(context: object) -> None:
        raise KeyError("prices")

    with pytest.raises(TickEvaluationError, match="schedule 'broken' raised KeyError: 'prices'") as err:
        broken.evaluate_tick(context())
    assert isinstance(err.value.__cause__, KeyError)
    with pytest.raises(KeyError):  # called directly, the function's own error
        broken(context())


def test_a_run_request_for_another_job_is_an_error() -> None:
    @dg.schedule("@daily", job=JOB)
    def s(context: object) -> dg.RunRequest:
        return dg.RunRequest(job_name="other")

    with pytest.raises(TickEvaluationError, match="RunRequest for job 'other', but it runs 'daily_prices'"):
        s.evaluate_tick(context())


# -- context ------------------------------------------------------------------------------------


def test_schedule_context_needs_an_aware_time() -> None:
    with pytest.raises(dg.DerasError, match="must be a timezone-aware datetime"):
        dg.build_schedule_context(scheduled_execution_time=datetime(2025, 1, 1))


def test_schedule_context_defaults_to_now_and_says_when_it_has_no_instance() -> None:
    ctx = dg.build_schedule_context()
    assert abs((ctx.scheduled_execution_time - datetime.now(UTC)).total_seconds()) < 60
    with pytest.raises(dg.DerasError, match=r"build_schedule_context\(instance="):
        _ = ctx.instance
    instance = dg.DerasInstance.ephemeral()
    assert dg.build_schedule_context(instance=instance).instance is instance


def test_schedule_context_logs_under_the_schedule_name() -> None:
    names: list[str] = []

    @dg.schedule("@daily", job=JOB)
    def nightly(context: dg.ScheduleEvaluationContext) -> None:
        names.append(context.log.name)

    nightly.evaluate_tick(context())
    assert names == ["deras.schedule.nightly"]


def test_evaluating_with_something_else_than_a_context_is_an_error() -> None:
    @dg.schedule("@daily", job=JOB)
    def s(context: object) -> None: ...

    with pytest.raises(TickEvaluationError, match="was called with datetime"):
        s.evaluate_tick(MONDAY_2AM)  # type: ignore[arg-type]
