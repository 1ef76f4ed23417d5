"""``deras backfill``: launch, list, show, cancel, retry-failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from .._core.errors import DerasError
from .._core.status import BackfillStatus
from .._core.wording import count
from .._instance.instance import DerasInstance
from .code import code_options, fail, given_dags_folder, load_code
from .tables import print_table


@click.group("backfill")
def backfill_group() -> None:
    """Backfills: a target over many partitions, run by the daemon."""


@backfill_group.command("launch")
@code_options
@click.option("--job", default=None, help="A job (or DAG) name.")
@click.option("--dag", "dag_id", default=None, help="A DAG id (partitions are logical dates).")
@click.option("--select", "selection", default=None, help="An asset selection, e.g. 'sales+'.")
@click.option("--partitions", default=None, help="Comma-separated partition keys.")
@click.option("--from", "first", default=None, help="First partition key (or date) of a range.")
@click.option("--to", "last", default=None, help="Last partition key (or date) of a range, inclusive.")
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE, repeatable.")
@click.option("--json", "as_json", is_flag=True)
def launch(
    file: str | None,
    module: str | None,
    job: str | None,
    dag_id: str | None,
    selection: str | None,
    partitions: str | None,
    first: str | None,
    last: str | None,
    tags: tuple[str, ...],
    as_json: bool,
) -> None:
    """Store a backfill; the daemon queues and runs it."""
    targets = [t for t in (job, dag_id, selection) if t]
    if len(targets) != 1:
        fail("give exactly one of --job, --dag or --select")
    if (first is None) != (last is None):
        fail("--from and --to go together")
    if partitions and first is not None:
        fail("give --partitions or --from/--to, not both")
    bad_tags = [t for t in tags if "=" not in t]
    if bad_tags:
        fail(f"--tag takes KEY=VALUE, got {bad_tags}")
    loaded = load_code(file, module)
    instance = DerasInstance.get()
    parsed_tags = dict(t.split("=", 1) for t in tags)
    try:
        backfill_id = instance.launch_backfill(
            targets[0],
            partition_keys=[k.strip() for k in partitions.split(",") if k.strip()] if partitions else None,
            partition_range=(first, last) if first is not None and last is not None else None,
            definitions=loaded.definitions,
            code_location=loaded.location,
            tags=parsed_tags,
        )
    except DerasError as err:
        fail(str(err))
        return
    view = instance.get_backfill(backfill_id)
    if as_json:
        click.echo(json.dumps(view.to_json()))
    else:
        click.echo(f"backfill {backfill_id}: {count(view.record.num_units, 'run')} to queue ({view.status})")


@backfill_group.command("list")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def list_backfills(limit: int, as_json: bool) -> None:
    """Recent backfills, newest first (reads $DERAS_HOME only)."""
    from .._instance.views.backfills import list_backfills as backfill_page

    summaries = backfill_page(DerasInstance.get(), limit=limit).items
    if as_json:
        click.echo(json.dumps([b.to_json() for b in summaries]))
        return
    from rich.table import Table

    table = Table()
    for col in ("backfill id", "status", "target", "partitions", "done", "failed", "created"):
        table.add_column(col)
    for b in summaries:
        counts = b.counts
        table.add_row(
            b.backfill_id,
            b.status,
            b.target_label,
            str(b.num_partitions),
            f"{counts['success']}/{b.num_units}",
            str(counts["failure"] + counts["skipped"]),
            datetime.fromtimestamp(b.create_time, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        )
    print_table(table)


@backfill_group.command("show")
@click.argument("backfill_id")
@click.option("--json", "as_json", is_flag=True)
def show(backfill_id: str, as_json: bool) -> None:
    """One backfill with each partition's status."""
    from .._instance.views.backfills import backfill_detail

    detail = backfill_detail(DerasInstance.get(), _get(backfill_id).backfill_id)
    if detail is None:
        fail(f"no backfill with id {backfill_id}")
        return
    summary = detail.summary
    statuses = {p.partition_key: p.status for p in detail.partitions}
    if as_json:
        click.echo(
            json.dumps(
                {
                    **summary.to_json(),
                    "partitions": statuses,
                    "partition_counts": detail.partition_counts,
                    "ranges": detail.ranges,
                }
            )
        )
        return
    click.echo(f"backfill {summary.backfill_id}  {summary.status}  {summary.target_label}")
    click.echo("  " + "  ".join(f"{k}: {n}" for k, n in summary.counts.items() if n))
    for key, status in statuses.items():
        click.echo(f"  {key or '(unpartitioned)'}  {status}")


@backfill_group.command("cancel")
@click.argument("backfill_id")
def cancel(backfill_id: str) -> None:
    """Cancel: nothing new is queued, queued runs are canceled, running ones asked to stop."""
    instance = DerasInstance.get()
    full_id = _get(backfill_id).backfill_id
    try:
        instance.cancel_backfill(full_id)
    except DerasError as err:
        fail(str(err))
    status = instance.get_backfill(full_id).status
    if status not in (BackfillStatus.CANCELING, BackfillStatus.CANCELED):
        fail(f"backfill {full_id} is {status}: there is nothing to cancel")
    click.echo(f"backfill {full_id}: {status}")


@backfill_group.command("retry-failed")
@click.argument("backfill_id")
@code_options
def retry_failed(backfill_id: str, file: str | None, module: str | None) -> None:
    """A new backfill of the partitions that failed (or were skipped because of a failure)."""
    instance = DerasInstance.get()
    view = _get(backfill_id)
    backfill_id = view.backfill_id
    location = view.record.code_location if not (file or module or given_dags_folder()) else None
    loaded = load_code(file, module) if location is None else None
    try:
        new_id = instance.retry_failed_backfill(
            backfill_id,
            definitions=loaded.definitions if loaded else None,
            code_location=loaded.location if loaded else location,
        )
    except DerasError as err:
        fail(str(err))
        return
    click.echo(f"backfill {new_id}: retries the failed partitions of {backfill_id}")


def _get(backfill_id: str) -> Any:
    instance = DerasInstance.get()
    matches = [b for b in instance.get_backfills() if b.backfill_id.startswith(backfill_id)]
    if len(matches) != 1:
        fail(f"no backfill with id {backfill_id}" if not matches else f"'{backfill_id}' is ambiguous")
    return instance.get_backfill(matches[0].backfill_id)
