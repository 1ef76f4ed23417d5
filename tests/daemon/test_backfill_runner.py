"""Backfills: stored, queued in batches as units become ready, tracked per partition."""

from __future__ import annotations

import time

import pytest

from deras._core.errors import DerasError, PartitionKeyError
from deras._core.status import BackfillStatus, RunStatus
from deras._daemon.backfill_runner import BackfillRunner
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.run_worker import execute_stored_run
from deras._defs.code_cache import CodeCache

CODE = """
import deras as dg

days = dg.DailyPartitionsDefinition("2025-01-01", end_date="2025-01-11")

@dg.asset(partitions_def=days)
def sales(context):
    if context.partition_key == "2025-01-04":
        raise ValueError("bad day")
    return context.partition_key

@dg.asset(partitions_def=days, ins={"prev": dg.AssetIn("sales",
          partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1))})
def trend(prev):
    return prev

@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.single_run())
def ranged(context):
    return len(context.partition_keys)

@dg.dag(schedule="@daily", start_date=__import__("datetime").datetime(2025, 1, 1))
def etl():
    @dg.task
    def t():
        return 1
    t()

etl_dag = etl()

with dg.DAG("ends", schedule="@daily", start_date=__import__("datetime").datetime(2025, 1, 2),
            end_date=__import__("datetime").datetime(2025, 1, 3)) as ends:
    dg.EmptyOperator(task_id="noop")

defs = dg.Definitions(assets=[sales, trend, ranged], dags=[etl_dag, ends],
                      jobs=[dg.define_asset_job("sales_job", selection=["sales"], partitions_def=days)])
"""


