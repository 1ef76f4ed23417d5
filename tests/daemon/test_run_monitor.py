"""The run monitor: dead runs are failed, failed runs retried by their policy, once each."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from deras._core.events import EventType
from deras._core.status import NodeStatus, RunStatus
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.launcher import ProcessLauncher, worker_env
from deras._daemon.run_factory import RunFactory
from deras._daemon.run_monitor import RunMonitor
from deras._daemon.run_queue import RunQueue
from deras._daemon.run_worker import execute_stored_run

CODE = """
import time
import deras as dg

@dg.asset
def first():
    time.sleep(0.1)  # past the event writer's inline window: what follows is stored live
    return 1

@dg.asset
def quick():
    return 1

@dg.asset
def sleepy_after_quick(quick):
    time.sleep(60)

@dg.asset
def sleepy(first):
    time.sleep(60)
    return first

@dg.asset
def boom(first):
    raise ValueError("boom went the asset")

@dg.dag(schedule=None, run_retry_policy=dg.RunRetryPolicy(max_retries=1))
def flaky_dag():
    @dg.task
    def fails():
        raise ValueError("task failed")
    fails()

flaky = flaky_dag()
once = dg.RunRetryPolicy(max_retries=1)
defs = dg.Definitions(
    assets=[first, sleepy, boom, quick, sleepy_after_quick],
    dags=[flaky],
    jobs=[
        dg.define_asset_job("sleepy_job", selection=["first", "sleepy"], run_retry_policy=once),
        dg.define_asset_job("boom_job", selection=["first", "boom"], run_retry_policy=once),
        dg.define_asset_job("whole_job", selection=["first", "boom"],
                            run_retry_policy=dg.RunRetryPolicy(max_retries=2, from_failure=False)),
        dg.define_asset_job("delayed_job", selection=["boom"],
                            run_retry_policy=dg.RunRetryPolicy(max_retries=1, delay=60)),
        dg.define_asset_job("plain_job", selection=["first", "boom"]),
        dg.define_asset_job("quick_job", selection=["quick", "sleepy_after_quick"], run_retry_policy=once),
    ],
)
"""


WORKER = {"host": "elsewhere", "pid": 1}


class RecordingNotifier:
    """Stands in for the notification dispatcher: keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def notify(self, notification) -> list[str]:
        self.sent.append((notification.event, notification.run_id))
        return []


class Env:
    def __init__(self, instance, loaded) -> None:
        self.instance = instance
        self.loaded = loaded
        self.ctx = DaemonContext(instance, loaded.definitions, loaded.location)
        self.factory = RunFactory(loaded.definitions, loaded.location, instance)
        self.notifier = RecordingNotifier()
        self.monitor = RunMonitor(self.ctx, None, self.notifier)

    def queue(self, job: str, key: str = "k"):
        job_def = next(j for j in self.loaded.definitions.jobs if j.name == job)
        run = self.factory.for_assets(sorted(job_def.node_ids), key=key, job_name=job)
        self.instance.store.create_runs([run])
        return run

    def retries_of(self, run_id: str) -> list:
        return [r for r in self.instance.get_runs() if r.root_run_id == run_id]


@pytest.fixture
def env(make_instance, write_code):
    instance = make_instance({"run_monitoring": {"heartbeat_timeout_seconds": 5}})
    return Env(instance, write_code(CODE))


def _wait_until(condition, timeout: float = 120.0) -> None:  # catches a hang only
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def _first_done(instance, run_id: str):
    """Events are stored at node transitions: once ``first`` succeeded, ``sleepy`` is running."""

    def check() -> bool:
        return instance.store.get_node_outcomes(run_id).get("first") == NodeStatus.SUCCESS

    return check


# ============================================================================================
# dead runs
# ============================================================================================


def test_a_run_without_heartbeat_past_the_timeout_is_failed(env):
    run = env.queue("plain_job")
    start = time.time()
    env.monitor.tick(start)
    assert env.instance.store.run_queue.claim([run.run_id], start) == [run.run_id]
    assert env.instance.store.run_queue.take(run.run_id, start, WORKER)  # its worker started
    env.monitor.tick(start + 4)
    assert env.instance.get_run(run.run_id).status == RunStatus.STARTING
    env.monitor.tick(start + 6)
    failed = env.instance.get_run(run.run_id)
    assert failed.status == RunStatus.FAILURE
    end = env.instance.get_events(run.run_id)[-1]
    assert end.event_type == EventType.RUN_FAILURE
    assert end.message == "no heartbeat from the run's process for 5 s: it is presumed dead"


