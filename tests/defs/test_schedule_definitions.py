"""Schedules and sensors inside ``Definitions``: validated once, with every problem listed."""

from __future__ import annotations

import pytest

import deras as dg


@dg.asset
def raw() -> int:
    return 1


@dg.asset
def clean(raw: int) -> int:
    return raw


JOB = dg.define_asset_job("refresh", selection=[raw, clean])


def etl_dag() -> dg.DAG:
    with dg.DAG("etl", schedule=None) as d:
        dg.EmptyOperator(task_id="start")
    return d


def test_the_job_of_a_schedule_or_sensor_joins_the_jobs() -> None:
    nightly = dg.ScheduleDefinition(job=JOB, cron_schedule="@daily")

    @dg.sensor(job=JOB)
    def files(context: object) -> None: ...

    defs = dg.Definitions(assets=[raw, clean], schedules=[nightly], sensors=[files])
    assert defs.jobs == [JOB]
    assert defs.get_job("refresh").node_ids == {"raw", "clean"}


def test_a_dag_run_by_a_schedule_joins_the_dags() -> None:
    etl = etl_dag()
    defs = dg.Definitions(schedules=[dg.ScheduleDefinition(job=etl, cron_schedule="@hourly")])
    assert [d.dag_id for d in defs.dags] == ["etl"]
    assert "etl.start" in defs.asset_graph.nodes
    # Listed as well: kept once.
    defs = dg.Definitions(dags=[etl], schedules=[dg.ScheduleDefinition(job=etl, cron_schedule="@hourly")])
    assert len(defs.dags) == 1


def test_a_job_already_listed_is_not_added_twice() -> None:
    defs = dg.Definitions(
        assets=[raw, clean], jobs=[JOB], schedules=[dg.ScheduleDefinition(job=JOB, cron_schedule="@daily")]
    )
    assert defs.jobs == [JOB]


def test_job_name_must_name_a_job_or_dag() -> None:
    ok = dg.Definitions(
        assets=[raw, clean],
        jobs=[JOB],
        dags=[etl_dag()],
        schedules=[
            dg.ScheduleDefinition("a", job_name="refresh", cron_schedule="@daily"),
            dg.ScheduleDefinition("b", job_name="etl", cron_schedule="@daily"),
        ],
    )
    assert [s.name for s in ok.schedules] == ["a", "b"]
    with pytest.raises(dg.DefinitionError) as err:
        dg.Definitions(
            assets=[raw, clean],
            jobs=[JOB],
            schedules=[dg.ScheduleDefinition("nightly", job_name="refrehs", cron_schedule="@daily")],
        )
    assert str(err.value) == (
        "schedule 'nightly' runs job_name='refrehs', but no job or DAG has that name (jobs and DAGs: "
        "['refresh']). Did you mean 'refresh'? Fix: add it to Definitions(jobs=[...]) or dags=[...], "
        "or pass job=<the job object>."
    )


def test_names_are_unique_across_schedules_and_sensors() -> None:
    @dg.sensor(job=JOB, name="nightly")
    def s(context: object) -> None: ...

    with pytest.raises(
        dg.DefinitionError, match=r"two schedules or sensors are named 'nightly' \(a schedule and a sensor\)"
    ):
        dg.Definitions(
            assets=[raw, clean],
            schedules=[dg.ScheduleDefinition("nightly", job=JOB, cron_schedule="@daily")],
            sensors=[s],
        )


def test_wrong_kinds_are_reported_with_a_fix() -> None:
    @dg.sensor(job=JOB)
    def files(context: object) -> None: ...

    def not_decorated(context: object) -> None: ...

    with pytest.raises(dg.DefinitionError) as err:
        dg.Definitions(assets=[raw, clean], schedules=[files], sensors=[not_decorated])
    assert err.value.problems == [
        "Definitions(schedules=[...]) got files, which is not a ScheduleDefinition. "
        "Fix: move it to sensors=[...].",
        "Definitions(sensors=[...]) got not_decorated, which is not a SensorDefinition. "
        "Fix: decorate the function with @dg.sensor or build a dg.SensorDefinition.",
    ]


def test_a_different_job_with_the_same_name_is_an_error() -> None:
    other = dg.define_asset_job("refresh", selection=[raw])
    with pytest.raises(
        dg.DefinitionError, match="runs job 'refresh', which differs from the job of that name"
    ):
        dg.Definitions(
            assets=[raw, clean],
            jobs=[JOB],
            schedules=[dg.ScheduleDefinition(job=other, cron_schedule="@daily")],
        )
    same = dg.define_asset_job("refresh", selection=[raw, clean])
    dg.Definitions(
        assets=[raw, clean], jobs=[JOB], schedules=[dg.ScheduleDefinition(job=same, cron_schedule="@daily")]
    )


def test_a_sensor_asset_selection_must_resolve() -> None:
    @dg.sensor(asset_selection=["raw", "missing"])
    def s(context: object) -> None: ...

    with pytest.raises(dg.DefinitionError, match=r"sensor 's': asset_selection: .*missing"):
        dg.Definitions(assets=[raw, clean], sensors=[s])


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(dg.DefinitionError) as err:
        dg.Definitions(
            schedules=[
                dg.ScheduleDefinition("a", job_name="x", cron_schedule="@daily"),
                dg.ScheduleDefinition("a", job_name="y", cron_schedule="@daily"),
            ]
        )
    assert len(err.value.problems) == 3


def test_get_schedule_and_get_sensor() -> None:
    nightly = dg.ScheduleDefinition("nightly", job=JOB, cron_schedule="@daily")

    @dg.asset_sensor("raw", job=JOB)
    def raw_updated(context: object, asset_event: object) -> None: ...

    defs = dg.Definitions(assets=[raw, clean], schedules=[nightly], sensors=[raw_updated])
    assert defs.get_schedule("nightly") is nightly
    assert defs.get_sensor("raw_updated") is raw_updated
    with pytest.raises(dg.DefinitionError, match=r"no schedule named 'hourly' \(schedules: \['nightly'\]\)"):
        defs.get_schedule("hourly")
    with pytest.raises(dg.DefinitionError, match=r"no sensor named 'nightly' \(sensors: \['raw_updated'\]\)"):
        defs.get_sensor("nightly")


def test_merged_definitions_keep_schedules_sensors_and_their_jobs() -> None:
    nightly = dg.ScheduleDefinition("nightly", job=JOB, cron_schedule="@daily")
    merged = dg.Definitions.merge(dg.Definitions(assets=[raw, clean], schedules=[nightly]), dg.Definitions())
    assert merged.get_schedule("nightly") is nightly and merged.get_job("refresh") is JOB


def test_a_job_run_retry_policy_must_be_a_run_retry_policy() -> None:
    job = dg.define_asset_job("retried", selection=[raw], run_retry_policy=dg.RetryPolicy(max_retries=2))
    with pytest.raises(
        dg.DefinitionError, match=r"job 'retried': run_retry_policy=.* is not a dg\.RunRetryPolicy"
    ):
        dg.Definitions(assets=[raw, clean], jobs=[job])
    ok = dg.define_asset_job("ok", selection=[raw], run_retry_policy=dg.RunRetryPolicy(max_retries=2))
    assert dg.Definitions(assets=[raw, clean], jobs=[ok]).get_job("ok").run_retry_policy.max_retries == 2
