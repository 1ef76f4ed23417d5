"""Runs executed in one's own process are owned and stamped like a worker's, and hear cancels."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import deras as dg
from deras._core.status import NodeStatus, RunStatus
from deras._exec.dag_runs import clear_task_instances
from deras._exec.run_owner import this_process

BEATING = {"run_monitoring": {"heartbeat_interval_seconds": 0.05}}


@dg.asset
def quick() -> int:
    return 1


@dg.asset
def slow_1() -> None:
    time.sleep(0.6)


@dg.asset(deps=[slow_1])
def slow_2() -> None:
    time.sleep(0.6)


@dg.asset(deps=[slow_2])
def slow_3() -> None:
    pass


RELEASE = threading.Event()
"""Holds ``held`` running until the test has seen what it looks for: on a loaded machine a
fixed sleep may end before the other run has even started."""


@dg.asset
def held() -> None:
    assert RELEASE.wait(120), "the test never released the node"


def _in_thread(target, *args, **kwargs) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        out["result"] = target(*args, **kwargs)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _wait_until(condition, timeout: float = 120.0) -> None:  # catches a hang only
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


def _first_running_run(instance):
    runs = instance.get_runs(status=RunStatus.STARTED)
    return runs[0] if runs and instance.get_attempts(runs[0].run_id) else None


def test_a_run_of_a_stored_instance_records_its_owner_with_its_first_insert(make_instance) -> None:
    instance = make_instance()
    before = time.time()
    result = dg.materialize([quick], instance=instance)
    stored = instance.get_run(result.run_id)
    assert stored.worker == this_process()
    assert before <= stored.heartbeat <= stored.end_time
    assert dg.materialize([quick]).run.worker is None  # an in-memory instance has no owner to record


def test_one_heartbeat_thread_stamps_every_run_of_the_process(make_instance) -> None:
    instance = make_instance(BEATING)
    RELEASE.clear()
    runs = [_in_thread(dg.materialize, [held], instance=instance) for _ in range(2)]
    _wait_until(lambda: len(instance.get_runs(status=RunStatus.STARTED)) == 2)
    started = {r.run_id: r.heartbeat for r in instance.get_runs(status=RunStatus.STARTED)}

    def both_beat_on_a_node() -> bool:
        now = {r.run_id: r for r in instance.get_runs(status=RunStatus.STARTED)}
        # Both are stamped; the node of one of them is running (a process captures one node's
        # output at a time, so the other may wait for it before its node starts).
        return (
            set(now) == set(started)
            and all(r.heartbeat > started[i] for i, r in now.items())
            and any(r.worker.get("node") == "held" for r in now.values())
        )

    try:
        _wait_until(both_beat_on_a_node)
        assert [t.name for t in threading.enumerate()].count("deras-heartbeat") == 1
    finally:
        RELEASE.set()
    for thread, out in runs:
        thread.join(120)
        assert out["result"].success


def test_cancel_stops_a_run_of_this_process_between_nodes(make_instance) -> None:
    instance = make_instance(BEATING)
    thread, out = _in_thread(
        dg.materialize, [slow_1, slow_2, slow_3], instance=instance, raise_on_error=False
    )
    _wait_until(lambda: _first_running_run(instance) is not None)  # slow_1 is running
    run = _first_running_run(instance)
    assert instance.cancel_run(run.run_id) == RunStatus.CANCELING
    thread.join(20)
    assert out["result"].run.status == RunStatus.CANCELED
    assert instance.get_run(run.run_id).status == RunStatus.CANCELED
    outcomes = instance.store.get_node_outcomes(run.run_id)
    assert outcomes["slow_1"] == NodeStatus.SUCCESS
    assert outcomes["slow_2"] == outcomes["slow_3"] == NodeStatus.SKIPPED


def test_a_cleared_dag_run_is_owned_by_the_process_that_clears_it(make_instance) -> None:
    """Its last owner is long gone: without the new owner the run monitor would fail it."""

    @dg.dag(schedule=None)
    def cleared():
        @dg.task
        def only() -> int:
            return 1

        only()

    dag = cleared()
    instance = make_instance()
    run_id = dag.test(instance=instance).run_id
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=30)
    instance.store.run_queue.beat({run_id: {**this_process(), "pid": gone.pid}}, time.time())
    clear_task_instances(dag, instance, run_id, ["only"])
    stored = instance.get_run(run_id)
    assert stored.status == RunStatus.SUCCESS
    assert stored.worker == this_process()
