"""A progress bar over a run's nodes (stderr, so --json output stays clean)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .._core.status import NodeStatus


@contextmanager
def node_progress(total: int, label: str, enabled: bool) -> Iterator[Any]:
    """Yield an ``on_node_done(node_id, status)`` callback that advances the bar."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(label, total=total, last="")

        def on_node_done(node_id: str, status: NodeStatus) -> None:
            marks = {"success": "✓", "failed": "✗", "skipped": "-", "upstream_failed": "-"}
            mark = marks.get(status.value, "?")
            progress.update(task, advance=1, last=f"{mark} {node_id}")

        yield on_node_done
