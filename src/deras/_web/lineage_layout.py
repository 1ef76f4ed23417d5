"""A layered (Sugiyama-style) layout of the asset lineage graph, computed once per graph version.

Left to right: a node's layer is the longest path from a source (Kahn's order, O(n + e));
edges that skip layers pass through dummy points so that crossings can be reduced for them
too; each layer is ordered by a few sweeps of barycenters (the mean position of a node's
neighbours in the layer before, then after); y coordinates then follow the neighbours while
keeping a minimum gap. Every pass is linear but for sorting each layer, so 10,000 assets lay
out in a fraction of a second. The result is plain numbers in columns — what the page's
canvas draws — cached by the snapshot's ``version`` (a hash of nodes and edges).
"""

from __future__ import annotations

import itertools
import json
import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

NODE_WIDTH = 180
NODE_HEIGHT = 34
LAYER_GAP = 90  # horizontal space between layers, for the edges
ROW_GAP = 14  # vertical space between nodes of a layer
SWEEPS = 3
MIN_WRAP_ROWS = 40  # a layer wraps into columns past max(this, sqrt(nodes) * WRAP_FACTOR) rows
WRAP_FACTOR = 1.5
_MAX_DUMMIES_PER_NODE = 1  # past this many edge points per node, the longest edges are drawn straight


@dataclass(frozen=True)
class LineageLayout:
    """Where each node of a graph goes. Columns, not objects: 10,000 nodes are a few hundred KB."""

    version: str
    keys: list[str]
    groups: list[str]
    group_of: list[int]
    x: list[int]
    y: list[int]
    edges: list[tuple[int, int]]
    bends: dict[int, list[int]]  # edge index -> [x, y, x, y, ...] points between its ends
    width: int
    height: int

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "node_width": NODE_WIDTH,
            "node_height": NODE_HEIGHT,
            "width": self.width,
            "height": self.height,
            "groups": self.groups,
            "nodes": {"key": self.keys, "group": self.group_of, "x": self.x, "y": self.y},
            "edges": [list(e) for e in self.edges],
            "bends": [[i, pts] for i, pts in sorted(self.bends.items())],
        }

    @cached_property
    def json_bytes(self) -> bytes:
        """``to_json()`` serialised once: a 10,000-asset layout is sent as it was cached."""
        return json.dumps(self.to_json(), separators=(",", ":")).encode()


