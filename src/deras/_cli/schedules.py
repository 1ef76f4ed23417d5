"""``deras schedule`` and ``deras sensor``: list, start, stop, preview and tick."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import click

from .._instance.instance import DerasInstance
from .code import code_options, fail, load_code
from .tables import print_table


@click.group("schedule")
def schedule_group() -> None:
    """Schedules (and DAGs' own schedules): list, start, stop, preview."""


@click.group("sensor")
def sensor_group() -> None:
    """Sensors: list, start, stop, tick."""


def _rows(kinds: tuple[Any, ...], file: str | None, module: str | None) -> list[dict[str, Any]]:
    from .._instance.views.instigators import list_schedules, list_sensors
    from .._snapshot.build import snapshot_of
    from .._snapshot.snapshot import LocationRef

    loaded = load_code(file, module)
    instance = DerasInstance.get()
    snapshot = snapshot_of(loaded.definitions, LocationRef.from_json(loaded.location or {}))
    views: list[Any] = []
    if "schedule" in kinds:
        views += list_schedules(instance, snapshot, ticks=1, dags="dag" in kinds)
    if "sensor" in kinds:
        views += [s for s in list_sensors(instance, snapshot) if s.kind != "automation"]
    rows = []
    for view in views:
        last = view.last_tick
        rows.append(
            {
                "name": view.name,
                "kind": view.kind if view.kind in ("schedule", "dag") else "sensor",
                "status": view.status,
                "when": _when(view),
                "next_tick": view.next_tick if view.kind in ("schedule", "dag") else None,
                "last_tick": None
                if last is None
                else {
                    "time": datetime.fromtimestamp(last.tick_time, UTC).isoformat(),
                    "status": last.status,
                    "run_ids": last.run_ids,
                    "skip_reason": last.skip_reason,
                    "error": last.error_message,
                },
            }
        )
    return rows


def _run_scope(instance: DerasInstance, run_id: str) -> str | None:
    run = instance.get_run(run_id)
    return (run.scope or None) if run is not None else None


def _last_line(error: str | None) -> str | None:
    """An error's last line (the exception), not the traceback stored with the tick."""
    lines = (error or "").strip().splitlines()
    return lines[-1] if lines else None


def _when(view: Any) -> str:
    if view.kind == "schedule":
        return f"{view.cron} ({view.timezone})"
    if view.kind == "dag":
        return str(view.cron)
    return f"every {view.minimum_interval:g}s"


def _preview(inst: Any, now: datetime, n: int) -> list[datetime]:
    if inst.kind == "dag":
        end = inst.definition.end_date  # a DAG's runs stop at its end_date: so do its ticks
        ticks = list(inst.definition.schedule.preview(n, now))
        return [t for t in ticks if end is None or t <= end]
    return list(inst.definition.next_tick_times(now, n))


def _print_rows(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows))
        return
    from rich.table import Table

    table = Table()
    for col in ("name", "kind", "status", "when", "next tick", "last tick"):
        table.add_column(col)
    for r in rows:
        last = r["last_tick"]
        table.add_row(
            r["name"],
            r["kind"],
            r["status"],
            r["when"],
            r["next_tick"] or "",
            f"{last['time']} {last['status']}" if last else "",
        )
    print_table(table)


def _set_status(name: str, status: str, kinds: tuple[Any, ...], file: str | None, module: str | None) -> None:
    from .._core.errors import DerasError
    from .._daemon.instigators import find_instigator

    loaded = load_code(file, module)
    try:
        inst = find_instigator(loaded.definitions, name, kinds)
    except DerasError as err:
        fail(str(err))
        return
    DerasInstance.get().store.ticks.set_status(inst.key, status, time.time())
    click.echo(f"{inst.key}: {status}")


@schedule_group.command("list")
@code_options
@click.option("--json", "as_json", is_flag=True)
def schedule_list(file: str | None, module: str | None, as_json: bool) -> None:
    """Every schedule and scheduled DAG, with its status, next tick and last tick."""
    _print_rows(_rows(("schedule", "dag"), file, module), as_json)


