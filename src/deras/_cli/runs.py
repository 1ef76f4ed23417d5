"""``deras runs``: list, show, logs, re-execute and debug past runs."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from .._core.status import RunStatus
from .._instance.instance import DerasInstance
from .code import code_options, fail, given_dags_folder, load_code, load_location
from .executor_options import cli_executor, executor_options
from .tables import print_table


@click.group("runs")
def runs_group() -> None:
    """Inspect and re-run past runs (reads $DERAS_HOME only)."""


@runs_group.command("list")
@click.option("--limit", default=20, show_default=True)
@click.option("--status", type=click.Choice([s.value for s in RunStatus]), default=None)
@click.option("--json", "as_json", is_flag=True)
def list_runs(limit: int, status: str | None, as_json: bool) -> None:
    """The most recent runs, newest first; a running run whose process is gone says so."""
    from .._instance.views import list_runs as run_pages

    instance = DerasInstance.get()
    runs: list[Any] = []
    cursor = None
    while len(runs) < limit:  # the view's pages hold at most 1,000 runs
        page = run_pages(instance, status=status, limit=min(limit - len(runs), 1000), cursor=cursor)
        runs.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    if as_json:
        click.echo(json.dumps([r.to_json() for r in runs]))
        return
    from rich.table import Table

    table = Table()
    table.add_column("run id", no_wrap=True, min_width=36)  # whole, so it can be copied
    for name in ("status", "target", "partition / date", "started", "duration"):
        table.add_column(name)
    for r in runs:
        status_text = _status(r.status) + (" [red](owner gone)[/red]" if r.owner_gone else "")
        table.add_row(r.run_id, status_text, r.target, r.scope, _when(r.start_time), _duration(r))
    print_table(table)
    for r in runs:
        if r.owner_gone:
            click.echo(f"run {r.run_id}: {r.owner_gone}; `deras runs cancel {r.run_id}` ends it", err=True)


@runs_group.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
def show_run(run_id: str, as_json: bool) -> None:
    """One run with every node attempt."""
    from .._instance.views import run_detail

    instance = DerasInstance.get()
    detail = run_detail(instance, _get(instance, run_id).run_id)
    if detail is None:  # deleted since _get found it
        fail(f"no run with id {run_id}")
        return
    run = detail.summary
    if as_json:
        data = run.to_json()
        data["run_config"] = detail.run_config
        data["attempts"] = [
            {
                "node": node,
                "attempt": a.attempt,
                "try_number": a.try_number,
                "status": a.status,
                "start_time": a.start_time,
                "end_time": a.end_time,
                "error": a.error,
            }
            for node, a in detail.attempts_by_time
        ]
        click.echo(json.dumps(data))
        return
    click.echo(f"run {run.run_id}  {run.status}  {run.target}")
    if run.partition_key or run.partition_range:
        click.echo(f"partition: {run.scope}")
    elif run.logical_date is not None:
        click.echo(f"logical date: {run.scope}")
    if run.parent_run_id:
        click.echo(f"parent run: {run.parent_run_id}")
    if detail.run_config:
        click.echo(f"run config: {json.dumps(detail.run_config)}")
    click.echo(f"started {_when(run.start_time)}, took {_duration(run)}")
    for node, a in detail.attempts_by_time:
        took = f"{(a.end_time - a.start_time):.3f}s" if a.end_time and a.start_time else "-"
        err = f"  {a.error}" if a.error else ""
        tried = f"try {a.try_number}" if a.try_number else ""  # a node skipped before it ran had no try
        click.echo(f"  {node:<40} {tried:<5}  {a.status:<13} {took}{err}")
    for c in detail.checks:
        verdict = "passed" if c.passed else f"FAILED ({c.severity})"
        click.echo(f"check {c.check_name} on {c.asset_key}: {verdict}")
        for key, value in (c.metadata or {}).items():
            click.echo(f"    {key}: {json.dumps(value, default=str)}")


@runs_group.command("logs")
@click.argument("run_id")
@click.option("--node", default=None, help="Only this node's lines.")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="At most N records.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip the first N records.")
@click.option("--tail", type=click.IntRange(min=0), default=None, help="Only the last N records.")
def run_logs(run_id: str, node: str | None, limit: int | None, offset: int, tail: int | None) -> None:
    """The log of a run: every record, or a page (--limit/--offset, --tail).

    A record longer than 64 KiB characters is shown cut, with where to read it whole.
    """
    if tail is not None and offset:
        fail("--tail N shows the last N records; it cannot be combined with --offset")
    instance = DerasInstance.get()
    run = _get(instance, run_id)
    if tail == 0:
        return
    text = instance.get_logs(run.run_id, node=node, limit=limit, offset=-tail if tail else offset)
    if text:
        click.echo(text)


@runs_group.command("reexecute")
@click.argument("run_id")
@click.option("--from-failure/--all", default=True, help="Only the nodes that did not succeed (default).")
@code_options
@executor_options
def reexecute(run_id: str, from_failure: bool, file: str | None, module: str | None) -> None:
    """Run a past run again; succeeded nodes are not re-run, their outputs are loaded."""
    instance = DerasInstance.get()
    run = _get(instance, run_id)
    _refuse_dag_run(run)
    defs = _definitions(run, file, module)
    result = instance.reexecute(
        run.run_id, from_failure=from_failure, definitions=defs, executor=cli_executor()
    )
    click.echo(f"run {result.run_id} {result.status} (re-execution of {run_id})")
    for event in result.failure_events():
        click.echo(f"  ✗ {event.node}: {event.data.get('error')}", err=True)
    sys.exit(0 if result.success else 1)


@runs_group.command("debug")
@click.argument("run_id")
@click.argument("node")
@click.option(
    "--pdb", "use_pdb", is_flag=True, help="Stop in pdb at the node's first line (and post mortem)."
)
@code_options
def debug(run_id: str, node: str, use_pdb: bool, file: str | None, module: str | None) -> None:
    """Re-run NODE of a past run here, with its stored inputs, without re-running upstream."""
    from .._exec.debug import debug_node

    instance = DerasInstance.get()
    run = _get(instance, run_id)
    _refuse_dag_run(run)
    defs = _definitions(run, file, module)
    result = debug_node(instance, run.run_id, node, defs, use_pdb=use_pdb)
    for event in result.failure_events():
        # Masked like the stored logs: the events are what was stored.
        click.echo(event.data.get("traceback") or f"  ✗ {event.node}: {event.data.get('error')}", err=True)
    click.echo(f"debug run {result.run_id} {result.status}")
    sys.exit(0 if result.success else 1)


def _refuse_dag_run(run: Any) -> None:
    dag_id = run.dag_id
    if dag_id is not None:
        fail(
            f"run {run.run_id} is a run of DAG '{dag_id}': re-run its tasks in the same run with "
            f"`deras tasks clear {dag_id} --run {run.run_id} --task TASK [--downstream]`, or one task "
            f"alone with `deras tasks test {dag_id} TASK`"
        )


def _definitions(run: Any, file: str | None, module: str | None) -> Any:
    """The code named on the command line, else the code the run recorded."""
    if file or module or given_dags_folder():
        return load_code(file, module).definitions
    return _load_recorded(run)


def _load_recorded(run: Any) -> Any:
    loc = run.code_location or {}
    if not loc:
        fail(f"run {run.run_id} recorded no code location: pass -f FILE, -m MODULE or -d FOLDER")
    return load_location(loc).definitions


@runs_group.command("cancel")
@click.argument("run_id")
def cancel_run(run_id: str) -> None:
    """Cancel a run: a queued one at once, a running one between its nodes."""
    instance = DerasInstance.get()
    run = _get(instance, run_id)
    status = instance.cancel_run(run.run_id)
    click.echo(f"run {run.run_id} {status}")


def _get(instance: DerasInstance, run_id: str) -> Any:
    """The run with this id, or with this unique id prefix (``deras runs show 6ad5ae86``)."""
    run = instance.get_run(run_id)
    if run is not None:
        return run
    matches = [r for r in instance.get_runs(limit=10_000) if r.run_id.startswith(run_id)] if run_id else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        fail(f"run id prefix {run_id} is ambiguous: {', '.join(r.run_id for r in matches[:5])}")
    fail(f"no run with id {run_id}")
    return None


def _status(status: str) -> str:
    colour = {"success": "green", "failure": "red", "started": "yellow"}.get(status, "white")
    return f"[{colour}]{status}[/{colour}]"


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _duration(run: Any) -> str:
    if run.start_time and run.end_time:
        return f"{run.end_time - run.start_time:.2f}s"
    return "-"
