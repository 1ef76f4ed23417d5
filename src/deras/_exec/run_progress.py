"""The run loop's bookkeeping: which nodes are done and how, and which may be decided next.

``RunProgress`` is plain data plus the rules that decide a node from its upstream outcomes:
a failed blocking check upstream skips it ("blocked by ..."), a branch that chose other tasks
skips it, otherwise its trigger rule decides. It never runs anything; the run loop asks it for
ready nodes, tells it outcomes, and it answers in the plan's (topological) order, so a loop
that runs one node at a time runs them exactly in plan order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import Any

from .._core.status import NodeStatus
from .._core.task_state import TaskInstanceState, check_transition
from .._dags.trigger_rules import Decision, TriggerRule, decide, parse_trigger_rule
from .._graph.graph import Graph
from .._graph.node import NodeKind
from .step_types import SkipCause, SkipKind

TI_STATE = {
    NodeStatus.SUCCESS: TaskInstanceState.SUCCESS,
    NodeStatus.FAILED: TaskInstanceState.FAILED,
    NodeStatus.SKIPPED: TaskInstanceState.SKIPPED,
    NodeStatus.UPSTREAM_FAILED: TaskInstanceState.UPSTREAM_FAILED,
    NodeStatus.RUNNING: TaskInstanceState.RUNNING,
    NodeStatus.UP_FOR_RETRY: TaskInstanceState.UP_FOR_RETRY,
    NodeStatus.PENDING: TaskInstanceState.SCHEDULED,
}
_RULES = {str(rule): rule for rule in TriggerRule}
_FAILED = (NodeStatus.FAILED, NodeStatus.UPSTREAM_FAILED)


class RunProgress:
    """Outcomes, skip causes, branch choices and map counts of one run, and what is ready.

    ``known`` are outcomes that stand before the loop starts (a cleared DAG run keeps those of
    the tasks not cleared); ``first_attempts`` the attempt each node starts at (a cleared
    task's next try); ``map_counts`` the instance counts of mapped tasks already expanded.
    """

    def __init__(
        self,
        graph: Graph,
        node_ids: Iterable[str],
        *,
        known: Mapping[str, NodeStatus] | None = None,
        first_attempts: Mapping[str, int] | None = None,
        map_counts: Mapping[str, int] | None = None,
    ) -> None:
        self.graph = graph
        self.order = list(node_ids)
        self._index = {nid: i for i, nid in enumerate(self.order)}
        self.outcomes: dict[str, NodeStatus] = dict(known or {})
        self.causes: dict[str, SkipCause] = {}
        self.failed_checks: dict[str, str] = {}  # check node -> "check x on y"
        self.branch_choice: dict[str, frozenset[str]] = {}
        self.map_counts: dict[str, int] = dict(map_counts or {})
        self.first_attempts: dict[str, int] = dict(first_attempts or {})
        # Every node (or mapped instance) moves through the task instance state machine.
        self.ti_states: dict[str, TaskInstanceState] = {}
        self._waiting: dict[str, int] = {}
        self._ready: list[tuple[int, str]] = []
        for nid in self.order:
            pending = sum(1 for up in graph.upstream[nid] if up in self._index)
            self._waiting[nid] = pending
            if pending == 0:
                self._ready.append((self._index[nid], nid))
        heapq.heapify(self._ready)
        self._unfinished = len(self.order)

    # -- what to do next ------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self._unfinished == 0

    def has_ready(self) -> bool:
        return bool(self._ready)

    def pop_ready(self) -> str:
        """The ready node that comes first in the plan."""
        return heapq.heappop(self._ready)[1]

    def push_back(self, node_id: str) -> None:
        """A ready node that could not start yet (no room, no pool slot) waits its turn again."""
        heapq.heappush(self._ready, (self._index[node_id], node_id))

    def decide(self, node_id: str) -> SkipCause | None:
        """None if ``node_id`` runs; else why it ends without running (its upstream are done)."""
        graph = self.graph
        node = graph.nodes[node_id]
        ups = [u for u in graph.upstream[node_id] if u in self.outcomes]
        for up in ups:
            check = self.failed_checks.get(up)
            if check is not None:
                return SkipCause(SkipKind.BLOCKED, check)
            inherited = self.causes.get(up)
            # A failed blocking check, and a short circuit that ignores trigger rules, skip
            # everything downstream of them, whatever the trigger rules further down say.
            if inherited is not None and inherited.kind in (SkipKind.BLOCKED, SkipKind.SHORT_CIRCUIT):
                return inherited
            chosen = self.branch_choice.get(up)
            if chosen is not None and node.kind == NodeKind.TASK and node.definition.task_id not in chosen:
                chooser = graph.nodes[up].definition
                if getattr(chooser, "ignore_downstream_trigger_rules", False):
                    return SkipCause(SkipKind.SHORT_CIRCUIT, f"task {chooser.task_id}")
                return SkipCause(SkipKind.NOT_CHOSEN, chooser.task_id)
        rule = _RULES.get(node.trigger_rule) or parse_trigger_rule(node.trigger_rule)
        decision = decide(rule, [TI_STATE[self.outcomes[u]] for u in ups])
        if decision == Decision.RUN:
            return None
        if decision == Decision.UPSTREAM_FAILED:
            failed = next(u for u in ups if self.outcomes[u] in _FAILED)
            return SkipCause(SkipKind.UPSTREAM_FAILED, upstream=failed)
        if decision == Decision.SKIP:
            culprit = next((u for u in ups if self.outcomes[u] != NodeStatus.SUCCESS), ups[0] if ups else "")
            state = self.outcomes.get(culprit, "")
            return SkipCause(SkipKind.TRIGGER_RULE, node.trigger_rule, culprit, str(state))
        raise AssertionError(f"{node_id}: its upstream finished, yet its trigger rule says {decision}")

    # -- recording ------------------------------------------------------------------------
    def move(self, name: str, *targets: TaskInstanceState) -> None:
        """Move ``name`` through ``targets`` in order, refusing any transition the table forbids."""
        current = self.ti_states.get(name, TaskInstanceState.NONE)
        for target in targets:
            check_transition(current, target)
            current = target
        self.ti_states[name] = current

    def finish(
        self,
        node_id: str,
        status: NodeStatus,
        *,
        cause: SkipCause | None = None,
        failed_check: str | None = None,
        branch_choice: frozenset[str] | None = None,
    ) -> list[str]:
        """Record how ``node_id`` ended; returns the nodes that became ready because of it."""
        self.outcomes[node_id] = status
        if cause is not None:
            self.causes[node_id] = cause
        if failed_check is not None:
            self.failed_checks[node_id] = failed_check
        if branch_choice is not None:
            self.branch_choice[node_id] = branch_choice
        self._unfinished -= 1
        newly = []
        for down in self.graph.downstream[node_id]:
            if down in self._waiting:
                self._waiting[down] -= 1
                if self._waiting[down] == 0:
                    heapq.heappush(self._ready, (self._index[down], down))
                    newly.append(down)
        return newly

    def failed_nodes(self) -> list[str]:
        """Nodes that failed, or were left behind by a failure (after clearing only some tasks)."""
        return [nid for nid, s in self.outcomes.items() if s in _FAILED]

    def timed_out_nodes(self) -> list[str]:
        return [nid for nid, c in self.causes.items() if c.kind == SkipKind.DAGRUN_TIMEOUT]

    def snapshot(self) -> dict[str, Any]:
        """The progress as JSON: outcomes, causes, branch choices, map counts."""
        return {
            "outcomes": {k: v.value for k, v in self.outcomes.items()},
            "causes": {k: v.to_json() for k, v in self.causes.items()},
            "failed_checks": dict(self.failed_checks),
            "branch_choice": {k: sorted(v) for k, v in self.branch_choice.items()},
            "map_counts": dict(self.map_counts),
        }
