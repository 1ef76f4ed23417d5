"""The run loop: decide what is ready, submit it, learn how it ended, record, repeat.

One loop drives every run, whatever executes its steps. It pops ready nodes in plan order
(``RunProgress``), decides whether each runs (blocking checks, branches, trigger rules, a
canceled run, a DAG run past its timeout), turns those that run into step specs (one per
instance of a mapped task), submits them while the executor has room and the node's pool has a
slot, and waits on the executor for outcomes. Retries are new specs submitted when their delay
has passed; other ready steps go on meanwhile. The loop never busy-polls: it waits on the
executor until an outcome arrives, a retry is due, or (only while a step waits for a pool
slot) the slot poll interval passes.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .._core.events import EventType
from .._core.status import NodeStatus
from .._core.task_state import TaskInstanceState as TI
from .._graph.node import Node, NodeKind
from .executor import Executor, RunSetup, StepExecutor
from .past_dependency import PastDependency
from .run_control import RunControl
from .run_progress import TI_STATE, RunProgress
from .step import record_expansion_failure, record_lost_attempt
from .step_scope import StepScope
from .step_types import SkipCause, SkipKind, StepOutcome, StepSpec
from .tag_limits import TagLimits

SLOT_POLL_SECONDS = 0.1  # how often a step waiting for a pool slot asks again
MAX_REDISPATCHES = 3  # a step whose worker was lost runs again, this many times at most


class RunLoop:
    """Executes ``progress``'s nodes with ``executor``, recording through ``scope``.

    ``dag_timeout`` (seconds since the run started) skips what has not started once passed;
    ``on_node_done(node_id, status)`` is told of every node that ends, in the order they end.
    """

    def __init__(
        self,
        setup: RunSetup,
        progress: RunProgress,
        executor: Executor,
        control: RunControl,
        *,
        dag_timeout: float | None = None,
        on_node_done: Callable[[str, NodeStatus], None] | None = None,
    ) -> None:
        self.setup = setup
        self.scope: StepScope = setup.scope
        self.progress = progress
        self.executor = executor
        self.control = control
        self.dag_timeout = dag_timeout
        self.on_node_done = on_node_done
        self._queue: deque[StepSpec] = deque()  # specs ready to submit, in order
        self._retries: list[tuple[float, int, StepSpec]] = []  # (due, seq, spec)
        self._seq = itertools.count()
        self._running: dict[str, StepSpec] = {}
        self._slots: dict[str, str] = {}  # step name -> pool it holds a slot of
        self._redispatched: Counter[str] = Counter()  # step name -> runs lost with their worker
        self._instances: dict[str, list[NodeStatus | None]] = {}  # mapped node -> instance outcomes
        self._tag_limits = TagLimits.parse(getattr(executor, "tag_concurrency_limits", None) or [])
        self._past = PastDependency(self.scope)

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        steps = self.executor.start(self.setup)
        try:
            while not self.progress.finished:
                self._fill(steps)
                if self.progress.finished:
                    break
                for outcome in steps.poll(self._wait_seconds()):
                    self._on_outcome(outcome)
        finally:
            steps.shutdown()
            for name in list(self._slots):
                self._release(name)

    def _fill(self, steps: StepExecutor) -> None:
        """Submit what can start now, deciding ready nodes only while there is room."""
        now = time.monotonic()
        stopped = (self._queue or self._retries) and self._stop_cause() is not None
        while self._retries and (stopped or self._retries[0][0] <= now):
            self._queue.appendleft(heapq.heappop(self._retries)[2])  # retries go first
        if stopped:
            self._drop_queue()
        while steps.has_room():
            spec = self._next_submittable()
            if spec is None:
                return
            self._submit(steps, spec)

    def _next_submittable(self) -> StepSpec | None:
        for i, spec in enumerate(self._queue):
            if self._take_slot(spec):
                del self._queue[i]
                return spec
        while self.progress.has_ready():
            queued = len(self._queue)
            self._start_node(self.progress.pop_ready())
            for spec in list(itertools.islice(self._queue, queued, None)):
                if self._take_slot(spec):
                    self._queue.remove(spec)
                    return spec
        return None

    def _wait_seconds(self) -> float | None:
        waits = []
        if self._retries:
            waits.append(max(0.0, self._retries[0][0] - time.monotonic()))
        if self._queue:
            waits.append(SLOT_POLL_SECONDS)
        if not waits:
            if not self._running:
                raise AssertionError(f"run {self.scope.run_id}: nothing running, ready or waiting")
            return None
        return min(waits)

    # -- starting nodes -------------------------------------------------------------------
    def _start_node(self, node_id: str) -> None:
        node = self.scope.graph.nodes[node_id]
        cause = self._stop_cause() or self.progress.decide(node_id)
        if cause is not None:
            self._skip(node_id, cause)
            return
        if node.kind == NodeKind.TASK and node.definition.is_mapped:
            self._expand(node)
            return
        self._enqueue(self._spec(node, -1))

    def _expand(self, node: Node) -> None:
        from .taskflow_args import expansion

        attempt = self.progress.first_attempts.get(node.id, 0)  # a cleared run records its next try
        try:
            lists = expansion(self.scope, self._spec(node, -1), node.definition)
        except Exception as err:
            record_expansion_failure(self.scope, node.id, attempt, err)
            self._finish(node.id, NodeStatus.FAILED)
            return
        count = len(next(iter(lists.values()))) if lists else 0
        self.progress.map_counts[node.id] = count
        if count == 0:
            cause = SkipCause(SkipKind.EMPTY_MAP)
            self.scope.events.add(
                self.scope.run_id,
                EventType.STEP_SKIPPED,
                node.id,
                attempt,
                f"skipped: {cause.message}",
                "INFO",
                {"reason": cause.message},
            )
            self._finish(node.id, NodeStatus.SKIPPED, cause=cause)
            return
        self._instances[node.id] = [None] * count
        for i in range(count):
            self._enqueue(self._spec(node, i))

    def _spec(self, node: Node, map_index: int) -> StepSpec:
        name = node.id if map_index < 0 else f"{node.id}[{map_index}]"
        progress = self.progress
        is_task = node.kind == NodeKind.TASK
        ups = self.scope.graph.upstream[node.id] if is_task else ()
        succeeded = frozenset(u for u in ups if progress.outcomes.get(u) == NodeStatus.SUCCESS)
        return StepSpec(
            run_id=self.scope.run_id,
            node_id=node.id,
            attempt=progress.first_attempts.get(name, 0),
            map_index=map_index,
            partition_keys=tuple(self.scope.partition_keys) if node.partitions_def is not None else (),
            retries_left=node.retry_policy.max_retries if node.retry_policy else 0,
            code_location=self.setup.code_location,
            dag_run=self.scope.dag_run if is_task else None,
            map_counts=dict(progress.map_counts) if is_task else {},
            succeeded_upstream=succeeded,
        )

    def _enqueue(self, spec: StepSpec) -> None:
        self.progress.move(spec.name, TI.SCHEDULED)
        self._queue.append(spec)

    def _submit(self, steps: StepExecutor, spec: StepSpec) -> None:
        self.progress.move(spec.name, TI.QUEUED, TI.RUNNING)
        self.control.starting(spec.node_id)
        self._running[spec.name] = spec
        steps.submit(spec)

    def _take_slot(self, spec: StepSpec) -> bool:
        """Whether ``spec`` may start now: the previous DAG run allows it (``depends_on_past``),
        its tags' limits have room, and its pool a slot."""
        node = self.scope.graph.nodes[spec.node_id]
        if not self._past.met(node):
            return False
        if self._tag_limits and not self._tag_limits.has_room(node.tags, self._running_tags()):
            return False
        if node.pool is None:
            return True
        if not self.control.try_acquire(node.pool, spec.name):
            return False
        self._slots[spec.name] = node.pool
        return True

    def _running_tags(self) -> list[Mapping[str, str]]:
        nodes = self.scope.graph.nodes
        return [nodes[s.node_id].tags for s in self._running.values()]

    def _release(self, name: str) -> None:
        pool = self._slots.pop(name, None)
        if pool is not None:
            self.control.release(pool, name)

    # -- outcomes -------------------------------------------------------------------------
    def _on_outcome(self, outcome: StepOutcome) -> None:
        spec = self._running.pop(outcome.name)
        self._release(spec.name)
        if outcome.lost is not None:
            redispatch = outcome.redispatch and self._redispatched[spec.name] < MAX_REDISPATCHES
            self._redispatched[spec.name] += redispatch
            outcome = record_lost_attempt(self.scope, spec, outcome.lost, redispatch=redispatch)
        if outcome.status == NodeStatus.UP_FOR_RETRY:
            self.progress.move(spec.name, TI.UP_FOR_RETRY, TI.SCHEDULED)
            left = spec.retries_left if outcome.redispatch else spec.retries_left - 1
            retry = replace(spec, attempt=spec.attempt + 1, retries_left=left)
            due = time.monotonic() + outcome.retry_delay
            heapq.heappush(self._retries, (due, next(self._seq), retry))
            return
        self.progress.move(spec.name, TI_STATE[outcome.status])
        if spec.map_index >= 0:
            self._instance_done(spec, outcome.status)
            return
        self._finish(spec.node_id, outcome.status, cause=outcome.skip, branch_choice=outcome.branch_choice)

    def _instance_done(self, spec: StepSpec, status: NodeStatus) -> None:
        statuses = self._instances[spec.node_id]
        statuses[spec.map_index] = status
        if any(s is None for s in statuses):
            return
        del self._instances[spec.node_id]
        if NodeStatus.FAILED in statuses:
            self._finish(spec.node_id, NodeStatus.FAILED)
        elif all(s == NodeStatus.SKIPPED for s in statuses):
            self._finish(spec.node_id, NodeStatus.SKIPPED)
        else:
            self._finish(spec.node_id, NodeStatus.SUCCESS)

    def _finish(
        self,
        node_id: str,
        status: NodeStatus,
        *,
        cause: SkipCause | None = None,
        branch_choice: frozenset[str] | None = None,
    ) -> None:
        node = self.scope.graph.nodes[node_id]
        failed_check = None
        if status == NodeStatus.FAILED and node.check is not None:
            failed_check = f"check {node.check.check_name} on {node.check.asset_key}"
        self.progress.finish(
            node_id, status, cause=cause, failed_check=failed_check, branch_choice=branch_choice
        )
        if self.on_node_done is not None:
            self.on_node_done(node_id, status)

    # -- skipping -------------------------------------------------------------------------
    def _skip(self, node_id: str, cause: SkipCause, name: str | None = None) -> None:
        """End ``node_id`` (or its instance ``name``) without running it, recording why."""
        name = name or node_id
        status = cause.status
        self.progress.move(name, TI_STATE[status])
        data: dict[str, Any] = {"reason": cause.message}
        if status == NodeStatus.UPSTREAM_FAILED:
            data["status"] = status.value
        self.scope.events.add(
            self.scope.run_id,
            EventType.STEP_SKIPPED,
            name,
            self.progress.first_attempts.get(name, 0),  # a cleared node's next try number
            f"{status.value}: {cause.message}",
            "WARNING",
            data,
        )
        self.scope.events.transition()
        if name == node_id:
            self._finish(node_id, status, cause=cause)

    def _stop_cause(self) -> SkipCause | None:
        """Why nothing more may start: the DAG run timed out, or the run was canceled."""
        timeout = self.dag_timeout
        started = self.scope.run.start_time
        if timeout is not None and started is not None and time.time() - started > timeout:
            return SkipCause(SkipKind.DAGRUN_TIMEOUT, f"dagrun_timeout of {timeout:g} s passed")
        if self.control.canceled():
            return SkipCause(SkipKind.CANCELED)
        return None

    def _drop_queue(self) -> None:
        """The run stopped: steps not yet submitted end skipped, with the reason."""
        cause = self._stop_cause()
        assert cause is not None
        while self._queue:
            spec = self._queue.popleft()
            self._release(spec.name)
            if spec.map_index < 0:
                self._skip(spec.node_id, cause)
                continue
            self._skip(spec.node_id, cause, spec.name)
            self._instance_done(spec, NodeStatus.SKIPPED)
