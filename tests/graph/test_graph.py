"""The compiled graph: order, layers, cycles and selection."""

from __future__ import annotations

import pytest

import deras as dg
from deras._core.errors import DefinitionError, SelectionError
from deras._graph.graph import Graph
from deras._graph.node import Node, NodeKind
from deras._graph.selection import parse_selection, resolve_selection


def _node(nid: str, deps: list[str]) -> Node:
    return Node(id=nid, kind=NodeKind.TASK, fn=None, definition=None, deps=deps)


def test_topological_order_puts_every_node_after_its_upstream() -> None:
    graph = Graph([_node("c", ["a", "b"]), _node("b", ["a"]), _node("a", [])])
    pos = {nid: i for i, nid in enumerate(graph.order)}
    assert pos["a"] < pos["b"] < pos["c"]


def test_layers_group_nodes_by_longest_path_from_a_root() -> None:
    graph = Graph([_node("a", []), _node("b", ["a"]), _node("x", []), _node("c", ["b", "x"])])
    assert graph.layers() == [["a", "x"], ["b"], ["c"]]


def test_cycle_error_lists_the_cycle_path() -> None:
    with pytest.raises(DefinitionError) as err:
        Graph([_node("a", ["c"]), _node("b", ["a"]), _node("c", ["b"]), _node("d", [])])
    message = str(err.value)
    assert "cycle" in message
    assert "a → b → c → a" in message


def test_ten_thousand_node_graph_builds_in_linear_passes() -> None:
    nodes = [_node(f"n{i}", [f"n{i - 1}"] if i else []) for i in range(10_000)]
    graph = Graph(reversed(nodes))
    assert graph.order[0] == "n0" and graph.order[-1] == "n9999"
    assert len(graph.layers()) == 10_000


@dg.asset(group_name="raw")
def source() -> int:
    return 1


@dg.asset(group_name="raw", tags={"team": "ops"})
def cleaned(source: int) -> int:
    return source


@dg.asset
def report(cleaned: int) -> int:
    return cleaned


@dg.asset
def summary(report: int) -> int:
    return report


@dg.asset_check(asset=report)
def report_ok(report: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return dg.Definitions(assets=[source, cleaned, report, summary], asset_checks=[report_ok]).asset_graph


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("report", {"report"}),
        ("+report", {"cleaned", "report"}),
        ("++report", {"source", "cleaned", "report"}),
        ("*report", {"source", "cleaned", "report"}),
        ("cleaned+", {"cleaned", "report"}),
        ("cleaned*", {"cleaned", "report", "summary"}),
        ("group:raw", {"source", "cleaned"}),
        ("tag:team=ops", {"cleaned"}),
        ("source, summary", {"source", "summary"}),
        ("source summary", {"source", "summary"}),
    ],
)
def test_selection_strings(graph: Graph, text: str, expected: set[str]) -> None:
    assert parse_selection(graph, text) - {"report:report_ok"} == expected


def test_selected_asset_brings_its_checks(graph: Graph) -> None:
    assert resolve_selection(graph, "report") == {"report", "report:report_ok"}
    assert "report:report_ok" not in resolve_selection(graph, "source")


def test_asset_selection_combinators(graph: Graph) -> None:
    sel = dg.AssetSelection.assets(report).upstream(depth=1) | dg.AssetSelection.groups("raw")
    assert sel.resolve(graph) - {"report:report_ok"} == {"source", "cleaned", "report"}
    down = dg.AssetSelection.assets("cleaned").downstream() - dg.AssetSelection.assets(summary)
    assert down.resolve(graph) - {"report:report_ok"} == {"cleaned", "report"}


def test_unknown_asset_in_selection_suggests_a_name(graph: Graph) -> None:
    with pytest.raises(SelectionError, match=r"no asset named 'reprot'.*'report'"):
        parse_selection(graph, "reprot")


def test_star_selects_everything(graph: Graph) -> None:
    assert resolve_selection(graph, "*") == set(graph.nodes)