@pytest.fixture
def env(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    ctx = DaemonContext(instance, loaded.definitions, loaded.location)
    return instance, loaded, BackfillRunner(ctx)


def _launch(instance, loaded, target, **kwargs):
    return instance.launch_backfill(
        target, definitions=loaded.definitions, code_location=loaded.location, **kwargs
    )


def _execute_queued(instance):
    code = CodeCache()
    for run in instance.store.run_queue.queued_runs():
        execute_stored_run(instance, run.run_id, code=code)


def test_launch_stores_every_partition_pending_before_any_run(env):
    instance, loaded, _ = env
    bid = _launch(instance, loaded, "sales_job", partition_range=("2025-01-01", "2025-01-10"))
    view = instance.get_backfill(bid)
    assert view.status == BackfillStatus.REQUESTED
    assert list(view.partition_status) == [f"2025-01-{d:02d}" for d in range(1, 11)]
    assert set(view.partition_status.values()) == {"pending"}
    assert instance.get_runs() == []


def test_code_location_given_as_a_file_path_string_loads_that_file(env):
    instance, loaded, _ = env
    bid = instance.launch_backfill(
        "sales_job", partition_keys=["2025-01-02"], code_location=loaded.location["file"]
    )
    assert instance.store.backfills.get_backfill(bid).code_location == loaded.location


def test_code_location_of_the_wrong_type_is_a_clear_error(env):
    instance, loaded, _ = env
    with pytest.raises(DerasError, match="code_location must be"):
        instance.launch_backfill(
            "sales_job", partition_keys=["2025-01-02"], definitions=loaded.definitions, code_location=3
        )


def test_runner_queues_one_run_per_partition_in_one_pass(env):
    instance, loaded, runner = env
    bid = _launch(instance, loaded, "sales_job", partition_range=("2025-01-01", "2025-01-10"))
    runner.tick(time.time())
    queued = instance.store.run_queue.queued_runs()
    assert sorted(r.partition_key for r in queued) == [f"2025-01-{d:02d}" for d in range(1, 11)]
    assert {r.backfill_id for r in queued} == {bid}
    assert all(r.priority < 0 for r in queued)  # behind scheduled runs
    runner.tick(time.time())  # again: nothing twice
    assert len(instance.store.run_queue.queued_runs()) == 10


def test_partition_status_follows_runs_and_failures_are_kept(env):
    instance, loaded, runner = env
    bid = _launch(instance, loaded, "sales_job", partition_range=("2025-01-03", "2025-01-05"))
    runner.tick(time.time())
    _execute_queued(instance)
    runner.tick(time.time())
    view = instance.get_backfill(bid)
    assert view.partition_status == {
        "2025-01-03": "success",
        "2025-01-04": "failure",
        "2025-01-05": "success",
    }
    assert view.status == BackfillStatus.COMPLETED_WITH_FAILURES


def test_mapped_downstream_moves_as_upstream_partitions_land(env):
    instance, loaded, runner = env
    bid = _launch(
        instance, loaded, ["sales", "trend"], partition_keys=["2025-01-01", "2025-01-02", "2025-01-03"]
    )
    runner.tick(time.time())
    first = instance.store.run_queue.queued_runs()
    # trend of day 1 reads no day inside the backfill: it may run with the first wave
    assert sorted((r.selection[0], r.partition_key) for r in first) == [
        ("sales", "2025-01-01"),
        ("sales", "2025-01-02"),
        ("sales", "2025-01-03"),
        ("trend", "2025-01-01"),
    ]
    _execute_queued(instance)
    runner.tick(time.time())  # every downstream unit whose day landed, in one pass
    second = instance.store.run_queue.queued_runs()
    assert sorted(r.partition_key for r in second) == ["2025-01-02", "2025-01-03"]
    _execute_queued(instance)
    runner.tick(time.time())
    assert instance.get_backfill(bid).status == BackfillStatus.COMPLETED


def test_failed_upstream_partition_skips_what_depends_on_it(env):
    instance, loaded, runner = env
    bid = _launch(instance, loaded, ["sales", "trend"], partition_keys=["2025-01-04", "2025-01-05"])
    runner.tick(time.time())
    _execute_queued(instance)
    runner.tick(time.time())
    _execute_queued(instance)
    runner.tick(time.time())
    view = instance.get_backfill(bid)
    assert view.partition_status["2025-01-05"] == "skipped"  # trend of the 5th reads the failed 4th
    assert view.status == BackfillStatus.COMPLETED_WITH_FAILURES


def test_single_run_policy_makes_one_run_over_the_range(env):
    instance, loaded, runner = env
    _launch(instance, loaded, "ranged", partition_range=("2025-01-01", "2025-01-10"))
    runner.tick(time.time())
    (run,) = instance.store.run_queue.queued_runs()
    assert run.partition_range == ("2025-01-01", "2025-01-10") and run.partition_key is None
    assert execute_stored_run(instance, run.run_id) == RunStatus.SUCCESS


def test_dag_backfill_queues_one_backfill_dag_run_per_logical_date(env):
    instance, loaded, runner = env
    bid = _launch(instance, loaded, "etl", partition_range=("2025-01-01", "2025-01-03"))
    runner.tick(time.time())
    runs = instance.store.run_queue.queued_runs()
    assert sorted(r.tags["deras/logical_date"][:10] for r in runs) == [
        "2025-01-01",
        "2025-01-02",
        "2025-01-03",
    ]
    assert {r.tags["deras/run_type"] for r in runs} == {"backfill"}
    _execute_queued(instance)
    runner.tick(time.time())
    assert instance.get_backfill(bid).status == BackfillStatus.COMPLETED


def test_dag_backfill_runs_only_the_dates_between_start_date_and_end_date(env):
    instance, loaded, runner = env
    bid = _launch(instance, loaded, "ends", partition_range=("2025-01-01", "2025-01-05"))
    assert list(instance.get_backfill(bid).partition_status) == [
        "2025-01-02T00:00:00+00:00",
        "2025-01-03T00:00:00+00:00",
    ]
    runner.tick(time.time())
    runs = instance.store.run_queue.queued_runs()
    assert sorted(r.tags["deras/logical_date"][:10] for r in runs) == ["2025-01-02", "2025-01-03"]


def test_dag_backfill_outside_start_date_and_end_date_is_refused(env):
    instance, loaded, _ = env
    with pytest.raises(DerasError, match="none of its logical dates"):
        _launch(instance, loaded, "ends", partition_range=("2025-01-04", "2025-01-09"))
    with pytest.raises(DerasError, match="2025-01-04T00:00:00\\+00:00: it is after its end_date"):
        _launch(instance, loaded, "ends", partition_keys=["2025-01-03", "2025-01-04"])
    assert instance.get_backfills() == []


def test_cancel_cancels_queued_runs_and_pending_partitions(env):
    instance, loaded, runner = env
    bid = _launch(instance, loaded, ["sales", "trend"], partition_keys=["2025-01-01", "2025-01-02"])
    runner.tick(time.time())
    instance.cancel_backfill(bid)
    runner.tick(time.time())
    view = instance.get_backfill(bid)
    assert view.status == BackfillStatus.CANCELED
    assert {r.status for r in instance.get_runs()} == {RunStatus.CANCELED}
    assert set(view.partition_status.values()) == {"canceled"}


def test_retry_failed_backfills_only_the_failed_partitions(env):
    instance, loaded, runner = env
    bid = _launch(instance, loaded, "sales_job", partition_range=("2025-01-03", "2025-01-05"))
    runner.tick(time.time())
    _execute_queued(instance)
    runner.tick(time.time())
    again = instance.retry_failed_backfill(bid)
    view = instance.get_backfill(again)
    assert list(view.partition_status) == ["2025-01-04"]
    assert view.record.parent_backfill_id == bid


def test_bad_partition_key_is_refused_before_anything_is_stored(env):
    instance, loaded, _ = env
    with pytest.raises(PartitionKeyError, match="2024-12-31"):
        _launch(instance, loaded, "sales_job", partition_keys=["2025-01-01", "2024-12-31"])
    assert instance.get_backfills() == []


def test_partitions_of_an_unpartitioned_target_are_refused(env, make_instance, write_code):
    instance, _, _ = env
    plain = write_code(
        """
        import deras as dg
        @dg.asset
        def once():
            return 1
        defs = dg.Definitions(assets=[once])
        """
    )
    with pytest.raises(DerasError, match="not partitioned"):
        _launch(instance, plain, "once", partition_range=("2025-01-01", "nonsense"))
    assert instance.get_backfills() == []


def test_backfill_without_a_code_location_is_refused(env):
    instance, loaded, _ = env
    with pytest.raises(DerasError, match="code_location"):
        instance.launch_backfill("sales_job", partition_keys=["2025-01-01"], definitions=loaded.definitions)


def test_ten_thousand_partitions_are_queued_in_one_pass(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(
        """
        import deras as dg
        hours = dg.HourlyPartitionsDefinition("2024-01-01-00:00", end_date="2025-03-01-00:00")
        @dg.asset(partitions_def=hours)
        def h():
            return 1
        defs = dg.Definitions(assets=[h])
        """
    )
    ctx = DaemonContext(instance, loaded.definitions, loaded.location)
    keys = loaded.definitions.asset_graph.nodes["h"].partitions_def.get_partition_keys()[:10_000]
    bid = _launch(instance, loaded, "h", partition_keys=keys)
    BackfillRunner(ctx).tick(time.time())
    assert instance.get_backfill(bid).counts["queued"] == 10_000
    assert len(instance.store.run_queue.queued_runs(limit=20_000)) == 10_000
