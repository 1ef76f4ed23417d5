"""The run queue: priorities and limits decide which queued runs start, and each starts once."""

from __future__ import annotations

import time

import pytest
from recording_launcher import RecordingLauncher

from deras._core.status import RunStatus
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.launcher import WarmPoolLauncher
from deras._daemon.run_factory import RunFactory
from deras._daemon.run_queue import RunQueue

CODE = """
import deras as dg

@dg.asset
def a():
    return 1

@dg.asset(pool="db")
def pooled():
    return 2

@dg.dag(schedule=None, max_active_runs=1)
def one_at_a_time():
    @dg.task
    def t():
        return 1
    t()

dag = one_at_a_time()
defs = dg.Definitions(assets=[a, pooled], dags=[dag])
"""


def _setup(make_instance, write_code, config=None):
    instance = make_instance(config)
    loaded = write_code(CODE)
    ctx = DaemonContext(instance, loaded.definitions, loaded.location)
    factory = RunFactory(loaded.definitions, loaded.location, instance)
    return instance, ctx, factory


def test_higher_priority_runs_start_first(make_instance, write_code):
    instance, ctx, factory = _setup(make_instance, write_code, {"max_concurrent_runs": 2})
    low = factory.for_assets(["a"], key="low", priority=-10)
    mid = factory.for_assets(["a"], key="mid")
    high = factory.for_assets(["a"], key="high", tags={"deras/priority": "5"})
    instance.store.create_runs([low, mid, high])
    launcher = RecordingLauncher()
    assert RunQueue(ctx, launcher).tick(time.time()) == [high.run_id, mid.run_id]
    assert instance.get_run(low.run_id).status == RunStatus.QUEUED
    assert instance.get_run(high.run_id).status == RunStatus.STARTING


def test_max_concurrent_runs_counts_runs_already_running(make_instance, write_code):
    instance, ctx, factory = _setup(make_instance, write_code, {"max_concurrent_runs": 3})
    runs = [factory.for_assets(["a"], key=f"r{i}") for i in range(5)]
    instance.store.create_runs(runs)
    launcher = RecordingLauncher()
    queue = RunQueue(ctx, launcher)
    assert len(queue.tick(time.time())) == 3
    assert queue.tick(time.time()) == []  # three are starting: no room
    instance.store.store_events([])
    for run_id in launcher.launched[:2]:
        instance.cancel_run(run_id)  # canceling still holds its place until it ends
    assert queue.tick(time.time()) == []


def test_tag_limits_hold_back_only_the_runs_they_name(make_instance, write_code):
    config = {
        "tag_concurrency_limits": [{"key": "team", "value": "finance", "limit": 1}, {"key": "db", "limit": 1}]
    }
    instance, ctx, factory = _setup(make_instance, write_code, config)
    f1 = factory.for_assets(["a"], key="f1", tags={"team": "finance"})
    f2 = factory.for_assets(["a"], key="f2", tags={"team": "finance"})
    m1 = factory.for_assets(["a"], key="m1", tags={"team": "marketing"})
    d1 = factory.for_assets(["a"], key="d1", tags={"db": "x"})
    d2 = factory.for_assets(["a"], key="d2", tags={"db": "x"})
    d3 = factory.for_assets(["a"], key="d3", tags={"db": "y"})  # another value: its own limit
    instance.store.create_runs([f1, f2, m1, d1, d2, d3])
    launched = RunQueue(ctx, RecordingLauncher()).tick(time.time())
    assert set(launched) == {f1.run_id, m1.run_id, d1.run_id, d3.run_id}


def test_dag_max_active_runs_holds_back_a_second_run(make_instance, write_code):
    instance, ctx, factory = _setup(make_instance, write_code)
    dag = ctx.definitions.dags[0]
    runs = [factory.for_dag(dag, logical_date=None, run_type="manual", key=f"d{i}") for i in range(2)]
    instance.store.create_runs(runs)
    assert RunQueue(ctx, RecordingLauncher()).tick(time.time()) == [runs[0].run_id]