def test_a_run_launched_but_never_taken_by_a_worker_is_queued_again(env):
    """The daemon died between claiming the run and handing it to a worker: nothing of it ran."""
    run = env.queue("plain_job")
    start = time.time()
    env.monitor.tick(start)
    env.instance.store.run_queue.claim([run.run_id], start)
    env.monitor.tick(start + 6)
    assert env.instance.get_run(run.run_id).status == RunStatus.QUEUED
    assert env.instance.get_events(run.run_id) == []


def test_a_beating_run_is_left_alone(env):
    run = env.queue("plain_job")
    start = time.time()
    env.instance.store.run_queue.claim([run.run_id], start)
    env.instance.store.run_queue.beat({run.run_id: None}, start + 4)
    env.monitor.tick(start + 8)
    assert env.instance.get_run(run.run_id).status == RunStatus.STARTING


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_killed_worker_launched_by_this_daemon_is_failed_and_retried_from_failure(env):
    run = env.queue("sleepy_job")
    launcher = ProcessLauncher(env.instance)
    queue = RunQueue(env.ctx, launcher)
    monitor = RunMonitor(env.ctx, queue.ended, env.notifier)
    monitor.tick(time.time())
    assert queue.tick(time.time()) == [run.run_id]
    proc = launcher._procs[run.run_id]
    try:
        _wait_until(_first_done(env.instance, run.run_id))
        time.sleep(0.1)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    queue.tick(time.time())  # polls the launcher: the process ended
    monitor.tick(time.time())
    failed = env.instance.get_run(run.run_id)
    assert failed.status == RunStatus.FAILURE
    end = env.instance.get_events(run.run_id)[-1]
    assert (
        end.message
        == f"the process running this run exited (exit code {-signal.SIGKILL}) before the run ended"
    )
    outcomes = env.instance.store.get_node_outcomes(run.run_id)
    assert outcomes["first"] == NodeStatus.SUCCESS and outcomes.get("sleepy") != NodeStatus.SUCCESS
    monitor.tick(time.time())
    monitor.tick(time.time())
    (retry,) = env.retries_of(run.run_id)
    assert (retry.status, retry.parent_run_id, retry.root_run_id) == (
        RunStatus.QUEUED,
        run.run_id,
        run.run_id,
    )
    assert retry.selection == ["sleepy"] and retry.job_name == "sleepy_job"
    assert retry.tags["deras/retry_number"] == "1"
    assert ("run_failure", run.run_id) in env.notifier.sent


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_killed_worker_of_another_daemon_on_this_host_is_failed_at_once(env):
    """No launcher of this daemon saw it exit, and its heartbeat is recent: its pid tells."""
    run = env.queue("sleepy_job")
    env.monitor.tick(time.time())
    proc = subprocess.Popen(
        [sys.executable, "-m", "deras", "run-worker", run.run_id],
        env=worker_env(env.instance),
        stdin=subprocess.DEVNULL,
    )
    try:
        _wait_until(_first_done(env.instance, run.run_id))
        time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    env.monitor.tick(time.time())
    assert env.instance.get_run(run.run_id).status == RunStatus.FAILURE
    end = env.instance.get_events(run.run_id)[-1]
    assert end.message == (
        f"the process that ran this run (pid {proc.pid} on {socket.gethostname()}) is gone: "
        "it was killed or crashed before the run ended"
    )
    env.monitor.tick(time.time() + 1)
    (retry,) = env.retries_of(run.run_id)
    assert retry.selection == ["sleepy"]


def test_a_dead_run_found_on_the_monitors_first_pass_is_still_retried(env):
    """A run whose worker died while no daemon was up is failed by the first pass, and that
    failure is not "history": its retry policy applies."""
    run = env.queue("sleepy_job")
    start = time.time()
    env.instance.store.run_queue.claim([run.run_id], start - 60)
    assert env.instance.store.run_queue.take(run.run_id, start - 60, WORKER)
    env.monitor.tick(start)
    assert env.instance.get_run(run.run_id).status == RunStatus.FAILURE
    env.monitor.tick(start + 1)
    assert len(env.retries_of(run.run_id)) == 1


# ============================================================================================
# retries
# ============================================================================================


