"""Coordinating one run in this process: its owner and heartbeat, events, the loop, the verdict.

The process that coordinates a run records it (start, end, verdict) and drives its run loop;
the steps themselves may execute here or elsewhere, as its executor decides.
"""

from __future__ import annotations

import time
import traceback
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from .._core.events import EventType
from .._core.records import RunRecord
from .._core.status import NodeStatus, RunStatus
from .._plan.plan import RunPlan
from .event_writer import EventWriter
from .executor import Executor, RunSetup
from .in_process import InProcessExecutor
from .ports import InstanceLike
from .process_heartbeat import heartbeat_interval, process_heartbeat
from .run_control import CancelableRunControl, RunControl, StoredRunControl
from .run_loop import RunLoop
from .run_owner import this_process
from .run_progress import RunProgress
from .step_scope import StepScope, open_scope

_END_EVENT = {
    RunStatus.SUCCESS: EventType.RUN_SUCCESS,
    RunStatus.FAILURE: EventType.RUN_FAILURE,
    RunStatus.CANCELED: EventType.RUN_CANCELED,
}
_NO_CONTROL = RunControl()


@dataclass(slots=True)
class RunExecution:
    """A run this process coordinated: its record, plan, how each node ended, and its scope."""

    run: RunRecord
    plan: RunPlan
    progress: RunProgress
    scope: StepScope


@dataclass(slots=True)
class Resume:
    """What a cleared DAG run keeps: the outcomes of nodes not cleared, and attempt numbers."""

    outcomes: dict[str, NodeStatus]
    first_attempts: dict[str, int]
    map_counts: dict[str, int]


def coordinate(
    run: RunRecord,
    plan: RunPlan,
    instance: InstanceLike,
    resources: dict[str, Any],
    *,
    executor: Executor | None = None,
    echo_output: bool = False,
    on_node_done: Any = None,
    writer: EventWriter | None = None,
    dag_run: Any = None,
    resume: Resume | None = None,
    control: RunControl | None = None,
    stored: bool = False,
) -> RunExecution:
    """Record ``run`` and execute its plan; returns how it went.

    With a shared ``writer`` (consecutive runs of one process) the run's events may still
    be queued on return: whoever owns the writer closes it. ``stored`` says the run record
    exists already (a queued run a worker picked up); ``control`` tells of cancel requests
    and hands out pool slots.

    A run of a stored instance is owned by this process: the owner goes into the run's
    first insert (a cleared run, already stored, is stamped with it first), and the
    process's heartbeat stamps the run while it executes and relays cancel requests.
    """
    executor = executor or InProcessExecutor()
    if getattr(executor, "needs_shared_storage", False):
        instance.use_temporary_storage()  # nothing to do for a stored instance
    beating: AbstractContextManager[None] = nullcontext()
    if not instance.is_ephemeral:
        control = control or _control(instance, run.run_id)
        if resume is not None:
            instance.store.run_queue.beat({run.run_id: this_process()}, time.time())
        elif not stored:
            run.worker, run.heartbeat = this_process(), time.time()
        interval = heartbeat_interval(instance)
        beating = process_heartbeat().beating(instance.store, run.run_id, control, interval)
    with beating:
        return _coordinate(
            run, plan, instance, resources, executor, echo_output, on_node_done,
            writer, dag_run, resume, control or _NO_CONTROL, stored,
        )  # fmt: skip


def _control(instance: InstanceLike, run_id: str) -> RunControl:
    """A run of a stored instance hears cancels; with pools configured, its nodes take slots."""
    pools = instance.settings.config.get("pools") if instance.settings is not None else None
    if not pools:
        return CancelableRunControl()
    return StoredRunControl(instance.store, run_id, instance.daemon_settings.pools)  # validated


def _coordinate(
    run: RunRecord,
    plan: RunPlan,
    instance: InstanceLike,
    resources: dict[str, Any],
    executor: Executor,
    echo_output: bool,
    on_node_done: Any,
    writer: EventWriter | None,
    dag_run: Any,
    resume: Resume | None,
    control: RunControl,
    stored: bool,
) -> RunExecution:
    owns_writer = writer is None
    events = writer or EventWriter(instance.store, background=not instance.is_ephemeral)
    events.log_dir = instance.home / "logs" if instance.home is not None else None
    if resume is None and not stored:
        events.begin_run(run)
    scope = open_scope(
        run,
        plan.graph,
        instance,
        resources,
        events,
        partition_keys=plan.partition_keys,
        dag_run=dag_run,
        echo_output=echo_output,
    )
    progress = RunProgress(
        plan.graph,
        plan.node_ids,
        known=resume.outcomes if resume else None,
        first_attempts=resume.first_attempts if resume else None,
        map_counts=resume.map_counts if resume else None,
    )
    run.start_time = time.time()
    events.add(run.run_id, EventType.RUN_START, message=f"run {run.run_id} started")
    loop = RunLoop(
        RunSetup(scope, resources, run.code_location),
        progress,
        executor,
        control,
        dag_timeout=getattr(dag_run, "timeout", None),
        on_node_done=on_node_done,
    )
    try:
        loop.run()
    except BaseException as err:  # KeyboardInterrupt too: the run must not stay 'started'
        scope.log_handler.node = None
        events.add(
            run.run_id,
            EventType.RUN_FAILURE,
            message=f"run interrupted: {err!r}",
            level="ERROR",
            data={"error": repr(err), "traceback": traceback.format_exc()},
        )
        scope.close()
        events.close()  # stores this run's end even when the writer is shared
        raise
    scope.log_handler.node = None
    scope.close()
    run_status, message, run_data = verdict(progress)
    if run_status == RunStatus.SUCCESS and control.canceled():
        run_status, message = RunStatus.CANCELED, "run canceled"
    events.add(
        run.run_id,
        _END_EVENT[run_status],
        message=message,
        level="ERROR" if run_status == RunStatus.FAILURE else None,
        data=run_data,
    )
    run.status = run_status
    if owns_writer:
        events.close()
    else:
        events.transition()
    run.end_time = time.time()
    return RunExecution(run, plan, progress, scope)


def verdict(progress: RunProgress) -> tuple[RunStatus, str, dict[str, Any]]:
    """A run fails when a node failed, or when its DAG run timed out."""
    # upstream_failed counts too: after clearing only some tasks, one may be left behind.
    failed = progress.failed_nodes()
    if failed:
        return RunStatus.FAILURE, f"run failed: {', '.join(failed[:5])} failed", {"failed": failed}
    timed_out = progress.timed_out_nodes()
    if timed_out:
        return (
            RunStatus.FAILURE,
            f"run failed: {progress.causes[timed_out[0]].message}",
            {"timed_out": timed_out},
        )
    return RunStatus.SUCCESS, "run succeeded", {}
