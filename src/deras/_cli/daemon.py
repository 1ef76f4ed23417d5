"""``deras daemon run`` and ``deras run-worker``: the processes that run things on their own."""

from __future__ import annotations

import json
import logging
import sys

import click

from .._instance.instance import DerasInstance
from .code import code_options, fail, load_code


def _log_to_stderr(level: int = logging.INFO) -> None:
    root = logging.getLogger("deras")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(level)


@click.group("daemon")
def daemon_group() -> None:
    """The daemon: schedules, sensors, backfills, automation, the run queue and monitor."""


@daemon_group.command("run")
@code_options
@click.option("--max-seconds", type=float, default=None, help="Stop after this long (for scripts and tests).")
def daemon_run(file: str | None, module: str | None, max_seconds: float | None) -> None:
    """Run the daemon in the foreground until SIGTERM or Ctrl-C."""
    from .._daemon.daemon import Daemon
    from .._storage.health import require_healthy

    _log_to_stderr()
    loaded = load_code(file, module)
    instance = DerasInstance.get()
    require_healthy(instance.store.url)  # damage found now, not as tracebacks in every pass
    daemon = Daemon(instance, loaded.definitions, loaded.location)
    daemon.install_signal_handlers()
    click.echo(
        f"deras daemon: {instance.home} ({len(loaded.definitions.schedules)} schedules, "
        f"{len(loaded.definitions.sensors)} sensors, {len(loaded.definitions.dags)} DAGs)",
        err=True,
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

    _log_to_stderr(logging.WARNING)
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
