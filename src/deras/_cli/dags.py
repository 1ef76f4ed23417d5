"""``deras dags`` and ``deras tasks``: list, test, trigger and backfill DAGs; test and clear tasks."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import click

from .._core import tags as deras_tags
from .._instance.instance import DerasInstance
from .code import compat_option, fail, is_verbose, verbose_option
from .executor_options import cli_executor, executor_options
from .json_stdout import reserve_stdout_for_json


def dag_source_options(fn: Any) -> Any:
    fn = verbose_option(fn)
    fn = compat_option(fn)
    fn = click.option("-m", "--module", "module", help="Python module holding DAGs.")(fn)
    fn = click.option(
        "-f", "--file", "file", type=click.Path(dir_okay=False), help="A Python file holding DAGs."
    )(fn)
    return click.option(
        "-d",
        "--dags-folder",
        "folder",
        type=click.Path(file_okay=False),
        help="A folder of DAG files (every *.py in it).",
    )(fn)


def load_dags(folder: str | None, file: str | None, module: str | None) -> Any:
    """The DagBag of a folder, a file or a module (default: ./dags if it exists)."""
    from pathlib import Path

    from .._dags.folder import DagBag, collect_file, collect_module, load_dag_folder

    if folder:
        return load_dag_folder(folder)
    if file:
        bag = DagBag()
        collect_file(bag, Path(file))
        return bag
    if module:
        bag = DagBag()
        collect_module(bag, module)
        return bag
    if Path("dags").is_dir():
        return load_dag_folder("dags")
    fail("no DAGs to load: pass -d FOLDER, -f FILE or -m MODULE (or run where a ./dags folder is)")
    return None


def _load_dag(dag_id: str, folder: str | None, file: str | None, module: str | None) -> Any:
    return _get_dag(load_dags(folder, file, module), dag_id)


def _get_dag(bag: Any, dag_id: str) -> Any:
    if dag_id not in bag.dags:
        _echo_import_errors(bag)
        fail(f"no DAG '{dag_id}' (DAGs: {sorted(bag.dags)})")
    return bag.dags[dag_id]


def _import_errors(bag: Any) -> dict[str, str]:
    """Each file that failed to import: its code's traceback, or every frame with --verbose."""
    if is_verbose():
        return {path: bag.import_tracebacks.get(path, text) for path, text in bag.import_errors.items()}
    return dict(bag.import_errors)


def _echo_import_errors(bag: Any) -> None:
    for path, text in _import_errors(bag).items():
        click.echo(f"\nimport error in {path}:\n{text}", err=True)


def _dates_with_runs(dag: Any) -> set[float]:
    """Logical dates (as instants) that already have a successful or unfinished run."""
    runs = DerasInstance.get().get_runs(dag_id=dag.dag_id)
    return {
        r.logical_date.timestamp()
        for r in runs
        if r.logical_date is not None
        and deras_tags.TEST not in r.tags
        and r.status.value not in ("failure", "canceled")  # a backfill re-runs what did not work
    }


