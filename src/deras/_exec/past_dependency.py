"""``depends_on_past`` and ``wait_for_downstream``: a task instance waits on the previous DAG run.

As in Airflow, a task with ``depends_on_past=True`` starts only once the same task in the
previous DAG run (the latest run of the DAG with an earlier logical date) succeeded or was
skipped; with ``wait_for_downstream=True`` its direct downstream tasks there must have too.
Without a previous run, or when the task did not exist in a finished previous run, it starts.
A failed previous instance makes it wait until that instance is cleared and succeeds (or the
run times out or is canceled). The run loop asks :meth:`PastDependency.met` for each step it
may start; the answer is read from the store at most once a second per task.
"""

from __future__ import annotations

import time
from typing import Any

from .._core.events import EventType
from .._core.records import RunRecord
from .._core.status import NodeStatus
from .._graph.node import Node, NodeKind
from .step_scope import StepScope

CHECK_SECONDS = 1.0  # how often a waiting task reads the previous run's state again
_DONE_OK = (NodeStatus.SUCCESS, NodeStatus.SKIPPED)
_NOT_LOOKED_UP: Any = object()


class PastDependency:
    """Whether the tasks of one run may start, as far as the previous DAG run is concerned."""

    def __init__(self, scope: StepScope) -> None:
        self.scope = scope
        self._previous: RunRecord | None = _NOT_LOOKED_UP
        self._met: set[str] = set()
        self._next_check: dict[str, float] = {}
        self._told: set[str] = set()

    def met(self, node: Node) -> bool:
        if node.kind != NodeKind.TASK or not getattr(node.definition, "depends_on_past", False):
            return True
        if node.id in self._met:
            return True
        now = time.monotonic()
        if now < self._next_check.get(node.id, 0.0):
            return False
        self._next_check[node.id] = now + CHECK_SECONDS
        previous = self._previous_run()
        waiting_on = None if previous is None else self._unfinished(previous, node.definition)
        if waiting_on is None:
            self._met.add(node.id)
            return True
        if node.id not in self._told:  # say once why the task does not start
            self._told.add(node.id)
            assert previous is not None and previous.logical_date is not None
            self.scope.events.add(
                self.scope.run_id,
                EventType.LOG,
                node.id,
                None,
                f"depends_on_past: waiting for task {waiting_on[0]} of the previous DAG run "
                f"{previous.run_id} ({previous.logical_date.isoformat()}) to succeed or be skipped; "
                f"it is {waiting_on[1]}",
                "INFO",
            )
            self.scope.events.transition()
        return False

    def _previous_run(self) -> RunRecord | None:
        """The latest run of this DAG with an earlier logical date (looked up once)."""
        if self._previous is not _NOT_LOOKED_UP:
            return self._previous
        run = self.scope.run
        self._previous = None
        before: str | None = None
        while run.logical_date is not None:
            page = self.scope.instance.store.get_runs(dag_id=run.dag_id, limit=100, before=before)
            for other in page:  # latest logical date first
                if other.logical_date is not None and other.logical_date < run.logical_date:
                    self._previous = other
                    return other
            if len(page) < 100:
                break
            before = page[-1].run_id
        return None

    def _unfinished(self, previous: RunRecord, task: Any) -> tuple[str, str] | None:
        """The first task (and its state) the previous run has not ended well, or None."""
        instance = self.scope.instance
        finished = (instance.get_run(previous.run_id) or previous).status.is_finished
        latest: dict[str, NodeStatus] = {}
        for attempt in instance.get_attempts(previous.run_id):
            latest[attempt.node] = attempt.status  # in order: the last attempt wins
        dag_id = task.dag.dag_id
        wanted = [task.task_id]
        if getattr(task, "wait_for_downstream", False):
            wanted += sorted(task.downstream_task_ids)
        for task_id in wanted:
            node = f"{dag_id}.{task_id}"
            states = [s for name, s in latest.items() if name == node or name.startswith(f"{node}[")]
            if not states:
                if not finished:  # the previous run has not reached it yet
                    return task_id, "not started"
                continue  # it did not exist then: nothing to wait for, as in Airflow
            bad = next((s for s in states if s not in _DONE_OK), None)
            if bad is not None:
                return task_id, bad.value
        return None
