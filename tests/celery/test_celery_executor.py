"""The Celery executor with real workers: many nodes on two workers, a worker killed mid-node,
long nodes past the broker's timeouts, routing, DAG tasks, and steps no worker takes."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import deras as dg
from deras._defs.loader import load_definitions
from deras.celery import CeleryExecutor
from etl_dag import DAY, ETL_FILE, load_etl, task_states

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["postgres"], indirect=True)]

EventType = dg.EventType

GRID = """
import os
import deras as dg

LAYERS, WIDTH = 10, 20

def node(layer, j):
    if layer == 0:
        @dg.asset(name=f"n0_{j}")
        def first() -> int:
            return j
        return first

    @dg.asset(name=f"n{layer}_{j}", ins={"up": dg.AssetIn(key=f"n{layer - 1}_{j}")})
    def step(up: int) -> int:
        return up + 1
    return step

assets = [node(layer, j) for layer in range(LAYERS) for j in range(WIDTH)]
defs = dg.Definitions(assets=assets)
"""


def _assets(env: Any) -> list[Any]:
    return load_definitions(file=str(env.code)).definitions.assets


def _workers_of(instance: Any, run_id: str) -> Counter[str]:
    """How many steps of the run each Celery worker ran."""
    claims = instance.store.steps.of_run(run_id).values()
    return Counter(c.worker["celery"] for c in claims if c.outcome and "status" in c.outcome)


def test_two_hundred_nodes_run_on_two_workers_and_both_are_used(celery_env, queue) -> None:
    env, instance = celery_env(GRID)
    env.start_worker(queue)
    env.start_worker(queue)
    result = dg.materialize(_assets(env), instance=instance, executor=CeleryExecutor(env.broker, queue=queue))
    assert result.success
    assert result.asset_value("n9_7") == 7 + 9
    per_worker = _workers_of(instance, result.run_id)
    assert len(per_worker) == 2 and sum(per_worker.values()) == 200
    events = instance.get_events(result.run_id)
    assert Counter(e.event_type for e in events)[EventType.ASSET_MATERIALIZATION] == 200
    assert Counter(e.event_type for e in events)[EventType.STEP_SUCCESS] == 200


KILLABLE = """
import os
import time
from pathlib import Path
import deras as dg

MARK = Path(os.environ["DERAS_TEST_MARK"])

@dg.asset
def before() -> int:
    return 1

@dg.asset
def slow(context: dg.AssetExecutionContext, before: int) -> int:
    if context.retry_number == 0:
        MARK.write_text(str(os.getpid()))
        time.sleep(120)
    return before + 1

@dg.asset
def after(slow: int) -> int:
    return slow + 1

defs = dg.Definitions(assets=[before, slow, after])
"""


def test_a_worker_killed_mid_node_has_the_node_rerun_on_the_other(celery_env, queue, tmp_path: Path) -> None:
    mark = tmp_path / "slow-started"
    env, instance = celery_env(KILLABLE)
    workers = [env.start_worker(queue, DERAS_TEST_MARK=str(mark)) for _ in range(2)]
    os.environ["DERAS_TEST_MARK"] = str(mark)  # the coordinator imports the code too
    executor = CeleryExecutor(env.broker, queue=queue, heartbeat_timeout_seconds=3)
    out: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: out.setdefault(
            "result", dg.materialize(_assets(env), instance=instance, executor=executor)
        )
    )
    thread.start()
    give_up = time.monotonic() + 60
    while not mark.exists():
        assert time.monotonic() < give_up, [w.text() for w in workers]
        time.sleep(0.05)
    pool_process = int(mark.read_text())
    running = next(w for w in workers if os.getpgid(pool_process) == w.process.pid)
    running.kill()
    thread.join(120)
    result = out["result"]
    assert result.success and result.asset_value("after") == 3
    slow_events = [e for e in instance.get_events(result.run_id) if e.node == "slow"]
    kinds = [(e.event_type, e.attempt) for e in slow_events if e.event_type != EventType.LOG]
    assert kinds == [
        (EventType.STEP_START, 0),
        (EventType.STEP_RETRY, 0),
        (EventType.STEP_START, 1),
        (EventType.ASSET_MATERIALIZATION, 1),
        (EventType.STEP_SUCCESS, 1),
    ]
    assert "stopped beating" in slow_events[1].data["error"]
    assert len(instance.get_materializations("slow")) == 1


LONG = """
import time
import deras as dg

@dg.asset
def long_one() -> str:
    time.sleep(6)
    return "done"

