"""``deras worker``: run the steps of runs that use the Celery executor."""

from __future__ import annotations

import sys

import click

from .code import code_options, load_code


@click.command("worker")
@code_options
@click.option(
    "--broker",
    envvar="DERAS_BROKER_URL",
    required=True,
    help="redis://... or amqp://... ($DERAS_BROKER_URL).",
)
@click.option(
    "-Q", "--queues", default="default", show_default=True, help="Queues to take steps from, comma-separated."
)
@click.option(
    "-c", "--concurrency", type=click.IntRange(min=1), default=None, help="Steps at once (default: CPUs)."
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
    help="prefork: a process per concurrent step, each node's crash its own.",
)
@click.option("--loglevel", default="INFO", show_default=True)
def worker_command(
    file: str | None,
    module: str | None,
    broker: str,
    queues: str,
    concurrency: int | None,
    pool: str,
    loglevel: str,
) -> None:
    """A Celery worker for deras steps, on this machine's $DERAS_HOME / DERAS_DATABASE_URL."""
    from .._celery.worker import start_worker
    from .._instance.instance import DerasInstance

    loaded = load_code(file, module)
    names = [q.strip() for q in queues.split(",") if q.strip()]
    if not names:
        raise click.UsageError("-Q: give at least one queue name")
    code = start_worker(
        broker,
        names,
        concurrency=concurrency,
        pool=pool,
        location=loaded.location,
        definitions=loaded.definitions,
        open_instance=DerasInstance.get,
        loglevel=loglevel,
    )
    sys.exit(code)
