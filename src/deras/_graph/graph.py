"""The compiled graph: nodes, adjacency, validation and topological order, built once."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from .._core.errors import DefinitionError
from .._core.keys import AssetKey
from .node import Node


class Graph:
    """Nodes with precomputed adjacency; building it validates it.

    Building is O(nodes + edges): one pass for adjacency, one Kahn pass for the order.
    A cycle raises ``DefinitionError`` naming the cycle's path.
    """

    __slots__ = ("asset_nodes", "checks_by_asset", "downstream", "nodes", "order", "upstream")

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes: dict[str, Node] = {}
        problems: list[str] = []
        for node in nodes:
            if node.id in self.nodes:
                problems.append(f"two nodes share the id '{node.id}'")
            self.nodes[node.id] = node
        self.asset_nodes: dict[AssetKey, str] = {}
        self.checks_by_asset: dict[AssetKey, list[str]] = {}
        by_id = self.nodes
        asset_nodes = self.asset_nodes
        upstream: dict[str, list[str]] = {}
        downstream: dict[str, list[str]] = {nid: [] for nid in by_id}
        for nid, node in by_id.items():
            for out in node.outputs:
                if out.asset_key is not None:
                    asset_nodes[out.asset_key] = nid
            if node.check is not None:
                targets = node.check_targets or [node.check]
                for key in dict.fromkeys(t.asset_key for t in targets):
                    self.checks_by_asset.setdefault(key, []).append(nid)
            ups = node.upstream_ids
            if len(ups) > 1:
                ups = list(dict.fromkeys(ups))  # dedupe, keep order
            missing = [u for u in ups if u not in by_id]
            if missing:
                problems.append(f"node '{nid}' depends on unknown node(s) {missing}")
                ups = [u for u in ups if u in by_id]
            upstream[nid] = ups
            for u in ups:
                downstream[u].append(nid)
        self.upstream = upstream
        self.downstream = downstream
        if problems:
            raise DefinitionError(problems)
        self.order = self._topological_order()

    def _topological_order(self) -> list[str]:
        indegree = {nid: len(ups) for nid, ups in self.upstream.items()}
        ready = deque(nid for nid, d in indegree.items() if d == 0)
        order: list[str] = []
        while ready:
            nid = ready.popleft()
            order.append(nid)
            for d in self.downstream[nid]:
                indegree[d] -= 1
                if indegree[d] == 0:
                    ready.append(d)
        if len(order) != len(self.nodes):
            remaining = {nid for nid, d in indegree.items() if d > 0}
            raise DefinitionError(
                f"cycle in the graph: {self._cycle_path(remaining)}. Fix: remove one of these dependencies."
            )
        return order

    def _cycle_path(self, remaining: set[str]) -> str:
        # Walk upstream inside the unsorted remainder until a node repeats: that loop is a cycle.
        start = min(remaining)
        seen: dict[str, int] = {}
        path: list[str] = []
        node = start
        while node not in seen:
            seen[node] = len(path)
            path.append(node)
            node = next(u for u in self.upstream[node] if u in remaining)
        cycle = path[seen[node] :]
        cycle.reverse()  # print in the direction data flows
        first = cycle.index(min(cycle))  # start at a stable place, whatever the walk's start
        cycle = cycle[first:] + cycle[:first]
        return " → ".join([*cycle, cycle[0]])

    def layers(self, node_ids: Iterable[str] | None = None) -> list[list[str]]:
        """Nodes grouped so that each layer depends only on earlier layers."""
        wanted = set(node_ids) if node_ids is not None else None
        depth: dict[str, int] = {}
        layers: list[list[str]] = []
        for nid in self.order:
            if wanted is not None and nid not in wanted:
                continue
            d = 0
            for u in self.upstream[nid]:
                if u in depth and depth[u] + 1 > d:
                    d = depth[u] + 1
            depth[nid] = d
            if d == len(layers):
                layers.append([])
            layers[d].append(nid)
        return layers

    def node_for_asset(self, key: AssetKey) -> Node | None:
        nid = self.asset_nodes.get(key)
        return self.nodes[nid] if nid is not None else None

    def asset_keys(self) -> list[AssetKey]:
        return list(self.asset_nodes)

    def closure(self, start: Iterable[str], *, upstream: bool, depth: int | None = None) -> set[str]:
        """Node ids reachable from ``start`` (inclusive) within ``depth`` hops."""
        adj: Mapping[str, list[str]] = self.upstream if upstream else self.downstream
        seen = set(start)
        frontier = list(seen)
        level = 0
        while frontier and (depth is None or level < depth):
            nxt = []
            for nid in frontier:
                for other in adj[nid]:
                    if other not in seen:
                        seen.add(other)
                        nxt.append(other)
            frontier = nxt
            level += 1
        return seen

    def checks_of(self, node_id: str) -> list[str]:
        node = self.nodes[node_id]
        out: list[str] = []
        for key in node.asset_keys:
            out.extend(self.checks_by_asset.get(key, ()))
        return out