defs = dg.Definitions(assets=[long_one])
"""


@pytest.mark.parametrize("broker", ["redis"], indirect=True)  # RabbitMQ has no visibility timeout
def test_a_node_longer_than_the_brokers_redelivery_timeout_runs_once(celery_env, queue) -> None:
    env, instance = celery_env(LONG)
    for _ in range(2):
        env.start_worker(queue, DERAS_CELERY_VISIBILITY_TIMEOUT="2")
    os.environ["DERAS_CELERY_VISIBILITY_TIMEOUT"] = "2"
    try:
        executor = CeleryExecutor(env.broker, queue=queue)
        result = dg.materialize(_assets(env), instance=instance, executor=executor)
    finally:
        del os.environ["DERAS_CELERY_VISIBILITY_TIMEOUT"]
    assert result.success
    starts = [e for e in instance.get_events(result.run_id) if e.event_type == EventType.STEP_START]
    assert len(starts) == 1
    assert len(instance.store.steps.of_run(result.run_id)) == 1


ROUTED = """
import os
import deras as dg

@dg.asset
def anywhere() -> int:
    return os.getpid()

@dg.asset(tags={"deras/queue": os.environ["DERAS_TEST_GPU_QUEUE"]})
def on_gpu(anywhere: int) -> int:
    return os.getpid()

defs = dg.Definitions(assets=[anywhere, on_gpu])
"""


def test_a_node_tagged_with_a_queue_runs_on_that_queues_worker(celery_env, queue) -> None:
    gpu = f"{queue}-gpu"
    os.environ["DERAS_TEST_GPU_QUEUE"] = gpu
    env, instance = celery_env(ROUTED)
    general = env.start_worker(queue, DERAS_TEST_GPU_QUEUE=gpu)
    gpu_worker = env.start_worker(gpu, DERAS_TEST_GPU_QUEUE=gpu)
    result = dg.materialize(_assets(env), instance=instance, executor=CeleryExecutor(env.broker, queue=queue))
    assert result.success
    claims = {k[1]: c.worker["celery"] for k, c in instance.store.steps.of_run(result.run_id).items()}
    assert claims["on_gpu"] in gpu_worker.text() and claims["anywhere"] in general.text()
    assert claims["on_gpu"] != claims["anywhere"]


def test_a_step_no_worker_takes_fails_saying_so(celery_env, queue) -> None:
    env, instance = celery_env(LONG)
    executor = CeleryExecutor(
        env.broker, queue=queue, resend_after_seconds=0.5, unclaimed_timeout_seconds=1.5
    )
    result = dg.materialize(_assets(env), instance=instance, executor=executor, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in instance.get_events(result.run_id) if e.event_type == EventType.STEP_FAILURE]
    assert "no worker took the step from queue" in failure.data["error"]
    assert f"deras worker -Q {queue}" in failure.data["error"]


def test_dag_tasks_end_on_celery_as_they_do_in_process(celery_env, queue) -> None:
    env, instance = celery_env(ETL_FILE.read_text())
    env.start_worker(queue)
    dag = load_etl()
    in_process = dag.test(logical_date=DAY)
    on_celery = dag.test(
        logical_date=DAY, instance=instance, executor=CeleryExecutor(env.broker, queue=queue)
    )
    assert task_states(on_celery) == task_states(in_process)
    assert on_celery.xcom("total") == 12 and on_celery.xcom("bash") == "2025-03-01"
    assert on_celery.xcom("total", key="count") == 3
    assert in_process.xcom("where") != on_celery.xcom("where")  # a worker ran it


JOB_CODE = """
import os
import deras as dg
from deras.celery import CeleryExecutor

@dg.asset
def where() -> int:
    return os.getpid()

@dg.asset
def then(where: int) -> int:
    return where

remote = CeleryExecutor(os.environ["DERAS_TEST_BROKER"], queue=os.environ["DERAS_TEST_QUEUE"])
defs = dg.Definitions(assets=[where, then], jobs=[dg.define_asset_job("remote", executor=remote)])
"""


def test_a_job_run_from_the_command_line_runs_on_the_workers(celery_env, queue) -> None:
    import json
    import subprocess
    import sys

    env, instance = celery_env(JOB_CODE)
    extra = {"DERAS_TEST_BROKER": env.broker, "DERAS_TEST_QUEUE": queue}
    worker = env.start_worker(queue, **extra)
    proc = subprocess.run(
        [sys.executable, "-m", "deras", "job", "run", "remote", "-f", str(env.code), "--json"],
        env=env.env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    run_id = json.loads(proc.stdout)["run_id"]
    assert instance.get_run(run_id).code_location == {"file": str(env.code)}
    ran_on = {c.worker["celery"] for c in instance.store.steps.of_run(run_id).values()}
    assert len(ran_on) == 1 and ran_on.pop() in worker.text()
