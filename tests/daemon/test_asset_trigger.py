"""The asset trigger: DAGs scheduled on assets and automation conditions follow materializations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deras._core.records import RunTarget
from deras._core.status import RunStatus
from deras._daemon.asset_trigger import AssetTrigger
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.run_worker import execute_stored_run

CODE = """
from datetime import datetime
import deras as dg

@dg.asset
def raw():
    return 1

@dg.asset
def other_raw():
    return 2

@dg.asset
def slow_input():
    return 3

@dg.asset(automation_condition=dg.AutomationCondition.eager())
def cleaned(raw):
    return raw + 1

@dg.asset(automation_condition=dg.AutomationCondition.eager())
def joined(raw, slow_input):
    return raw + slow_input

@dg.asset(automation_condition=dg.AutomationCondition.on_cron("0 * * * *"))
def hourly_summary(raw):
    return raw

days = dg.DailyPartitionsDefinition("2025-01-01", end_date="2025-01-10")

@dg.asset(partitions_def=days)
def daily_raw(context):
    return context.partition_key

@dg.asset(partitions_def=days, automation_condition=dg.AutomationCondition.eager())
def daily_clean(context, daily_raw):
    return daily_raw

with dg.DAG("on_raw", schedule=[dg.AssetKey("raw")], start_date=datetime(2025, 1, 1)) as on_raw:
    dg.EmptyOperator(task_id="noop")

with dg.DAG("on_both", schedule=[dg.AssetKey("raw"), dg.AssetKey("other_raw")],
            start_date=datetime(2025, 1, 1)) as on_both:
    dg.EmptyOperator(task_id="noop")

with dg.DAG("ended_on_raw", schedule=[dg.AssetKey("raw")], start_date=datetime(2025, 1, 1),
            end_date=datetime(2025, 1, 3)) as ended_on_raw:
    dg.EmptyOperator(task_id="noop")

with dg.DAG("later_on_raw", schedule=[dg.AssetKey("raw")], start_date=datetime(2025, 2, 1)) as later_on_raw:
    dg.EmptyOperator(task_id="noop")

defs = dg.Definitions(
    assets=[raw, other_raw, slow_input, cleaned, joined, hourly_summary, daily_raw, daily_clean],
    dags=[on_raw, on_both, ended_on_raw, later_on_raw],
)
"""

T0 = datetime(2025, 1, 6, 10, 5, tzinfo=UTC).timestamp()
MINUTE = 60.0


@pytest.fixture
def env(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    trigger = AssetTrigger(DaemonContext(instance, loaded.definitions, loaded.location))
    trigger.tick(T0)  # the first pass starts from the latest materializations: history is not news
    return instance, loaded, trigger


def _materialize(instance, loaded, *nodes: str, partition_key: str | None = None) -> str:
    """Materialize ``nodes`` in this process as a run of the code location; returns its run id."""
    from deras._exec.launch import execute_run
    from deras._plan.plan import plan_run

    defs = loaded.definitions
    plan = plan_run(
        defs.asset_graph,
        node_ids=list(nodes),
        partition_key=partition_key,
        dynamic_partitions_store=instance.dynamic_partitions_store,
    )
    label = "assets:" + ",".join(nodes)
    result = execute_run(instance, plan, defs.resources, target=RunTarget.assets(), label=label)
    assert result.run.status == RunStatus.SUCCESS
    return result.run.run_id


def _dag_runs(instance, dag_id: str) -> list:
    return list(reversed(instance.get_runs(tags={"deras/dag_id": dag_id})))


def _automation_runs(instance, kind: str) -> list:
    return list(reversed(instance.get_runs(tags={"deras/automation": kind})))


# ============================================================================================
# DAGs scheduled on assets
# ============================================================================================


def test_a_dag_on_an_asset_runs_once_per_materialization(env):
    instance, loaded, trigger = env
    trigger.tick(T0 + 1)
    assert _dag_runs(instance, "on_raw") == []
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 2)
    trigger.tick(T0 + 3)
    (run,) = _dag_runs(instance, "on_raw")
    assert (run.status, run.tags["deras/run_type"]) == (RunStatus.QUEUED, "asset_triggered")
    assert run.tags["deras/triggered_by"] == "raw"
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 4)
    assert len(_dag_runs(instance, "on_raw")) == 2


def test_a_dag_on_two_assets_waits_for_both(env):
    instance, loaded, trigger = env
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 1)
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 2)
    assert _dag_runs(instance, "on_both") == []
    _materialize(instance, loaded, "other_raw")
    trigger.tick(T0 + 3)
    assert len(_dag_runs(instance, "on_both")) == 1
    _materialize(instance, loaded, "other_raw")
    trigger.tick(T0 + 4)
    assert len(_dag_runs(instance, "on_both")) == 1  # raw has not been materialized again


def test_a_dag_on_an_asset_is_not_triggered_outside_its_start_and_end_dates(env):
    instance, loaded, trigger = env  # T0 is 2025-01-06: after one DAG's end, before another's start
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 1)
    assert len(_dag_runs(instance, "on_raw")) == 1
    assert _dag_runs(instance, "ended_on_raw") == [] and _dag_runs(instance, "later_on_raw") == []


def test_a_restarted_trigger_remembers_what_a_dag_waits_for(env, make_instance):
    instance, loaded, trigger = env
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 1)
    restarted = AssetTrigger(DaemonContext(make_instance(), loaded.definitions, loaded.location))
    _materialize(instance, loaded, "other_raw")
    restarted.tick(T0 + 2)
    assert len(_dag_runs(instance, "on_both")) == 1


# ============================================================================================
# AutomationCondition.eager()
# ============================================================================================


def test_an_eager_asset_is_queued_after_its_upstream_is_materialized(env):
    instance, loaded, trigger = env
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 1)
    trigger.tick(T0 + 2)
    runs = _automation_runs(instance, "eager")
    cleaned = [r for r in runs if "cleaned" in r.selection]
    assert len(cleaned) == 1
    assert cleaned[0].status == RunStatus.QUEUED and cleaned[0].selection == ["cleaned"]


def test_an_eager_asset_is_not_queued_again_while_queued(env):
    instance, loaded, trigger = env
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 1)
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 2)
    assert len([r for r in _automation_runs(instance, "eager") if "cleaned" in r.selection]) == 1


def test_an_eager_asset_is_not_queued_again_after_its_own_materialization(env):
    instance, loaded, trigger = env
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 1)
    (queued,) = [r for r in _automation_runs(instance, "eager") if "cleaned" in r.selection]
    for run in _automation_runs(instance, "eager"):
        if run.run_id != queued.run_id:
            instance.cancel_run(run.run_id)
    assert execute_stored_run(instance, queued.run_id) == RunStatus.SUCCESS
    trigger.tick(T0 + 2)
    trigger.tick(T0 + 3)
    assert len([r for r in _automation_runs(instance, "eager") if "cleaned" in r.selection]) == 1
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 4)
    assert len([r for r in _automation_runs(instance, "eager") if "cleaned" in r.selection]) == 2


def test_materializing_upstream_and_eager_asset_together_queues_nothing(env):
    instance, loaded, trigger = env
    _materialize(instance, loaded, "raw", "cleaned")
    trigger.tick(T0 + 1)
    assert [r for r in _automation_runs(instance, "eager") if "cleaned" in r.selection] == []


def test_an_eager_asset_waits_while_another_upstream_is_being_materialized(env):
    """``joined`` reads raw and slow_input: with slow_input in a queued run, raw alone does not
    trigger it (it would run twice); slow_input's materialization then does, once."""
    instance, loaded, trigger = env
    from deras._daemon.run_factory import RunFactory

    pending = RunFactory(loaded.definitions, loaded.location, instance).for_assets(["slow_input"], key="slow")
    instance.store.create_runs([pending])
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 1)
    assert [r for r in _automation_runs(instance, "eager") if "joined" in r.selection] == []
    assert execute_stored_run(instance, pending.run_id) == RunStatus.SUCCESS
    trigger.tick(T0 + 2)
    trigger.tick(T0 + 3)
    assert len([r for r in _automation_runs(instance, "eager") if "joined" in r.selection]) == 1


