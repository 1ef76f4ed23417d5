"""Tables on stdout: fitted to the terminal, or whole when another program reads them."""

from __future__ import annotations

from typing import Any

_PIPED_WIDTH = 100_000
"""Wide enough for any row: a table piped to ``grep`` or a file keeps every character."""


def print_table(table: Any) -> None:
    """Print a ``rich`` table; cut to the terminal's width only when stdout is a terminal."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console.width = _PIPED_WIDTH
    console.print(table)