@schedule_group.command("start")
@click.argument("name")
@code_options
def schedule_start(name: str, file: str | None, module: str | None) -> None:
    """Turn a schedule on (it owes ticks from now on)."""
    _set_status(name, "running", ("schedule", "dag"), file, module)


@schedule_group.command("stop")
@click.argument("name")
@code_options
def schedule_stop(name: str, file: str | None, module: str | None) -> None:
    """Turn a schedule off."""
    _set_status(name, "stopped", ("schedule", "dag"), file, module)


@schedule_group.command("preview")
@click.argument("name")
@click.option("-n", "count", type=click.IntRange(min=1), default=5, show_default=True)
@code_options
@click.option("--json", "as_json", is_flag=True)
def schedule_preview(name: str, count: int, file: str | None, module: str | None, as_json: bool) -> None:
    """The next N ticks, in the schedule's timezone."""
    from .._core.errors import DerasError
    from .._daemon.instigators import find_instigator

    loaded = load_code(file, module)
    try:
        inst = find_instigator(loaded.definitions, name, ("schedule", "dag"))
    except DerasError as err:
        fail(str(err))
        return
    ticks = [t.isoformat() for t in _preview(inst, datetime.now(UTC), count)]
    click.echo(json.dumps(ticks) if as_json else "\n".join(ticks))


@sensor_group.command("list")
@code_options
@click.option("--json", "as_json", is_flag=True)
def sensor_list(file: str | None, module: str | None, as_json: bool) -> None:
    """Every sensor, with its status and last tick."""
    _print_rows(_rows(("sensor",), file, module), as_json)


@sensor_group.command("start")
@click.argument("name")
@code_options
def sensor_start(name: str, file: str | None, module: str | None) -> None:
    """Turn a sensor on."""
    _set_status(name, "running", ("sensor",), file, module)


@sensor_group.command("stop")
@click.argument("name")
@code_options
def sensor_stop(name: str, file: str | None, module: str | None) -> None:
    """Turn a sensor off."""
    _set_status(name, "stopped", ("sensor",), file, module)


@sensor_group.command("tick")
@click.argument("name")
@code_options
@click.option("--no-execute", is_flag=True, help="Only queue the requested runs (a daemon launches them).")
@click.option("--json", "as_json", is_flag=True)
def sensor_tick(name: str, file: str | None, module: str | None, no_execute: bool, as_json: bool) -> None:
    """Evaluate a sensor once and launch the runs it requests (a run_key seen before launches nothing)."""
    from .._core.errors import DerasError
    from .._daemon.daemon_context import DaemonContext
    from .._daemon.run_worker import execute_stored_run
    from .._daemon.sensor_runner import SensorRunner
    from .._defs.code_cache import CodeCache

    loaded = load_code(file, module)
    instance = DerasInstance.get()
    ctx = DaemonContext(instance, loaded.definitions, loaded.location)
    try:
        tick = SensorRunner(ctx).tick_sensor(name, time.time())
    except DerasError as err:
        fail(str(err))
        return
    finally:
        if ctx.user_code is not None:
            ctx.user_code.shutdown()
    if tick is None:  # its (sensor, time) tick was claimed by another process first
        fail(f"sensor {name} is being evaluated by another process right now; try again")
    statuses = {}
    if not no_execute:
        code = CodeCache()
        for run_id in tick.run_ids:
            statuses[run_id] = str(execute_stored_run(instance, run_id, code=code))
    # what each run is for (its partition, range or logical date), as `runs list` shows it
    scopes = {run_id: _run_scope(instance, run_id) for run_id in tick.run_ids}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "status": str(tick.status),
                    "run_ids": tick.run_ids,
                    "runs": statuses,
                    "partitions": scopes,
                    "skip_reason": tick.skip_reason,
                    "error": tick.error,
                }
            )
        )
    else:
        outcome = tick.skip_reason or _last_line(tick.error) or ", ".join(tick.run_ids)
        click.echo(f"tick {tick.status}: {outcome}")
        for run_id in tick.run_ids:
            words = [run_id, scopes[run_id] or "", statuses.get(run_id, "queued")]
            click.echo("run " + " ".join(w for w in words if w))
    failed = str(tick.status) == "failure" or any(s != "success" for s in statuses.values())
    sys.exit(1 if failed else 0)
