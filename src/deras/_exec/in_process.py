"""The in-process executor: runs a plan's nodes one after another in this process."""

from __future__ import annotations

import time
import traceback
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from .._core.events import EventType
from .._core.records import RunRecord
from .._core.status import NodeStatus, RunStatus
from .._core.task_state import TaskInstanceState
from .._graph.node import Node, NodeKind
from .._plan.plan import RunPlan
from .capture import AttemptLogHandler, capture_output, run_logger
from .event_writer import EventWriter
from .fd_capture import RunFds
from .process_heartbeat import heartbeat_interval, process_heartbeat
from .run_control import CancelableRunControl, RunControl
from .run_owner import this_process
from .run_resources import RunResources
from .run_state import RunState
from .step import run_node
from .trigger_rules import Decision, TriggerRule, decide, parse_trigger_rule

_TI_STATE = {
    NodeStatus.SUCCESS: TaskInstanceState.SUCCESS,
    NodeStatus.FAILED: TaskInstanceState.FAILED,
    NodeStatus.SKIPPED: TaskInstanceState.SKIPPED,
    NodeStatus.UPSTREAM_FAILED: TaskInstanceState.UPSTREAM_FAILED,
    NodeStatus.RUNNING: TaskInstanceState.RUNNING,
    NodeStatus.UP_FOR_RETRY: TaskInstanceState.UP_FOR_RETRY,
    NodeStatus.PENDING: TaskInstanceState.SCHEDULED,
}
_RULES = {str(rule): rule for rule in TriggerRule}
_END_EVENT = {
    RunStatus.SUCCESS: EventType.RUN_SUCCESS,
    RunStatus.FAILURE: EventType.RUN_FAILURE,
    RunStatus.CANCELED: EventType.RUN_CANCELED,
}
_CANCELED = "run canceled"
_NO_CONTROL = RunControl()