def _execute(env, run_id: str) -> RunStatus:
    return execute_stored_run(env.instance, run_id)


def test_a_failed_run_is_retried_once_with_only_its_failed_nodes(env):
    run = env.queue("boom_job")
    env.monitor.tick(time.time())
    assert _execute(env, run.run_id) == RunStatus.FAILURE
    for _ in range(3):
        env.monitor.tick(time.time())
    (retry,) = env.retries_of(run.run_id)
    assert retry.selection == ["boom"]
    assert (retry.parent_run_id, retry.root_run_id, retry.status) == (
        run.run_id,
        run.run_id,
        RunStatus.QUEUED,
    )
    assert retry.tags["deras/parent_run_id"] == run.run_id


def test_retries_stop_when_exhausted(env):
    run = env.queue("boom_job")
    env.monitor.tick(time.time())
    assert _execute(env, run.run_id) == RunStatus.FAILURE
    env.monitor.tick(time.time())
    (retry,) = env.retries_of(run.run_id)
    assert _execute(env, retry.run_id) == RunStatus.FAILURE
    for _ in range(3):
        env.monitor.tick(time.time())
    assert [r.run_id for r in env.retries_of(run.run_id)] == [retry.run_id]
    assert ("run_retry_exhausted", retry.run_id) in env.notifier.sent
    assert env.notifier.sent.count(("run_failure", retry.run_id)) == 1


def test_a_retry_of_a_retry_keeps_the_root_and_counts(env):
    run = env.queue("whole_job")
    env.monitor.tick(time.time())
    assert _execute(env, run.run_id) == RunStatus.FAILURE
    env.monitor.tick(time.time())
    (first_retry,) = env.retries_of(run.run_id)
    assert first_retry.selection == ["first", "boom"]  # from_failure=False: the whole job again
    assert _execute(env, first_retry.run_id) == RunStatus.FAILURE
    env.monitor.tick(time.time())
    retries = sorted(env.retries_of(run.run_id), key=lambda r: r.tags["deras/retry_number"])
    assert [r.tags["deras/retry_number"] for r in retries] == ["1", "2"]
    assert retries[1].parent_run_id == first_retry.run_id and retries[1].root_run_id == run.run_id
    assert _execute(env, retries[1].run_id) == RunStatus.FAILURE
    env.monitor.tick(time.time())
    assert len(env.retries_of(run.run_id)) == 2


def test_a_job_without_a_policy_is_not_retried_unless_deras_yaml_says(env, make_instance):
    run = env.queue("plain_job")
    env.monitor.tick(time.time())
    assert _execute(env, run.run_id) == RunStatus.FAILURE
    env.monitor.tick(time.time())
    assert env.retries_of(run.run_id) == []
    instance = make_instance({"run_retries": {"max_retries": 1}})
    other = Env(instance, env.loaded)
    second = other.queue("plain_job", key="second")
    other.monitor.tick(time.time())
    assert _execute(other, second.run_id) == RunStatus.FAILURE
    other.monitor.tick(time.time())
    assert len(other.retries_of(second.run_id)) == 1


def test_a_failed_run_started_in_someones_process_is_not_retried(env, make_instance):
    """`deras dags trigger` and dg.materialize record no code location a worker could load."""
    instance = make_instance({"run_retries": {"max_retries": 1}})
    other = Env(instance, env.loaded)
    other.monitor.tick(time.time())
    import deras as dg

    @dg.asset
    def fails() -> None:
        raise ValueError("no")

    result = dg.materialize([fails], instance=instance, raise_on_error=False)
    assert not result.success
    other.monitor.tick(time.time())
    assert other.retries_of(result.run_id) == []


def test_history_before_the_monitor_first_ran_is_not_retried(env):
    run = env.queue("boom_job")
    assert _execute(env, run.run_id) == RunStatus.FAILURE
    env.monitor.tick(time.time())
    env.monitor.tick(time.time())
    assert env.retries_of(run.run_id) == []
    assert env.notifier.sent == []


def test_two_monitors_create_one_retry(env, make_instance):
    run = env.queue("boom_job")
    other = RunMonitor(DaemonContext(make_instance(), env.loaded.definitions, env.loaded.location))
    env.monitor.tick(time.time())
    assert _execute(env, run.run_id) == RunStatus.FAILURE
    other.tick(time.time())
    env.monitor.tick(time.time())
    other.tick(time.time())
    assert len(env.retries_of(run.run_id)) == 1


