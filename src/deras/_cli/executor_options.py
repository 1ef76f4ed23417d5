"""``--executor`` and ``--max-concurrent``: where the nodes of the runs a command starts execute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .._defs.executor_choice import EXECUTOR_NAMES

_KEY = "deras_executor"


def executor_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the two options; :func:`cli_executor` reads what was given (None: not given)."""

    def remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.meta.setdefault(_KEY, {})[param.name] = value

    fn = click.option(
        "--max-concurrent",
        type=click.IntRange(min=1),
        default=None,
        expose_value=False,
        callback=remember,
        help="Nodes run at once by a multiprocess or Celery executor.",
    )(fn)
    return click.option(
        "--executor",
        type=click.Choice(EXECUTOR_NAMES),
        default=None,
        expose_value=False,
        callback=remember,
        help="Where nodes run (default: the job's or DAG's executor, deras.yaml's, else in_process).",
    )(fn)


def cli_executor() -> dict[str, Any] | None:
    """The executor the options ask for, as ``{"type": ..., options}``; None if not given."""
    given = click.get_current_context().meta.get(_KEY, {})
    name = given.get("executor")
    concurrent = given.get("max_concurrent")
    if name is None:
        if concurrent is not None:
            raise click.UsageError("--max-concurrent needs --executor multiprocess or celery")
        return None
    if concurrent is not None:
        if name == "in_process":
            raise click.UsageError("--max-concurrent: the in_process executor runs one node at a time")
        return {"type": name, "max_concurrent": concurrent}
    return {"type": name}
