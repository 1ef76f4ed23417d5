"""``deras worker``: a real Celery worker that runs deras steps, with the code imported once."""

from __future__ import annotations

import secrets
import socket
import warnings
from collections.abc import Callable
from typing import Any

from .._exec.ports import InstanceLike
from . import step_task
from .app import TASK_NAME, celery_app, require_celery


def start_worker(
    broker_url: str,
    queues: list[str],
    *,
    concurrency: int | None,
    pool: str,
    location: dict[str, str],
    definitions: Any,
    open_instance: Callable[[], InstanceLike],
    loglevel: str = "INFO",
) -> int:
    """Run a Celery worker consuming ``queues`` until it is stopped; returns its exit code.

    The code is imported here, before the worker forks its pool: every pool process has it
    (and a replaced process too) without importing it again; each opens the instance with
    ``open_instance``. SIGTERM is a warm shutdown (running steps finish), as in Celery.
    """
    require_celery()
    from celery.exceptions import SecurityWarning

    app = celery_app(broker_url, queue=queues[0])

    @app.task(name=TASK_NAME)
    def run_step(payload: dict[str, Any]) -> str:
        return step_task.run_step(payload)

    hostname = f"deras-{secrets.token_hex(3)}@{socket.gethostname()}"
    step_task.celery_hostname = hostname
    step_task.preload(location, definitions, open_instance)
    # Celery warns when a worker runs as root (containers often do), and with warnings as
    # errors that would stop it: the operator chose this.
    warnings.filterwarnings("ignore", category=SecurityWarning)
    worker = app.Worker(
        hostname=hostname,
        queues=queues,
        concurrency=concurrency,
        pool_cls=pool,
        loglevel=loglevel,
        quiet=True,
        without_mingle=True,
        without_gossip=True,
        without_heartbeat=True,
        optimization="fair",
    )
    worker.start()
    return int(worker.exitcode or 0)