def test_a_retry_waits_for_the_policy_delay(env):
    run = env.queue("delayed_job")
    env.monitor.tick(time.time())
    assert _execute(env, run.run_id) == RunStatus.FAILURE
    ended = env.instance.get_run(run.run_id).end_time
    env.monitor.tick(ended + 1)
    env.monitor.tick(ended + 30)
    assert env.retries_of(run.run_id) == []
    env.monitor.tick(ended + 61)
    env.monitor.tick(ended + 62)
    assert len(env.retries_of(run.run_id)) == 1


def test_a_failed_dag_run_is_retried_whole(env):
    dag = env.loaded.definitions.dags[0]
    run = env.factory.for_dag(dag, logical_date=None, run_type="manual", key="dag")
    env.instance.store.create_runs([run])
    env.monitor.tick(time.time())
    assert _execute(env, run.run_id) == RunStatus.FAILURE
    env.monitor.tick(time.time())
    (retry,) = env.retries_of(run.run_id)
    assert retry.tags["deras/dag_id"] == "flaky_dag" and retry.selection == run.selection
    assert retry.tags["deras/logical_date"] == run.tags["deras/logical_date"]
    assert _execute(env, retry.run_id) == RunStatus.FAILURE  # the task fails again, as a DAG run
    assert [a.node for a in env.instance.get_attempts(retry.run_id)] == ["flaky_dag.fails"]


def test_a_successful_run_is_notified_and_not_retried(env):
    run = env.queue("plain_job")
    env.monitor.tick(time.time())
    first_only = env.factory.for_assets(["first"], key="ok", job_name="boom_job")
    env.instance.store.create_runs([first_only])
    assert _execute(env, first_only.run_id) == RunStatus.SUCCESS
    env.monitor.tick(time.time())
    assert env.notifier.sent == [("run_success", first_only.run_id)]
    assert (
        env.retries_of(first_only.run_id) == []
        and env.instance.get_run(run.run_id).status == RunStatus.QUEUED
    )


def test_a_run_stored_after_a_later_one_is_still_handled(env):
    """A worker stamps its run's end before committing it: runs can land out of order."""
    from deras._core.events import EventRecord

    late = env.queue("boom_job", key="late")
    env.monitor.tick(time.time() - 10)  # its first pass, well before either run ended
    ok = env.factory.for_assets(["first"], key="ok", job_name="plain_job")
    env.instance.store.create_runs([ok])
    assert _execute(env, ok.run_id) == RunStatus.SUCCESS
    ended = env.instance.get_run(ok.run_id).end_time
    env.monitor.tick(ended + 0.5)  # the cursor moves past `ok`
    env.instance.store.run_queue.claim([late.run_id], ended - 2)
    env.instance.store.store_events(
        [
            EventRecord(late.run_id, EventType.RUN_START, timestamp=ended - 1.5),
            EventRecord(
                late.run_id, EventType.RUN_FAILURE, message="late", level="ERROR", timestamp=ended - 1
            ),
        ]
    )
    env.monitor.tick(ended + 1)
    env.monitor.tick(ended + 2)
    assert len(env.retries_of(late.run_id)) == 1
    assert env.notifier.sent == [("run_success", ok.run_id), ("run_failure", late.run_id)]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_nodes_done_before_a_long_node_are_stored_while_it_runs(env):
    run = env.queue("quick_job")
    proc = subprocess.Popen(
        [sys.executable, "-m", "deras", "run-worker", run.run_id],
        env=worker_env(env.instance),
        stdin=subprocess.DEVNULL,
    )
    try:
        _wait_until(
            lambda: env.instance.store.get_node_outcomes(run.run_id).get("quick") == NodeStatus.SUCCESS,
            timeout=50,  # the next node sleeps 60 s: seen before then, it was stored while that one ran
        )
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_canceled_run_whose_worker_died_ends_canceled_and_is_not_retried(env):
    run = env.queue("boom_job")
    start = time.time()
    env.monitor.tick(start)
    env.instance.store.run_queue.claim([run.run_id], start)
    assert env.instance.cancel_run(run.run_id) == RunStatus.CANCELING
    env.monitor.tick(start + 6)  # the worker never answered: its heartbeat is older than 5 s
    env.monitor.tick(start + 7)
    assert env.retries_of(run.run_id) == []
    assert env.instance.get_run(run.run_id).status == RunStatus.CANCELED
