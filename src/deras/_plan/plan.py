"""``RunPlan``: which nodes a run executes, in what order, for which partitions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._core.errors import DerasError
from .._core.status import NodeStatus
from .._graph.graph import Graph
from .._graph.node import NodeKind
from .._graph.selection import resolve_selection


@dataclass(slots=True)
class RunPlan:
    """The nodes to execute (topological order) and the partition keys of the run.

    ``partition_keys`` is empty for an unpartitioned run, one key for a partition run,
    several for a single-run range (``BackfillPolicy.single_run()``).
    """

    graph: Graph
    node_ids: list[str]
    partitions_def: Any = None
    partition_keys: list[str] = field(default_factory=list)

    @property
    def partition_key(self) -> str | None:
        return self.partition_keys[0] if len(self.partition_keys) == 1 else None

    @property
    def partition_range(self) -> tuple[str, str] | None:
        if len(self.partition_keys) > 1:
            return (self.partition_keys[0], self.partition_keys[-1])
        return None

    def with_partitions(self, keys: list[str]) -> RunPlan:
        return RunPlan(self.graph, self.node_ids, self.partitions_def, keys)


def run_partition_keys(
    graph: Graph, node_ids: Iterable[str], partition_key: str | None, partition_range: Sequence[str] | None
) -> list[str] | None:
    """The partition keys a recorded run covered: its key, or its ``(first, last)`` range spelled
    out by the partitions definition of its nodes; None for an unpartitioned run."""
    if partition_key:
        return [partition_key]
    if not partition_range:
        return None
    first, last = partition_range
    pdef = next(graph.nodes[n].partitions_def for n in node_ids if graph.nodes[n].partitions_def)
    return list(pdef.get_partition_keys_in_range(first, last))


def plan_run(
    graph: Graph,
    selection: Any = None,
    *,
    partition_key: str | None = None,
    partition_keys: Sequence[str] | None = None,
    node_ids: Iterable[str] | None = None,
    dynamic_partitions_store: Any = None,
) -> RunPlan:
    """Plan a run of ``selection`` (or explicit ``node_ids``) for zero, one or many partitions."""
    selected = set(node_ids) if node_ids is not None else resolve_selection(graph, selection)
    ordered = [nid for nid in graph.order if nid in selected]
    pdef = _run_partitions_def(graph, ordered)
    keys: list[str] = []
    if partition_key is not None:
        keys = [partition_key]
    elif partition_keys:
        keys = list(partition_keys)
    if keys and pdef is None:  # checks alone (debugging one): their asset's partitions count
        pdef = _checks_partitions_def(graph, ordered)
    if keys and pdef is None:
        raise DerasError(
            f"partition {keys[0]!r} given, but none of the selected assets is partitioned. "
            "Fix: drop --partition, or select a partitioned asset."
        )
    if pdef is not None:
        if not keys:
            first = _example_key(pdef, dynamic_partitions_store)
            names = [nid for nid in ordered if graph.nodes[nid].partitions_def is not None][:3]
            raise DerasError(
                f"asset(s) {', '.join(names)} are partitioned: give a partition, e.g. "
                f"partition_key={first!r} (CLI: --partition {first})."
            )
        # Parsed here, the one funnel of every run: CLI, API, stored runs (schedules, sensors,
        # backfill units), re-execution; user code gets the definition's key type.
        keys = [pdef.parse_partition_key(k, dynamic_partitions_store=dynamic_partitions_store) for k in keys]
    return RunPlan(graph, ordered, pdef, keys)


def plan_from_failure(
    graph: Graph, parent_node_ids: Sequence[str], outcomes: dict[str, NodeStatus]
) -> list[str]:
    """Node ids of a re-execution from failure: every planned node that did not succeed."""
    return [nid for nid in parent_node_ids if nid in graph.nodes and outcomes.get(nid) != NodeStatus.SUCCESS]


def _run_partitions_def(graph: Graph, ordered: list[str]) -> Any:
    defs: dict[Any, list[str]] = {}
    for nid in ordered:
        node = graph.nodes[nid]
        if node.partitions_def is not None and node.kind != NodeKind.CHECK:
            defs.setdefault(node.partitions_def, []).append(nid)
    if len(defs) > 1:
        described = "; ".join(f"{d!r}: {', '.join(ids[:3])}" for d, ids in defs.items())
        raise DerasError(
            "the selection mixes assets with different partitions definitions "
            f"({described}). Fix: select assets that share one partitions definition per run."
        )
    return next(iter(defs), None)


def _checks_partitions_def(graph: Graph, ordered: list[str]) -> Any:
    defs = {graph.nodes[nid].partitions_def for nid in ordered if graph.nodes[nid].kind == NodeKind.CHECK}
    defs.discard(None)
    return next(iter(defs)) if len(defs) == 1 else None


def _example_key(pdef: Any, store: Any) -> str:
    try:
        last: str | None = pdef.get_last_partition_key(dynamic_partitions_store=store)
    except DerasError:
        return "<key>"
    return last or "<key>"
