"""The in-process executor: runs a plan's nodes one after another in this process."""

from __future__ import annotations

import time
import traceback
from typing import Any

from .._core.events import EventType
from .._core.records import RunRecord
from .._core.status import NodeStatus, RunStatus
from .._graph.node import Node, NodeKind
from .._plan.plan import RunPlan
from .capture import AttemptLogHandler, run_logger
from .event_writer import EventWriter
from .run_resources import RunResources
from .run_state import RunState
from .step import run_node

_BAD_UPSTREAM = (NodeStatus.FAILED, NodeStatus.UPSTREAM_FAILED, NodeStatus.SKIPPED)


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
    ) -> RunState:
        """Record ``run`` and execute its plan; returns the final state.

        With a shared ``writer`` (consecutive runs of one process) the run's events may still
        be queued on return: whoever owns the writer closes it.
        """
        owns_writer = writer is None
        events = writer or EventWriter(instance.store, background=not instance.is_ephemeral)
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
        )
        events.add(run.run_id, EventType.RUN_START, message=f"run {run.run_id} started")
        graph = plan.graph
        try:
            for nid in plan.node_ids:
                node = graph.nodes[nid]
                reason = self._skip_reason(state, node)
                if reason is not None:
                    state.outcomes[nid] = NodeStatus.SKIPPED
                    state.skip_reasons[nid] = reason
                    events.add(
                        run.run_id,
                        EventType.STEP_SKIPPED,
                        nid,
                        0,
                        f"skipped: {reason}",
                        "WARNING",
                        {"reason": reason},
                    )
                    events.transition()
                else:
                    state.outcomes[nid] = run_node(state, node)
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
            state.resources.teardown(log)
            events.close()  # stores this run's end even when the writer is shared
            raise
        handler.node = None
        state.resources.teardown(log)
        events.write_files()  # inline: every value's file exists (or failed) before the verdict
        self._apply_storage_failures(state)
        failed = [nid for nid, s in state.outcomes.items() if s == NodeStatus.FAILED]
        if failed:
            events.add(
                run.run_id,
                EventType.RUN_FAILURE,
                message=f"run failed: {', '.join(failed[:5])} failed",
                level="ERROR",
                data={"failed": failed},
            )
            run.status = RunStatus.FAILURE
        else:
            events.add(run.run_id, EventType.RUN_SUCCESS, message="run succeeded")
            run.status = RunStatus.SUCCESS
        if owns_writer:
            events.close()
            self._apply_storage_failures(state)
        else:
            events.transition()
        run.end_time = time.time()
        return state

    @staticmethod
    def _apply_storage_failures(state: RunState) -> None:
        """Nodes whose values could not be written failed, and so did the run (as stored)."""
        failed = state.events.failed_nodes(state.run_id)
        for nid in failed:
            state.outcomes[nid] = NodeStatus.FAILED
        if failed:
            state.run.status = RunStatus.FAILURE

    @staticmethod
    def _skip_reason(state: RunState, node: Node) -> str | None:
        graph = state.plan.graph
        for up in graph.upstream[node.id]:
            status = state.outcomes.get(up)
            if status is None or status not in _BAD_UPSTREAM:
                continue
            if up in state.failed_checks and graph.nodes[up].check is not None:
                return f"blocked by {state.failed_checks[up]}"
            if status == NodeStatus.SKIPPED:
                inherited = state.skip_reasons.get(up, "")
                return inherited if inherited.startswith("blocked by") else f"upstream {up} was skipped"
            return f"upstream {up} failed"
        return None