class InProcessExecutor:
    """Execute every node in this process, in topological order (the default executor).

    >>> InProcessExecutor().name
    'in_process'
    """

    name = "in_process"

    def execute(
        self,
        run: RunRecord,
        plan: RunPlan,
        instance: Any,
        resources: dict[str, Any],
        *,
        echo_output: bool = False,
        on_node_done: Any = None,
        writer: EventWriter | None = None,
        dag_run: Any = None,
        resume: Any = None,
        control: RunControl | None = None,
        stored: bool = False,
    ) -> RunState:
        """Record ``run`` and execute its plan; returns the final state.

        With a shared ``writer`` (consecutive runs of one process) the run's events may still
        be queued on return: whoever owns the writer closes it. ``stored`` says the run record
        exists already (a queued run a worker picked up); ``control`` tells of cancel requests
        and hands out pool slots.

        A run of a stored instance is owned by this process: the owner goes into the run's
        first insert (a cleared run, already stored, is stamped with it first), and the
        process's heartbeat stamps the run while it executes and relays cancel requests.
        """
        beating: AbstractContextManager[None] = nullcontext()
        if not instance.is_ephemeral:
            control = control or CancelableRunControl()
            if resume is not None:
                instance.store.run_queue.beat({run.run_id: this_process()}, time.time())
            elif not stored:
                run.worker, run.heartbeat = this_process(), time.time()
            interval = heartbeat_interval(instance)
            beating = process_heartbeat().beating(instance.store, run.run_id, control, interval)
        with beating:
            return self._execute(
                run, plan, instance, resources, echo_output, on_node_done, writer, dag_run, resume,
                control or _NO_CONTROL, stored,
            )  # fmt: skip

    def _execute(
        self,
        run: RunRecord,
        plan: RunPlan,
        instance: Any,
        resources: dict[str, Any],
        echo_output: bool,
        on_node_done: Any,
        writer: EventWriter | None,
        dag_run: Any,
        resume: Any,
        control: RunControl,
        stored: bool,
    ) -> RunState:
        owns_writer = writer is None
        events = writer or EventWriter(instance.store, background=not instance.is_ephemeral)
        events.log_dir = instance.home / "logs" if instance.home is not None else None
        if resume is None and not stored:
            events.begin_run(run)
        handler = AttemptLogHandler(events, run.run_id)
        log = run_logger(handler)
        state = RunState(
            run=run,
            plan=plan,
            instance=instance,
            events=events,
            resources=RunResources(resources, instance.default_io_manager, events.secrets),
            log_handler=handler,
            log=log,
            echo_output=echo_output,
            run_fds=RunFds(),
            dag_run=dag_run,
        )
        if resume is not None:  # a cleared run: the other nodes' outcomes stand
            state.outcomes.update(resume.outcomes)
            state.first_attempts.update(resume.first_attempts)
            state.map_counts.update(resume.map_counts)
        run.start_time = time.time()
        events.add(run.run_id, EventType.RUN_START, message=f"run {run.run_id} started")
        graph = plan.graph
        try:
            for nid in plan.node_ids:
                node = graph.nodes[nid]
                verdict = (
                    self._timed_out(state) or self._canceled(state, control) or self._decide(state, node)
                )
                if verdict is not None:
                    status, reason = verdict
                    state.outcomes[nid] = status
                    state.skip_reasons[nid] = reason
                    state.move(nid, _TI_STATE[status])
                    data = {"reason": reason}
                    if status == NodeStatus.UPSTREAM_FAILED:
                        data["status"] = status.value
                    events.add(
                        run.run_id,
                        EventType.STEP_SKIPPED,
                        nid,
                        state.first_attempts.get(nid, 0),  # a cleared node's next try number
                        f"{status.value}: {reason}",
                        "WARNING",
                        data,
                    )
                    events.transition()
                else:
                    state.outcomes[nid] = self._run_node(state, node, control)
                    if state.outcomes[nid] == NodeStatus.FAILED and node.kind == NodeKind.CHECK:
                        assert node.check is not None
                        state.failed_checks[nid] = f"check {node.check.check_name} on {node.check.asset_key}"
                if on_node_done is not None:
                    on_node_done(nid, state.outcomes[nid])
        except BaseException as err:  # KeyboardInterrupt too: the run must not stay 'started'
            handler.node = None
            events.add(
                run.run_id,
                EventType.RUN_FAILURE,
                message=f"run interrupted: {err!r}",
                level="ERROR",
                data={"error": repr(err), "traceback": traceback.format_exc()},
            )
            self._teardown(state)
            events.close()  # stores this run's end even when the writer is shared
            raise
        handler.node = None
        self._teardown(state)
        events.write_files()  # inline: every value's file exists (or failed) before the verdict
        self._apply_storage_failures(state)
        run_status, message, run_data = self._verdict(state)
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
            self._apply_storage_failures(state)
        else:
            events.transition()
        run.end_time = time.time()
        return state

    @staticmethod
    def _teardown(state: RunState) -> None:
        """Tear the run's resources down (what teardown code prints is the run's output); the
        last capture of the run, so its copies of fds 1 and 2 are closed after it."""
        try:
            if not state.resources.has_teardown:
                state.resources.teardown(state.log)  # nothing to run: no capture to set up
                return
            with capture_output(state.events, state.run_id, None, None, state.echo_output, state.run_fds):
                state.resources.teardown(state.log)
        finally:
            if state.run_fds is not None:
                state.run_fds.close()

    @staticmethod
    def _verdict(state: RunState) -> tuple[RunStatus, str, dict[str, Any]]:
        """A run fails when a node failed, or when its DAG run timed out."""
        # upstream_failed counts too: after clearing only some tasks, one may be left behind.
        bad = (NodeStatus.FAILED, NodeStatus.UPSTREAM_FAILED)
        failed = [nid for nid, s in state.outcomes.items() if s in bad]
        if failed:
            return RunStatus.FAILURE, f"run failed: {', '.join(failed[:5])} failed", {"failed": failed}
        timed_out = [nid for nid, r in state.skip_reasons.items() if r.startswith("dagrun_timeout")]
        if timed_out:
            return (
                RunStatus.FAILURE,
                f"run failed: {state.skip_reasons[timed_out[0]]}",
                {"timed_out": timed_out},
            )
        return RunStatus.SUCCESS, "run succeeded", {}

    @staticmethod
    def _apply_storage_failures(state: RunState) -> None:
        """Nodes whose values could not be written failed, and so did the run (as stored)."""
        failed = state.events.failed_nodes(state.run_id)
        for nid in failed:
            state.outcomes[nid] = NodeStatus.FAILED
        if failed:
            state.run.status = RunStatus.FAILURE

    @staticmethod
    def _decide(state: RunState, node: Node) -> tuple[NodeStatus, str] | None:
        """None to run the node; else the status it ends with, and why.

        A failed blocking check upstream skips it ("blocked by ..."); a branch that did not
        choose it skips it; otherwise its trigger rule decides from the upstream outcomes.
        """
        graph = state.plan.graph
        ups = [u for u in graph.upstream[node.id] if u in state.outcomes]
        for up in ups:
            if up in state.failed_checks:
                return NodeStatus.SKIPPED, f"blocked by {state.failed_checks[up]}"
            inherited = state.skip_reasons.get(up, "")
            if state.outcomes[up] == NodeStatus.SKIPPED and inherited.startswith("blocked by"):
                return NodeStatus.SKIPPED, inherited
            chosen = state.branch_follow.get(up)
            if chosen is not None and node.kind == NodeKind.TASK and node.definition.task_id not in chosen:
                return NodeStatus.SKIPPED, f"not chosen by branch {graph.nodes[up].definition.task_id}"
        rule = _RULES.get(node.trigger_rule) or parse_trigger_rule(node.trigger_rule)
        decision = decide(rule, [_TI_STATE[state.outcomes[u]] for u in ups])
        if decision == Decision.RUN:
            return None
        if decision == Decision.UPSTREAM_FAILED:
            failed = next(
                u for u in ups if state.outcomes[u] in (NodeStatus.FAILED, NodeStatus.UPSTREAM_FAILED)
            )
            return NodeStatus.UPSTREAM_FAILED, f"upstream {failed} failed"
        if decision == Decision.SKIP:
            culprit = next((u for u in ups if state.outcomes[u] != NodeStatus.SUCCESS), ups[0] if ups else "")
            return (
                NodeStatus.SKIPPED,
                f"trigger rule {node.trigger_rule}: upstream {culprit} is {state.outcomes[culprit]}",
            )
        raise AssertionError(f"{node.id}: its upstream finished, yet its trigger rule says {decision}")

    @staticmethod
    def _run_node(state: RunState, node: Node, control: RunControl) -> NodeStatus:
        """Run ``node``, holding a slot of its pool while it runs; skipped if canceled waiting."""
        control.starting(node.id)
        if node.pool is None:
            return run_node(state, node)
        if not control.acquire(node.pool, node.id):
            state.skip_reasons[node.id] = _CANCELED
            state.move(node.id, TaskInstanceState.SKIPPED)
            attempt = state.first_attempts.get(node.id, 0)
            data = {"reason": _CANCELED}
            state.events.add(
                state.run_id,
                EventType.STEP_SKIPPED,
                node.id,
                attempt,
                f"skipped: {_CANCELED}",
                "WARNING",
                data,
            )
            return NodeStatus.SKIPPED
        try:
            return run_node(state, node)
        finally:
            control.release(node.pool, node.id)

    @staticmethod
    def _canceled(state: RunState, control: RunControl) -> tuple[NodeStatus, str] | None:
        return (NodeStatus.SKIPPED, _CANCELED) if control.canceled() else None

    @staticmethod
    def _timed_out(state: RunState) -> tuple[NodeStatus, str] | None:
        timeout = getattr(state.dag_run, "timeout", None)
        if timeout is not None and time.time() - (state.run.start_time or time.time()) > timeout:
            return NodeStatus.SKIPPED, f"dagrun_timeout of {timeout:g} s passed"
        return None