def test_an_eager_partitioned_asset_runs_the_partition_that_was_updated(env):
    instance, loaded, trigger = env
    _materialize(instance, loaded, "daily_raw", partition_key="2025-01-03")
    trigger.tick(T0 + 1)
    (run,) = [r for r in _automation_runs(instance, "eager") if "daily_clean" in r.selection]
    assert run.partition_key == "2025-01-03" and run.selection == ["daily_clean"]


# ============================================================================================
# AutomationCondition.on_cron()
# ============================================================================================


def test_on_cron_runs_once_per_hour_after_upstreams_updated(env):
    instance, loaded, trigger = env
    hour = datetime(2025, 1, 6, 11, tzinfo=UTC).timestamp()

    def summaries() -> list:
        return _automation_runs(instance, "on_cron")

    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 5 * MINUTE)  # 10:10: no cron tick since the trigger started
    assert summaries() == []
    trigger.tick(hour + 30)  # 11:00:30: the tick passed, raw not updated since
    assert summaries() == []
    _materialize(instance, loaded, "raw")
    trigger.tick(hour + 10 * MINUTE)
    (first,) = summaries()
    assert first.selection == ["hourly_summary"] and first.status == RunStatus.QUEUED
    _materialize(instance, loaded, "raw")
    trigger.tick(hour + 20 * MINUTE)  # updated again within the hour: still once
    assert len(summaries()) == 1
    trigger.tick(hour + 60 * MINUTE + 30)  # 12:00:30
    assert len(summaries()) == 1
    _materialize(instance, loaded, "raw")
    trigger.tick(hour + 65 * MINUTE)
    assert len(summaries()) == 2


def test_on_cron_after_downtime_runs_once_for_the_missed_ticks(env):
    instance, loaded, trigger = env
    trigger.tick(T0 + 1)
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 5 * 3600)  # five cron ticks passed while the daemon was down
    _materialize(instance, loaded, "raw")
    trigger.tick(T0 + 5 * 3600 + 60)
    assert len(_automation_runs(instance, "on_cron")) == 1


def test_on_cron_counts_an_update_made_after_the_tick_but_read_in_the_same_pass(env, monkeypatch):
    """Materialized at 10:59 and again at 11:01, both read by the 11:02 pass: the 11:01 one is
    an update since the 11:00 tick."""
    from deras._core import events

    instance, loaded, trigger = env
    hour = datetime(2025, 1, 6, 11, tzinfo=UTC).timestamp()
    for stamp in (hour - MINUTE, hour + MINUTE):
        monkeypatch.setattr(events.time, "time", lambda stamp=stamp: stamp)
        _materialize(instance, loaded, "raw")
        monkeypatch.undo()
    trigger.tick(hour + 2 * MINUTE)
    assert len(_automation_runs(instance, "on_cron")) == 1
