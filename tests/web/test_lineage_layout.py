"""The lineage layout: layers left to right, no overlaps, crossings reduced, fast at 10,000 assets."""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from itertools import pairwise

from deras._web.lineage_layout import NODE_HEIGHT, LayoutCache, LineageLayout, layered_layout


def _random_graph(n: int, seed: int = 7) -> tuple[list[str], dict[str, list[str]], dict[str, str]]:
    rng = random.Random(seed)
    keys = [f"asset_{i}" for i in range(n)]
    deps = {
        key: [keys[rng.randrange(max(0, i - 200), i)] for _ in range(rng.randint(0, 3))] if i else []
        for i, key in enumerate(keys)
    }
    groups = {key: f"group_{i % 9}" for i, key in enumerate(keys)}
    return keys, deps, groups


def _crossings(layout: LineageLayout) -> int:
    """Crossings between edges of adjacent layers (an O(e^2) check, for small graphs)."""
    spans = [
        (layout.x[u], layout.y[u], layout.y[v])
        for u, v in layout.edges
        if u not in layout.bends and layout.x[v] - layout.x[u] == min(d for d in set(layout.x) if d > 0)
    ]
    count = 0
    for i, (x1, a1, b1) in enumerate(spans):
        for x2, a2, b2 in spans[i + 1 :]:
            if x1 == x2 and (a1 - a2) * (b1 - b2) < 0:
                count += 1
    return count


def test_every_edge_points_right() -> None:
    keys, deps, groups = _random_graph(500)
    layout = layered_layout("v", keys, deps, groups)
    assert layout.edges and all(layout.x[u] < layout.x[v] for u, v in layout.edges)


def test_nodes_of_one_layer_do_not_overlap() -> None:
    keys, deps, groups = _random_graph(500)
    layout = layered_layout("v", keys, deps, groups)
    by_layer: dict[int, list[int]] = {}
    for i, x in enumerate(layout.x):
        by_layer.setdefault(x, []).append(layout.y[i])
    for ys in by_layer.values():
        ys.sort()
        assert all(b - a >= NODE_HEIGHT for a, b in pairwise(ys))
    assert all(y >= 0 and y + NODE_HEIGHT <= layout.height for y in layout.y)


def test_barycenter_ordering_untangles_a_crossed_graph() -> None:
    # a1 -> b2 and a2 -> b1 listed crosswise: the ordering puts each b beside its a.
    keys = ["a1", "a2", "a3", "b3", "b2", "b1"]
    deps = {"b1": ["a1"], "b2": ["a2"], "b3": ["a3"]}
    layout = layered_layout("v", keys, deps, {})
    assert _crossings(layout) == 0


def test_long_edges_bend_through_the_layers_they_skip() -> None:
    layout = layered_layout("v", ["a", "b", "c", "d"], {"b": ["a"], "c": ["b"], "d": ["c", "a"]}, {})
    long_edge = layout.edges.index((0, 3))
    assert len(layout.bends[long_edge]) == 2 * 2  # two skipped layers, one (x, y) point each


def test_groups_are_numbered_in_name_order() -> None:
    layout = layered_layout("v", ["a", "b", "c"], {}, {"a": "zeta", "b": "alpha"})
    assert layout.groups == ["alpha", "default", "zeta"]
    assert [layout.groups[g] for g in layout.group_of] == ["zeta", "alpha", "default"]


def test_unknown_dependencies_and_self_edges_are_left_out() -> None:
    layout = layered_layout("v", ["a", "b"], {"b": ["a", "outside", "b"]}, {})
    assert layout.edges == [(0, 1)]


def test_a_cycle_still_lays_out() -> None:
    layout = layered_layout("v", ["a", "b", "c"], {"a": ["c"], "b": ["a"], "c": ["b"]}, {})
    assert len(layout.x) == 3


def test_the_same_graph_lays_out_the_same_way() -> None:
    keys, deps, groups = _random_graph(300)
    assert layered_layout("v", keys, deps, groups) == layered_layout("v", keys, deps, groups)


def test_ten_thousand_assets_lay_out(no_hang: Callable[[float], AbstractContextManager[None]]) -> None:
    keys, deps, groups = _random_graph(10_000)
    with no_hang(30):  # about half a second on a laptop; benchmarks/ measures it
        layout = layered_layout("v", keys, deps, groups)
    data = layout.to_json()
    assert len(data["nodes"]["key"]) == 10_000
    assert all(layout.x[u] < layout.x[v] for u, v in layout.edges)


def test_the_cache_builds_each_version_once() -> None:
    cache = LayoutCache(max_entries=2)
    built: list[str] = []

    def build(version: str) -> Callable[[], LineageLayout]:
        def make() -> LineageLayout:
            built.append(version)
            return layered_layout(version, ["a"], {}, {})

        return make

    first = cache.get("v1", build("v1"))
    assert cache.get("v1", build("v1")) is first
    cache.get("v2", build("v2"))
    cache.get("v3", build("v3"))  # evicts v1, the least recently used
    cache.get("v1", build("v1"))
    assert built == ["v1", "v2", "v3", "v1"]