def _parse_date(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{text!r} is not a date: use YYYY-MM-DD or an ISO datetime")
        raise
    return value  # a naive date or time is a wall time in the DAG's own timezone


def _parse_conf(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as err:
        fail(f"--conf is not valid JSON: {err}")
        raise
    if not isinstance(conf, dict):
        fail("--conf must be a JSON object, e.g. '{\"n\": 3}'")
    return conf


def _run_json(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "dag_id": run.dag_id,
        "state": run.state,
        "run_type": run.run_type,
        "logical_date": run.logical_date.isoformat(),
        "task_instances": [
            {"task_id": ti.task_id, "map_index": ti.map_index, "state": ti.state, "try_number": ti.try_number}
            for ti in run.task_instances
        ],
    }


def _finish(run: Any, as_json: bool, json_out: TextIO | None = None) -> None:
    """Print the run (as JSON or a task table) and exit 1 unless it succeeded."""
    if as_json:
        click.echo(json.dumps(_run_json(run)), file=json_out)
    else:
        _report(run)
    sys.exit(0 if run.state == "success" else 1)


def _report(run: Any) -> None:
    click.echo(f"DAG run {run.run_id} {run.dag_id} @ {run.logical_date.isoformat()}: {run.state}")
    for ti in sorted(run.task_instances, key=lambda t: t.start_date or datetime.max.replace(tzinfo=UTC)):
        name = ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else "")
        tried = f"try {ti.try_number}" if ti.try_number else ""  # a task skipped before it ran: none
        click.echo(f"  {name:<32} {ti.state:<16} {tried}".rstrip())


@click.group("dags")
def dags_group() -> None:
    """Task-centric workflows: list, test, trigger and backfill DAGs."""


@dags_group.command("list")
@dag_source_options
@click.option("--json", "as_json", is_flag=True)
def list_dags(folder: str | None, file: str | None, module: str | None, as_json: bool) -> None:
    """Every DAG found, with its schedule; files that failed to import, with their tracebacks."""
    from .._defs.definitions import Definitions
    from .._instance.views.dags import list_dags as dag_summaries
    from .._snapshot.build import snapshot_of
    from .._snapshot.snapshot import LocationRef

    bag = load_dags(folder, file, module)
    snapshot = snapshot_of(Definitions(dags=list(bag.dags.values())), LocationRef())
    rows = [
        {
            "dag_id": d.dag_id,
            "file": bag.files.get(d.dag_id),
            "schedule": d.schedule,
            "tasks": d.tasks,
            "tags": d.tags,
            "last_run": None
            if d.last_run is None
            else {
                "run_id": d.last_run.run_id,
                "status": d.last_run.status,
                "logical_date": d.last_run.logical_date,
            },
            "next_run": d.next_run,
        }
        for d in dag_summaries(DerasInstance.get(), snapshot)
    ]
    if as_json:
        click.echo(json.dumps({"dags": rows, "import_errors": _import_errors(bag)}))
    else:
        # columns 30 and 16 wide, or as wide as their longest value ("every 1 day, 0:00:00")
        ids = max([30, *(len(r["dag_id"]) + 1 for r in rows)])
        when = max([16, *(len(r["schedule"]) + 1 for r in rows)])
        for row in sorted(rows, key=lambda r: r["dag_id"]):
            dag_id, schedule = row["dag_id"], row["schedule"]
            click.echo(f"{dag_id:<{ids}} {schedule:<{when}} {row['tasks']:>4} tasks  {row['file']}")
        _echo_import_errors(bag)
    if bag.import_errors:
        sys.exit(1)


def _run(
    dag: Any,
    *,
    logical_date: datetime | None,
    conf: dict[str, Any],
    run_type: str,
    tags: dict[str, str] | None = None,
) -> Any:
    from .._core.errors import DerasError
    from .._exec.dag_runs import run_dag

    try:
        return run_dag(
            dag,
            DerasInstance.get(),
            logical_date=logical_date,
            conf=conf,
            run_type=run_type,
            extra_tags=tags,
            executor=cli_executor(),
        )
    except DerasError as err:
        fail(str(err))
        raise


@dags_group.command("test")
@click.argument("dag_id")
@click.argument("logical_date", required=False)
@click.option("--conf", default=None, help="JSON object of run parameters.")
@click.option("--json", "as_json", is_flag=True, help="Print the run (and its task instances) as JSON.")
@dag_source_options
@executor_options
def test_dag(
    dag_id: str,
    logical_date: str | None,
    conf: str | None,
    folder: str | None,
    file: str | None,
    module: str | None,
    as_json: bool,
) -> None:
    """Run every task of a DAG once, here, and show the task instances (exit 1 if it failed)."""
    dag = _load_dag(dag_id, folder, file, module)
    run = _run(
        dag,
        logical_date=_parse_date(logical_date),
        conf=_parse_conf(conf),
        run_type="manual",
        tags={deras_tags.TEST: "true"},
    )
    _finish(run, as_json)


@dags_group.command("trigger")
@click.argument("dag_id")
@click.option(
    "--conf", default=None, help="JSON object of run parameters, validated against the DAG's params."
)
@click.option("--logical-date", default=None)
@click.option("--json", "as_json", is_flag=True)
@dag_source_options
@executor_options
def trigger_dag(
    dag_id: str,
    conf: str | None,
    logical_date: str | None,
    as_json: bool,
    folder: str | None,
    file: str | None,
    module: str | None,
) -> None:
    """Start a manual DAG run now (in this process until the daemon queues it)."""
    dag = _load_dag(dag_id, folder, file, module)
    run = _run(dag, logical_date=_parse_date(logical_date), conf=_parse_conf(conf), run_type="manual")
    _finish(run, as_json)


@dags_group.command("backfill")
@click.argument("dag_id")
@click.option("--start", "-s", "start", required=True, help="First logical date (inclusive).")
@click.option("--end", "-e", "end", required=True, help="Last logical date (inclusive).")
@click.option("--conf", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the run (and its task instances) as JSON.")
@dag_source_options
@executor_options
def backfill_dag(
    dag_id: str,
    start: str,
    end: str,
    conf: str | None,
    folder: str | None,
    file: str | None,
    module: str | None,
    as_json: bool,
) -> None:
    """Run the DAG for every scheduled logical date from START to END, oldest first."""
    dag = _load_dag(dag_id, folder, file, module)
    from .._dags.dag_run import in_dag_timezone
    from .._dags.run_window import describe_window, scheduled_dates

    first, last = _parse_date(start), _parse_date(end)
    assert first is not None and last is not None
    first, last = in_dag_timezone(dag, first), in_dag_timezone(dag, last)
    dates, outside = scheduled_dates(dag, first, last)
    if outside and not dates:
        fail(
            f"DAG '{dag_id}' runs {describe_window(dag)} (start_date to end_date): none of its logical "
            f"dates from {start} to {end} lies in that window, so nothing ran"
        )
    if not dates:
        fail(
            f"DAG '{dag_id}' has no scheduled logical dates from {start} to {end} "
            f"(schedule: {dag.schedule_arg})"
        )
    if outside:  # nothing runs outside start_date..end_date; say so rather than drop them quietly
        shown = ", ".join(d.isoformat() for d in outside[:3]) + (", ..." if len(outside) > 3 else "")
        click.echo(
            f"{len(outside)} logical date(s) outside the DAG's window ({describe_window(dag)}) "
            f"not run: {shown}",
            err=True,
        )
    done = _dates_with_runs(dag)
    skipped = [d for d in dates if d.timestamp() in done]
    dates = [d for d in dates if d.timestamp() not in done]
    for logical_date in skipped:
        if not as_json:
            click.echo(f"{logical_date.isoformat()}  already has a run: skipped (clear its tasks to re-run)")
    failed = 0
    results = []
    # One at a time, in order: never more than max_active_runs (≥ 1) runs at once.
    for logical_date in dates:
        run = _run(dag, logical_date=logical_date, conf=_parse_conf(conf), run_type="backfill")
        results.append(run)
        if not as_json:
            click.echo(f"{logical_date.isoformat()}  {run.run_id}  {run.state}")
        failed += run.state != "success"
    if as_json:
        click.echo(
            json.dumps(
                {
                    "runs": [_run_json(r) for r in results],
                    "skipped": [d.isoformat() for d in skipped],
                    "outside_window": [d.isoformat() for d in outside],
                }
            )
        )
    else:
        click.echo(f"backfill of {len(dates)} run(s): {len(dates) - failed} succeeded, {failed} failed")
    sys.exit(1 if failed else 0)


@click.group("tasks")
def tasks_group() -> None:
    """Run one task, or clear task instances of a DAG run so they run again."""


@tasks_group.command("test")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("logical_date", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the run (and its task instances) as JSON.")
@dag_source_options
def test_task(
    dag_id: str,
    task_id: str,
    logical_date: str | None,
    folder: str | None,
    file: str | None,
    module: str | None,
    as_json: bool,
) -> None:
    """Run one task alone (upstream XComs are not available), recorded as a test run."""
    from .._exec.dag_runs import run_dag

    json_out = reserve_stdout_for_json() if as_json else None  # the task's echoed output: stderr
    dag = _load_dag(dag_id, folder, file, module)
    dag.get_task(task_id)
    run = run_dag(
        dag,
        DerasInstance.get(),
        logical_date=_parse_date(logical_date),
        only_tasks=[task_id],
        extra_tags={deras_tags.TEST: "true"},
        echo_output=True,
    )
    _finish(run, as_json, json_out)


@tasks_group.command("clear")
@click.argument("dag_id")
@click.option("--run", "run_id", required=True, help="The DAG run whose task instances to clear.")
@click.option("--task", "-t", "task_ids", multiple=True, required=True, help="Task id (repeatable).")
@click.option("--downstream", is_flag=True, help="Also clear every task downstream of them.")
@click.option("--json", "as_json", is_flag=True, help="Print the run (and its task instances) as JSON.")
@dag_source_options
def clear_tasks(
    dag_id: str,
    run_id: str,
    task_ids: tuple[str, ...],
    downstream: bool,
    folder: str | None,
    file: str | None,
    module: str | None,
    as_json: bool,
) -> None:
    """Run the given task instances again in the same DAG run, with the next try number."""
    from .._exec.dag_runs import clear_task_instances

    dag = _load_dag(dag_id, folder, file, module)
    run = clear_task_instances(dag, DerasInstance.get(), run_id, list(task_ids), downstream=downstream)
    _finish(run, as_json)
