"""Selecting nodes: selection strings (``"+name*"``, ``"group:prices"``) and ``AssetSelection``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .._core.errors import SelectionError
from .._core.keys import AssetKey
from .graph import Graph
from .node import NodeKind

_TOKEN = re.compile(r"^(?P<up>\*|\++)?(?P<core>[^*+]+?)(?P<down>\*|\++)?$")


class AssetSelection:
    """A composable query over the graph's assets.

    >>> sel = AssetSelection.assets("raw").downstream() | AssetSelection.groups("prices")
    >>> isinstance(sel, AssetSelection)
    True
    """

    def __init__(self, resolve: Callable[[Graph], set[str]], label: str) -> None:
        self._resolve = resolve
        self.label = label

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def all(cls) -> AssetSelection:
        return cls(lambda g: {n.id for n in g.nodes.values() if n.kind == NodeKind.ASSET}, "*")

    @classmethod
    def assets(cls, *assets: Any) -> AssetSelection:
        keys: list[AssetKey] = []
        for a in assets:
            keys.extend(
                a.keys if hasattr(a, "keys") and not isinstance(a, str | AssetKey) else [AssetKey.coerce(a)]
            )
        return cls(lambda g: _nodes_for_keys(g, keys), ",".join(map(str, keys)))

    keys = assets

    @classmethod
    def groups(cls, *names: str) -> AssetSelection:
        wanted = set(names)
        return cls(
            lambda g: {n.id for n in g.nodes.values() if n.group in wanted and n.kind != NodeKind.CHECK},
            ",".join(f"group:{n}" for n in names),
        )

    @classmethod
    def tag(cls, key: str, value: str) -> AssetSelection:
        return cls(
            lambda g: {n.id for n in g.nodes.values() if n.tags.get(key) == value}, f"tag:{key}={value}"
        )

    @classmethod
    def from_string(cls, text: str) -> AssetSelection:
        return cls(lambda g: parse_selection(g, text), text)

    # -- combinators ----------------------------------------------------------------------
    def upstream(self, depth: int | None = None) -> AssetSelection:
        return AssetSelection(
            lambda g: g.closure(self._resolve(g), upstream=True, depth=depth), f"+({self.label})"
        )

    def downstream(self, depth: int | None = None) -> AssetSelection:
        return AssetSelection(
            lambda g: g.closure(self._resolve(g), upstream=False, depth=depth), f"({self.label})+"
        )

    def __or__(self, other: AssetSelection) -> AssetSelection:
        return AssetSelection(lambda g: self._resolve(g) | other._resolve(g), f"{self.label} | {other.label}")

    def __and__(self, other: AssetSelection) -> AssetSelection:
        return AssetSelection(lambda g: self._resolve(g) & other._resolve(g), f"{self.label} & {other.label}")

    def __sub__(self, other: AssetSelection) -> AssetSelection:
        return AssetSelection(lambda g: self._resolve(g) - other._resolve(g), f"{self.label} - {other.label}")

    def resolve(self, graph: Graph) -> set[str]:
        """Node ids selected, with the checks of every selected asset."""
        return with_checks(graph, self._resolve(graph))

    def __repr__(self) -> str:
        return f"AssetSelection({self.label!r})"


def resolve_selection(graph: Graph, selection: str | AssetSelection | Iterable[Any] | None) -> set[str]:
    """Node ids for any accepted selection form; None selects everything."""
    if selection is None:
        return with_checks(graph, _asset_nodes(graph))
    if isinstance(selection, AssetSelection):
        return selection.resolve(graph)
    if isinstance(selection, str):
        return with_checks(graph, parse_selection(graph, selection))
    return AssetSelection.assets(*selection).resolve(graph)


def parse_selection(graph: Graph, text: str) -> set[str]:
    """``"a"``, ``"+a"``, ``"a++"``, ``"*a"``, ``"a*"``, ``"group:g"``, ``"tag:k=v"``; ``,``/space = union."""
    tokens = [t for t in re.split(r"[,\s]+", text.strip()) if t]
    if not tokens:
        raise SelectionError("empty selection: name at least one asset, e.g. --select my_asset")
    selected: set[str] = set()
    for token in tokens:
        if token == "*":
            selected |= _asset_nodes(graph)
            continue
        m = _TOKEN.match(token)
        if m is None:
            raise SelectionError(f"cannot parse selection '{token}': expected e.g. 'name', '+name', 'name*'")
        base = _core(graph, m.group("core"), token)
        up, down = m.group("up"), m.group("down")
        result = set(base)
        if up:
            result |= graph.closure(base, upstream=True, depth=None if up == "*" else len(up))
        if down:
            result |= graph.closure(base, upstream=False, depth=None if down == "*" else len(down))
        selected |= result
    return selected


def _core(graph: Graph, core: str, token: str) -> set[str]:
    if core == "*":
        return _asset_nodes(graph)
    if core.startswith("group:"):
        name = core[len("group:") :]
        found = {n.id for n in graph.nodes.values() if n.group == name and n.kind != NodeKind.CHECK}
        if not found:
            groups = sorted({n.group for n in graph.nodes.values() if n.group})
            raise SelectionError(f"selection '{token}': no asset in group '{name}' (groups: {groups})")
        return found
    if core.startswith("tag:"):
        key, _, value = core[len("tag:") :].partition("=")
        found = {n.id for n in graph.nodes.values() if key in n.tags and (not value or n.tags[key] == value)}
        if not found:
            raise SelectionError(f"selection '{token}': no asset has tag {core[4:]}")
        return found
    if core in graph.nodes:
        if graph.nodes[core].kind == NodeKind.TASK:
            raise SelectionError(
                f"selection '{token}' names a DAG task; asset selections run assets. "
                "Fix: run tasks with `deras dags test|trigger` or `deras tasks test`."
            )
        if graph.nodes[core].kind == NodeKind.OP:
            raise SelectionError(
                f"selection '{token}' names an op of a job; asset selections run assets. "
                "Fix: run the job with `deras job run NAME`."
            )
        return {core}
    asset_key = AssetKey.from_user_string(core)
    node_id = graph.asset_nodes.get(asset_key)
    if node_id is None:
        matches = [nid for k, nid in graph.asset_nodes.items() if k.name == core]
        if len(matches) == 1:
            return set(matches)
        import difflib

        close = difflib.get_close_matches(core, [str(k) for k in graph.asset_nodes], n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise SelectionError(f"selection '{token}': no asset named '{core}'.{hint}")
    return {node_id}


def _asset_nodes(graph: Graph) -> set[str]:
    """Everything an asset selection can mean: assets (with their checks), not DAG tasks or ops."""
    return {n.id for n in graph.nodes.values() if n.kind in (NodeKind.ASSET, NodeKind.CHECK)}


def _nodes_for_keys(graph: Graph, keys: list[AssetKey]) -> set[str]:
    out: set[str] = set()
    for key in keys:
        nid = graph.asset_nodes.get(key)
        if nid is None:
            raise SelectionError(f"AssetSelection names asset '{key}', which is not defined")
        out.add(nid)
    return out


def with_checks(graph: Graph, node_ids: set[str]) -> set[str]:
    """Keep checks only when their asset is selected, and add every check of selected assets."""
    nodes = graph.nodes
    out = {nid for nid in node_ids if nodes[nid].kind == NodeKind.ASSET}
    if graph.checks_by_asset:
        for nid in list(out):
            out.update(graph.checks_of(nid))
    return out
