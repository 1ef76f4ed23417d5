"""``deras daemon run`` and ``deras run-worker``: the processes that run things on their own."""

from __future__ import annotations

import json
import logging
import os
import sys

import click

from .._instance.instance import DerasInstance
from .code import code_options, fail, is_verbose, load_code
from .log_format import FORMATS, log_to_stderr


@click.group("daemon")
def daemon_group() -> None:
    """The daemon: schedules, sensors, backfills, automation, the run queue and monitor."""


@daemon_group.command("run")
@code_options
@click.option("--max-seconds", type=float, default=None, help="Stop after this long (for scripts and tests).")
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default="text",
    envvar="DERAS_LOG_FORMAT",
    show_default=True,
    help="How to write the log on stderr: text, or one JSON object per line (for log shippers).",
)
def daemon_run(file: str | None, module: str | None, max_seconds: float | None, log_format: str) -> None:
    """Run the daemon in the foreground until SIGTERM or Ctrl-C.

    It logs one line per tick evaluated, run launched or ended, backfill step, takeover and
    recovery, and nothing while idle; --verbose adds repeated skips and debug lines.
    """
    from .._daemon.daemon import Daemon
    from .._storage.health import require_healthy

    log_to_stderr(logging.DEBUG if is_verbose() else logging.INFO, log_format)
    os.environ["DERAS_LOG_FORMAT"] = log_format  # its run workers log the same way
    loaded = load_code(file, module)
    instance = DerasInstance.get()
    require_healthy(instance.store.url)  # damage found now, not as tracebacks in every pass
    daemon = Daemon(instance, loaded.definitions, loaded.location)
    daemon.install_signal_handlers()
    defs = loaded.definitions
    logging.getLogger("deras.daemon").info(
        "deras daemon: %s (%d schedules, %d sensors, %d DAGs)",
        instance.home,
        len(defs.schedules),
        len(defs.sensors),
        len(defs.dags),
        extra={"deras": {"event": "daemon_config", "home": str(instance.home)}},
    )
    daemon.run(max_seconds=max_seconds)


@click.command("run-worker")
@click.argument("run_id", required=False)
@click.option("--serve", is_flag=True, help="Read run ids from stdin, one per line (the warm pool).")
@click.option("--preload", default=None, help="JSON code location to import before the first run.")
def run_worker_command(run_id: str | None, serve: bool, preload: str | None) -> None:
    """Execute a stored (queued) run in this process; exit 1 unless it succeeds."""
    from .._daemon.run_worker import execute_stored_run
    from .._daemon.run_worker import serve as serve_runs

    # On a copy of stderr: while a node runs, fd 2 is its captured output, and the worker's
    # own warnings (a failed heartbeat) belong in the daemon's log, not in the node's.
    log_to_stderr(
        logging.WARNING, os.environ.get("DERAS_LOG_FORMAT", "text"), os.fdopen(os.dup(2), "w", buffering=1)
    )
    instance = DerasInstance.get()
    if serve:
        serve_runs(instance, json.loads(preload) if preload else None)
        return
    if not run_id:
        fail("give a RUN_ID, or --serve")
        return
    status = execute_stored_run(instance, run_id)
    click.echo(f"run {run_id} {status}")
    sys.exit(0 if str(status) == "success" else 1)
