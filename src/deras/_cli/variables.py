"""``deras variables``: Airflow-style variables in the metadata database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .._core.errors import DerasError

T = TypeVar("T")


@click.group("variables")
def variables_group() -> None:
    """List, read, set and delete variables (read by `dg.Variable.get` and `{{ var.value.KEY }}`)."""


def _with_store(use: Callable[[Any], T]) -> T:
    from .._instance.instance import DerasInstance

    instance = DerasInstance.get()
    try:
        return use(instance.store.variables)
    finally:
        instance.dispose()


def _record_json(record: Any) -> dict[str, Any]:
    return {
        "key": record.key,
        "value": record.value,
        "description": record.description,
        "update_time": record.update_time,
    }


@variables_group.command("list")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"variables": [...]}.')
def list_variables(as_json: bool) -> None:
    """Every variable, by key."""
    records = _with_store(lambda store: store.list())
    if as_json:
        click.echo(json.dumps({"variables": [_record_json(r) for r in records]}))
        return
    if not records:
        click.echo("no variables (set one with `deras variables set KEY VALUE`)")
        return
    from rich.table import Table

    from .tables import print_table

    table = Table()
    for name in ("key", "value", "description"):
        table.add_column(name)
    for r in records:
        flat = " ".join(r.value.split())  # one line per variable, JSON included
        value = flat if len(flat) <= 60 else flat[:57] + "..."
        table.add_row(r.key, value, r.description or "")
    print_table(table)


@variables_group.command("get")
@click.argument("key")
@click.option("--default", "default", default=None, help="Print this when KEY is not set (else exit 1).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"key": ..., "value": ...}.')
def get_variable(key: str, default: str | None, as_json: bool) -> None:
    """Print the value of KEY."""
    from .._storage.variables import VariableNotFoundError

    try:
        value: str | None = _with_store(lambda store: store.get(key))
    except VariableNotFoundError:
        if default is None:
            raise
        value = default
    if as_json:
        click.echo(json.dumps({"key": key, "value": value}))
    else:
        click.echo(value)


@variables_group.command("set")
@click.argument("key")
@click.argument("value")
@click.option("--description", default=None, help="What the variable is for.")
@click.option("--json", "is_json", is_flag=True, help="VALUE is JSON: refuse it unless it parses.")
def set_variable(key: str, value: str, description: str | None, is_json: bool) -> None:
    """Set KEY to VALUE (replacing its value and description)."""
    if is_json:
        try:
            value = json.dumps(json.loads(value))
        except json.JSONDecodeError as err:
            raise DerasError(f"variable {key!r}: --json, but the value is not JSON: {err}") from None
    _with_store(lambda store: store.set(key, value, now=time.time(), description=description))
    click.echo(f"set variable {key}")


@variables_group.command("delete")
@click.argument("key")
def delete_variable(key: str) -> None:
    """Delete KEY; exit 1 if it is not set."""
    if not _with_store(lambda store: store.delete(key)):
        raise DerasError(f"variable {key!r} does not exist")
    click.echo(f"deleted variable {key}")
