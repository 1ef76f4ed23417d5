"""Executing stored runs: what `deras run-worker` and pool workers do with a queued run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

import deras as dg
from deras._core.events import EventType
from deras._core.status import RunStatus
from deras._daemon.launcher import worker_env
from deras._daemon.run_factory import RunFactory
from deras._daemon.run_worker import execute_stored_run

CODE = """
import time
import deras as dg

@dg.asset
def a():
    return 1

@dg.asset
def b(a):
    return a + 1

@dg.asset
def boom():
    raise ValueError("boom went the asset")

@dg.asset
def slow_1():
    time.sleep(0.5)

@dg.asset
def slow_2(slow_1):
    time.sleep(0.5)

@dg.asset
def slow_3(slow_2):
    return 3

@dg.asset(pool="db")
def pooled():
    time.sleep(0.3)

@dg.dag(schedule=None)
def hello():
    @dg.task
    def say():
        return "hi"
    say()

hello_dag = hello()
defs = dg.Definitions(assets=[a, b, boom, slow_1, slow_2, slow_3, pooled], dags=[hello_dag])
"""


def _queue(instance, loaded, node_ids, key="k"):
    run = RunFactory(loaded.definitions, loaded.location, instance).for_assets(node_ids, key=key)
    instance.store.create_runs([run])
    return run


def test_queued_run_executes_in_order_and_ends_success(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    run = _queue(instance, loaded, ["b", "a"])
    assert execute_stored_run(instance, run.run_id) == RunStatus.SUCCESS
    stored = instance.get_run(run.run_id)
    assert stored.status == RunStatus.SUCCESS
    assert [a.node for a in instance.get_attempts(run.run_id)] == ["a", "b"]
    assert stored.heartbeat is not None and stored.worker["pid"] > 0


def test_user_code_error_fails_the_run_with_its_traceback(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    run = _queue(instance, loaded, ["boom"])
    assert execute_stored_run(instance, run.run_id) == RunStatus.FAILURE
    failures = [e for e in instance.get_events(run.run_id) if e.event_type == EventType.STEP_FAILURE]
    assert "boom went the asset" in failures[0].data["traceback"]


def test_run_whose_code_is_gone_fails_with_the_reason(make_instance, write_code, tmp_path):
    instance = make_instance()
    loaded = write_code(CODE)
    run = _queue(instance, loaded, ["a"])
    (tmp_path / "code_0.py").unlink()
    assert execute_stored_run(instance, run.run_id) == RunStatus.FAILURE
    end = instance.get_events(run.run_id)[-1]
    assert end.event_type == EventType.RUN_FAILURE and "could not start" in end.message


def test_a_run_executes_once_even_if_two_workers_take_it(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    run = _queue(instance, loaded, ["a"])
    assert execute_stored_run(instance, run.run_id) == RunStatus.SUCCESS
    try:
        execute_stored_run(instance, run.run_id)
    except Exception as err:
        assert "only a queued or starting run" in str(err)
    else:
        raise AssertionError("a finished run executed again")
    assert len(instance.get_attempts(run.run_id)) == 1


@pytest.mark.slow
def test_cancel_stops_a_running_run_between_nodes(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    run = _queue(instance, loaded, ["slow_1", "slow_2", "slow_3"])
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(status=execute_stored_run(instance, run.run_id, heartbeat_interval=0.05))
    )
    worker.start()
    deadline = time.time() + 10
    # A long node's start is stored while it runs: cancel during slow_1.
    while not instance.get_attempts(run.run_id) and time.time() < deadline:
        time.sleep(0.01)
    assert instance.cancel_run(run.run_id) == RunStatus.CANCELING
    worker.join(10)
    assert result["status"] == RunStatus.CANCELED
    outcomes = instance.store.get_node_outcomes(run.run_id)
    assert outcomes == {"slow_1": "success", "slow_2": "skipped", "slow_3": "skipped"}
    assert instance.get_run(run.run_id).status == RunStatus.CANCELED


def test_canceling_a_queued_run_means_it_never_starts(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    run = _queue(instance, loaded, ["a"])
    assert instance.cancel_run(run.run_id) == RunStatus.CANCELED
    assert instance.get_attempts(run.run_id) == []


def test_stored_dag_run_executes_as_a_dag_run(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    dag = loaded.definitions.dags[0]
    run = RunFactory(loaded.definitions, loaded.location, instance).for_dag(
        dag, logical_date=None, run_type="manual", key="d1"
    )
    instance.store.create_runs([run])
    assert execute_stored_run(instance, run.run_id) == RunStatus.SUCCESS
    assert instance.get_run(run.run_id).tags["deras/dag_id"] == "hello"
    assert [a.node for a in instance.get_attempts(run.run_id)] == ["hello.say"]


@pytest.mark.slow
def test_pool_slots_limit_nodes_across_runs(make_instance, write_code):
    instance = make_instance({"pools": {"db": 1}})
    loaded = write_code(CODE)
    runs = [_queue(instance, loaded, ["pooled"], key=f"p{i}") for i in range(2)]
    threads = [threading.Thread(target=execute_stored_run, args=(instance, r.run_id)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    attempts = [instance.get_attempts(r.run_id)[0] for r in runs]
    first, second = sorted(attempts, key=lambda a: a.start_time)
    assert second.start_time >= first.end_time  # one slot: never at the same time
    assert instance.store.slots.usage().get("db", 0) == 0


@pytest.mark.slow
def test_run_worker_command_executes_a_queued_run(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    run = _queue(instance, loaded, ["a", "b"])
    done = subprocess.run(
        [sys.executable, "-m", "deras", "run-worker", run.run_id],
        env=worker_env(instance),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"run {run.run_id} success" in done.stdout
    assert instance.get_run(run.run_id).status == RunStatus.SUCCESS


@pytest.mark.slow
def test_the_heartbeat_names_the_node_being_run(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(CODE)
    run = _queue(instance, loaded, ["slow_1", "slow_2"])
    worker = threading.Thread(
        target=execute_stored_run, args=(instance, run.run_id), kwargs={"heartbeat_interval": 0.05}
    )
    worker.start()
    seen = set()
    deadline = time.time() + 10
    while worker.is_alive() and time.time() < deadline:
        seen.add((instance.get_run(run.run_id).worker or {}).get("node"))
        time.sleep(0.02)
    worker.join(10)
    assert {"slow_1", "slow_2"} <= seen


POOLED_CODE = """
import os
import deras as dg

@dg.asset
def left():
    return os.getpid()

@dg.asset
def right():
    return os.getpid()

defs = dg.Definitions(
    assets=[left, right],
    jobs=[dg.define_asset_job("both", executor={"type": "multiprocess", "max_concurrent": 2})],
)
"""


@pytest.mark.slow
def test_a_stored_run_of_a_job_runs_on_the_jobs_executor(make_instance, write_code):
    instance = make_instance()
    loaded = write_code(POOLED_CODE)
    factory = RunFactory(loaded.definitions, loaded.location, instance)
    run = factory.for_assets(["left", "right"], key="pooled", job_name="both")
    instance.store.create_runs([run])
    assert execute_stored_run(instance, run.run_id) == RunStatus.SUCCESS
    io_manager = instance.default_io_manager
    pids = {io_manager.load_input(dg.InputContext(asset_key=dg.AssetKey(n))) for n in ("left", "right")}
    assert os.getpid() not in pids  # the nodes ran in the pool's workers, not in the run worker