def test_a_run_only_tagged_with_a_dag_id_is_not_one_of_its_active_runs(make_instance, write_code):
    instance, ctx, factory = _setup(make_instance, write_code)
    dag = ctx.definitions.dags[0]
    tagged = factory.for_assets(["a"], key="tagged", tags={"deras/dag_id": dag.dag_id})
    dag_run = factory.for_dag(dag, logical_date=None, run_type="manual", key="d")
    instance.store.create_runs([tagged, dag_run])
    launched = RunQueue(ctx, RecordingLauncher()).tick(time.time())
    assert launched == [tagged.run_id, dag_run.run_id]


def test_a_full_pool_keeps_runs_that_need_it_queued(make_instance, write_code):
    instance, ctx, factory = _setup(make_instance, write_code, {"pools": {"db": 1}})
    assert instance.store.slots.claim("db", 1, "someone-else", "x", time.time())
    pooled = factory.for_assets(["pooled"], key="p")
    plain = factory.for_assets(["a"], key="a")
    instance.store.create_runs([pooled, plain])
    queue = RunQueue(ctx, RecordingLauncher())
    assert queue.tick(time.time()) == [plain.run_id]
    instance.store.slots.release("db", "someone-else", "x")
    assert queue.tick(time.time()) == [pooled.run_id]


def test_runs_started_in_one_pass_count_against_their_pool(make_instance, write_code):
    instance, ctx, factory = _setup(make_instance, write_code, {"pools": {"db": 1}})
    first, second = (factory.for_assets(["pooled"], key=f"p{i}") for i in range(2))
    plain = factory.for_assets(["a"], key="a")
    instance.store.create_runs([first, second, plain])
    launched = RunQueue(ctx, RecordingLauncher()).tick(time.time())
    assert launched == [first.run_id, plain.run_id]  # the second would only wait for the slot


def test_launcher_capacity_limits_what_is_claimed(make_instance, write_code):
    instance, ctx, factory = _setup(make_instance, write_code)
    instance.store.create_runs([factory.for_assets(["a"], key=f"r{i}") for i in range(4)])
    launcher = RecordingLauncher(slots=1)
    assert len(RunQueue(ctx, launcher).tick(time.time())) == 1
    assert len(instance.store.run_queue.queued_runs()) == 3


def test_two_queues_never_launch_the_same_run(make_instance, write_code):
    instance, ctx, factory = _setup(make_instance, write_code, {"max_concurrent_runs": 100})
    instance.store.create_runs([factory.for_assets(["a"], key=f"r{i}") for i in range(30)])
    first, second = RecordingLauncher(), RecordingLauncher()
    other = DaemonContext(ctx.instance, ctx.definitions, ctx.location)
    RunQueue(ctx, first).tick(time.time())
    RunQueue(other, second).tick(time.time())
    assert len(first.launched) + len(second.launched) == 30
    assert not set(first.launched) & set(second.launched)


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_warm_pool_runs_queued_runs_in_worker_processes(make_instance, write_code):
    instance, ctx, factory = _setup(make_instance, write_code)
    runs = [factory.for_assets(["a"], key=f"r{i}") for i in range(6)]
    instance.store.create_runs(runs)
    launcher = WarmPoolLauncher(instance, workers=2, preload=ctx.location)
    queue = RunQueue(ctx, launcher)
    try:
        deadline = time.time() + 45
        while time.time() < deadline:
            queue.tick(time.time())
            if all(instance.get_run(r.run_id).status.is_finished for r in runs):
                break
            time.sleep(0.02)
    finally:
        launcher.shutdown()
    assert {instance.get_run(r.run_id).status for r in runs} == {RunStatus.SUCCESS}
    pids = {instance.get_run(r.run_id).worker["pid"] for r in runs}
    assert 1 <= len(pids) <= 2 and ctx.owner.split(":")[1] not in {str(p) for p in pids}
