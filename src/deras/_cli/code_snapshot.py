"""``deras code snapshot``: what a code location defines, as the web server sees it."""

from __future__ import annotations

import json
import sys

import click

from .code import code_location, code_options, load_code


@click.group("code")
def code_group() -> None:
    """Code locations: what they define, as plain data."""


@code_group.command("snapshot")
@code_options
@click.option("--json", "as_json", is_flag=True, help="Print the whole snapshot as JSON.")
@click.option(
    "--server",
    is_flag=True,
    help="Load the code in a code server process, as `deras web` does (a load error prints as JSON).",
)
def snapshot_command(file: str | None, module: str | None, as_json: bool, server: bool) -> None:
    """Print the snapshot of the definitions: assets, checks, jobs, DAGs, schedules, sensors."""
    from .._snapshot import CodeSnapshot, LocationRef, snapshot_of

    if server:
        from .._code_server import CodeLocation
        from .._instance.instance import DerasInstance

        ref = LocationRef.from_json(code_location(file, module))
        location = CodeLocation(ref, instance=DerasInstance.get())
        try:
            snap = location.snapshot()
        finally:
            location.stop()
        if not isinstance(snap, CodeSnapshot):
            if as_json:
                click.echo(json.dumps({"error": snap.to_json()}, indent=2), err=True)
            else:
                click.echo(f"{snap.traceback}error: {snap.message}", err=True)
            sys.exit(1)
    else:
        loaded = load_code(file, module)
        from .._instance.instance import DerasInstance

        snap = snapshot_of(
            loaded.definitions,
            LocationRef.from_json(loaded.location),
            dynamic_partitions_store=DerasInstance.get(),
        )
    if as_json:
        click.echo(json.dumps(snap.to_json(), indent=2))
        return
    click.echo(f"{snap.location.label} (version {snap.version[:12]})")
    for title, items in (
        ("assets", [a.key for a in snap.assets]),
        ("checks", [f"{c.asset_key}:{c.name}" for c in snap.checks]),
        ("jobs", [j.name for j in snap.jobs]),
        ("DAGs", [d.dag_id for d in snap.dags]),
        ("schedules", [s.name for s in snap.schedules]),
        ("sensors", [s.name for s in snap.sensors]),
    ):
        if items:
            shown = ", ".join(items[:20]) + (f", ... ({len(items)} in all)" if len(items) > 20 else "")
            click.echo(f"  {title}: {shown}")
    for path, error in snap.load_errors.items():
        click.echo(f"  did not load: {path}\n{error}", err=True)