def layered_layout(
    version: str, keys: Sequence[str], deps: Mapping[str, Sequence[str]], groups: Mapping[str, str]
) -> LineageLayout:
    """Lay out the graph whose nodes are ``keys`` and whose edges run from each of ``deps[key]``
    to ``key`` (dependencies on unknown keys are left out); ``groups`` colours nodes.

    >>> layout = layered_layout("v1", ["a", "b"], {"b": ["a"]}, {})
    >>> layout.x[0] < layout.x[1]
    True
    """
    n = len(keys)
    index = {key: i for i, key in enumerate(keys)}
    edges = [(index[up], index[key]) for key in keys for up in deps.get(key, ()) if up in index and up != key]
    edges = list(dict.fromkeys(edges))
    group_names = sorted({groups.get(key, "default") for key in keys})
    group_index = {g: i for i, g in enumerate(group_names)}
    group_of = [group_index[groups.get(key, "default")] for key in keys]

    layer = _longest_path_layers(n, edges)
    succ, pred, edge_paths, layer = _with_dummies(n, edges, layer)
    total = len(layer)
    layers = _order_layers(total, layer, succ, pred, group_of + [-1] * (total - n))
    # A layer taller than the drawing is wide wraps into side-by-side columns (thousands of
    # sources would otherwise make one column a hundred thousand pixels tall).
    max_rows = max(MIN_WRAP_ROWS, math.ceil(math.sqrt(total) * WRAP_FACTOR))
    columns = [max(1, math.ceil(len(nodes) / max_rows)) for nodes in layers]
    ys = _y_coordinates(layers, pred, succ, max_rows)

    x_step = NODE_WIDTH + LAYER_GAP
    first_column = [0] * len(layers)
    for i in range(1, len(layers)):
        first_column[i] = first_column[i - 1] + columns[i - 1]
    xs = [0] * total
    for i, nodes in enumerate(layers):
        for position, v in enumerate(nodes):
            xs[v] = (first_column[i] + (position // max_rows if columns[i] > 1 else 0)) * x_step
    top = min(ys) if ys else 0
    ys = [y - top for y in ys]
    bends: dict[int, list[int]] = {}
    for edge_number, path in edge_paths.items():
        points: list[int] = []
        for d in path:
            points += [xs[d] + NODE_WIDTH // 2, ys[d] + NODE_HEIGHT // 2]
        bends[edge_number] = points
    width = (max(xs) + NODE_WIDTH) if n else 0
    height = (max(ys) + NODE_HEIGHT) if n else 0
    return LineageLayout(
        version=version,
        keys=list(keys),
        groups=group_names,
        group_of=group_of,
        x=xs[:n],
        y=[int(y) for y in ys[:n]],
        edges=edges,
        bends=bends,
        width=width,
        height=int(height),
    )


def _longest_path_layers(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    succ: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for u, v in edges:
        succ[u].append(v)
        indegree[v] += 1
    layer = [0] * n
    queue = deque(i for i in range(n) if indegree[i] == 0)
    seen = 0
    while queue:
        u = queue.popleft()
        seen += 1
        for v in succ[u]:
            layer[v] = max(layer[v], layer[u] + 1)
            indegree[v] -= 1
            if indegree[v] == 0:
                queue.append(v)
    if seen < n:  # a cycle (definitions refuse them; a layout must still finish): after the rest
        last = max(layer, default=0) + 1
        for i in range(n):
            if indegree[i] > 0:
                layer[i] = last
    return layer


def _with_dummies(
    n: int, edges: Sequence[tuple[int, int]], layer: list[int]
) -> tuple[list[list[int]], list[list[int]], dict[int, list[int]], list[int]]:
    """Adjacency with a dummy node in each layer that an edge skips (within a budget)."""
    layer = list(layer)
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    paths: dict[int, list[int]] = {}
    budget = _MAX_DUMMIES_PER_NODE * max(n, 1)
    by_span = sorted(range(len(edges)), key=lambda e: layer[edges[e][1]] - layer[edges[e][0]])
    for number in by_span:
        u, v = edges[number]
        span = layer[v] - layer[u]
        if span <= 1 or span - 1 > budget:
            budget = 0 if span > 1 else budget  # the rest are longer still: all straight
            if span >= 1:  # a back or flat edge (only in a cycle) does not take part in ordering
                succ[u].append(v)
                pred[v].append(u)
            continue
        budget -= span - 1
        chain = [u]
        for step in range(1, span):
            d = len(layer)
            layer.append(layer[u] + step)
            succ.append([])
            pred.append([])
            chain.append(d)
        chain.append(v)
        for a, b in itertools.pairwise(chain):
            succ[a].append(b)
            pred[b].append(a)
        paths[number] = chain[1:-1]
    return succ, pred, paths, layer


def _order_layers(
    total: int, layer: list[int], succ: list[list[int]], pred: list[list[int]], group_of: list[int]
) -> list[list[int]]:
    """Each layer's nodes top to bottom: by group first, then barycenter sweeps down and up."""
    layers: list[list[int]] = [[] for _ in range(max(layer, default=-1) + 1)]
    for v in range(total):
        layers[layer[v]].append(v)
    pos = [0.0] * total
    for nodes in layers:
        nodes.sort(key=lambda v: (group_of[v], v))
        for i, v in enumerate(nodes):
            pos[v] = float(i)
    for _ in range(SWEEPS):
        for direction in (pred, succ):
            sequence = layers[1:] if direction is pred else layers[-2::-1]
            for nodes in sequence:
                keyed = []
                for v in nodes:
                    near = direction[v]
                    if near:
                        total_pos = 0.0
                        for u in near:
                            total_pos += pos[u]
                        keyed.append((total_pos / len(near), group_of[v], v))
                    else:
                        keyed.append((pos[v], group_of[v], v))
                keyed.sort()
                for i, item in enumerate(keyed):
                    v = item[2]
                    nodes[i] = v
                    pos[v] = float(i)
    return layers


def _y_coordinates(
    layers: list[list[int]], pred: list[list[int]], succ: list[list[int]], max_rows: int
) -> list[int]:
    """Place each node near its neighbours' mean, keeping order and a minimum gap; a wrapped
    layer (more than ``max_rows`` nodes) is packed in rows instead."""
    total = sum(len(nodes) for nodes in layers)
    step = NODE_HEIGHT + ROW_GAP
    y = [0.0] * total
    for nodes in layers:
        rows = min(len(nodes), max_rows)
        for i, v in enumerate(nodes):
            y[v] = (i % max_rows - (rows - 1) / 2) * step
    free = [nodes for nodes in layers if 0 < len(nodes) <= max_rows]
    for direction, sequence in ((pred, free), (succ, free[::-1]), (pred, free)):
        for nodes in sequence:
            wanted = []
            for v in nodes:
                near = direction[v]
                if near:
                    total_y = 0.0
                    for u in near:
                        total_y += y[u]
                    wanted.append(total_y / len(near))
                else:
                    wanted.append(y[v])
            placed = list(wanted)
            for i in range(1, len(placed)):
                placed[i] = max(placed[i], placed[i - 1] + step)
            shift = (sum(wanted) - sum(placed)) / len(placed)
            for v, p in zip(nodes, placed, strict=True):
                y[v] = p + shift
    return [round(v) for v in y]


class LayoutCache:
    """Layouts by graph version: a code change makes a new one, a finished run none."""

    def __init__(self, max_entries: int = 8) -> None:
        self._entries: OrderedDict[str, LineageLayout] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self.max_entries = max_entries

    def get(self, version: str, build: Callable[[], LineageLayout]) -> LineageLayout:
        with self._lock:
            if version in self._entries:
                self._entries.move_to_end(version)
                return self._entries[version]
            building = self._building.setdefault(version, threading.Lock())
        with building:  # two pages asking at once build it once
            with self._lock:
                if version in self._entries:
                    return self._entries[version]
            layout = build()
            with self._lock:
                self._entries[version] = layout
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
                self._building.pop(version, None)
            return layout


def layout_of_assets(version: str, assets: Sequence[Any]) -> LineageLayout:
    """The layout of a code snapshot's assets (``key``, ``deps``, ``group``)."""
    return layered_layout(
        version,
        [a.key for a in assets],
        {a.key: a.deps for a in assets},
        {a.key: a.group or "default" for a in assets},
    )
