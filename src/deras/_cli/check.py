"""``deras check``: validate definitions and print the graph."""

from __future__ import annotations

import json

import click

from .._core.wording import count
from .._graph.node import NodeKind
from .code import code_options, load_code


@click.command("check")
@code_options
@click.option("--json", "as_json", is_flag=True, help="Print the graph as JSON.")
def check_command(file: str | None, module: str | None, as_json: bool) -> None:
    """Validate the definitions; print the graph layer by layer (exit 1 with the error)."""
    loaded = load_code(file, module)
    graph = loaded.definitions.asset_graph
    layers = graph.layers()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "nodes": [
                        {"id": n.id, "kind": str(n.kind), "upstream": graph.upstream[n.id]}
                        for n in (graph.nodes[i] for i in graph.order)
                    ],
                    "layers": layers,
                }
            )
        )
        return
    counts = {kind: sum(1 for n in graph.nodes.values() if n.kind == kind) for kind in NodeKind}
    for depth, layer in enumerate(layers):
        click.echo(f"layer {depth}:")
        for nid in layer:
            node = graph.nodes[nid]
            ups = graph.upstream[nid]
            arrow = f" ← {', '.join(ups)}" if ups else ""
            extra = " (blocking)" if node.check is not None and node.check.blocking else ""
            click.echo(f"  {node.kind.value:<5} {nid}{extra}{arrow}")
    jobs = len(loaded.definitions.jobs)
    click.echo(
        f"ok: {count(counts[NodeKind.ASSET], 'asset')}, {count(counts[NodeKind.CHECK], 'check')}, "
        f"{count(counts[NodeKind.TASK], 'task')}, {count(jobs, 'job')}, {count(len(layers), 'layer')}"
    )
