"""Running the nodes of runs on Celery workers, on one machine or many.

>>> from deras.celery import CeleryExecutor
>>> CeleryExecutor("redis://127.0.0.1:6379/0", queue="default").queue
'default'

Start workers with ``deras worker -f defs.py --broker redis://... [-Q QUEUE] [--concurrency N]``
(each imports the code once), all on the metadata database of the coordinating process
(``DERAS_DATABASE_URL``: Postgres for workers on several machines) and with the values' storage
shared (the same ``$DERAS_HOME/storage`` path, or IO managers on shared storage). A node goes to
the queue its ``deras/queue`` tag names, else to the executor's.
"""

from __future__ import annotations

import os
from typing import Any

from ._core.errors import ConfigError
from ._exec.executor import RunSetup

__all__ = ["CeleryExecutor"]


class CeleryExecutor:
    """Send each step to a Celery queue; ``deras worker`` processes claim and run them.

    ``broker_url`` (default ``$DERAS_BROKER_URL``): Redis (``redis://``) or RabbitMQ
    (``amqp://``). ``max_concurrent`` caps the steps of one run out at once (None: as many as
    are ready; the workers' concurrency bounds what runs). A step whose worker stops beating for
    ``heartbeat_timeout_seconds`` runs again elsewhere. A step no worker claimed within
    ``resend_after_seconds`` is sent once more (its message may have been lost with a broker
    that restarted without keeping it); one still unclaimed after ``unclaimed_timeout_seconds``
    fails, saying so.
    """

    name = "celery"

    def __init__(
        self,
        broker_url: str | None = None,
        queue: str = "default",
        *,
        max_concurrent: int | None = None,
        heartbeat_timeout_seconds: float = 30.0,
        resend_after_seconds: float = 60.0,
        unclaimed_timeout_seconds: float = 300.0,
        tag_concurrency_limits: list[dict[str, Any]] | None = None,
    ) -> None:
        url = broker_url or os.environ.get("DERAS_BROKER_URL")
        if not url:
            raise ConfigError(
                "CeleryExecutor needs a broker: CeleryExecutor(broker_url='redis://host:6379/0') "
                "or DERAS_BROKER_URL"
            )
        if not url.startswith(("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")):
            raise ConfigError(f"CeleryExecutor(broker_url={url!r}): use a redis:// or amqp:// URL")
        if max_concurrent is not None and (not isinstance(max_concurrent, int) or max_concurrent < 1):
            raise ConfigError(f"CeleryExecutor(max_concurrent={max_concurrent!r}): give a whole number >= 1")
        if min(heartbeat_timeout_seconds, resend_after_seconds, unclaimed_timeout_seconds) <= 0:
            raise ConfigError("CeleryExecutor: timeouts must be positive numbers of seconds")
        self.broker_url = url
        self.queue = queue
        self.max_concurrent = max_concurrent
        self.heartbeat_timeout_seconds = float(heartbeat_timeout_seconds)
        self.resend_after_seconds = float(resend_after_seconds)
        self.unclaimed_timeout_seconds = float(unclaimed_timeout_seconds)
        self.tag_concurrency_limits = list(tag_concurrency_limits or [])

    def start(self, setup: RunSetup) -> Any:
        from ._celery.dispatch import CeleryRunSteps

        instance = setup.scope.instance
        if instance.is_ephemeral:
            raise ConfigError(
                "CeleryExecutor runs steps in other processes, which need the run's metadata "
                "database: pass instance=dg.DerasInstance.get() (DERAS_DATABASE_URL shared with "
                "the workers)"
            )
        return CeleryRunSteps(setup, self)

    def __repr__(self) -> str:
        return f"CeleryExecutor(queue={self.queue!r})"
