"""``deras``: the command line entry point."""

from __future__ import annotations

import sys

import click

from .._core.errors import DerasError
from .backfill import backfill_group
from .check import check_command
from .code_snapshot import code_group
from .daemon import daemon_group, run_worker_command
from .dags import dags_group, tasks_group
from .db import db_group
from .materialize import job_group, materialize_command
from .runs import runs_group
from .schedules import schedule_group, sensor_group
from .variables import variables_group
from .web import dev_command, web_command
from .worker import worker_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="deras")
def cli() -> None:
    """deras — a fast data orchestrator: assets and DAGs on one engine."""


cli.add_command(materialize_command)
cli.add_command(job_group)
cli.add_command(check_command)
cli.add_command(code_group)
cli.add_command(runs_group)
cli.add_command(db_group)
cli.add_command(dags_group)
cli.add_command(tasks_group)
cli.add_command(daemon_group)
cli.add_command(run_worker_command)
cli.add_command(schedule_group)
cli.add_command(sensor_group)
cli.add_command(backfill_group)
cli.add_command(worker_command)
cli.add_command(web_command)
cli.add_command(dev_command)
cli.add_command(variables_group)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except DerasError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
