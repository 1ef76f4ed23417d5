"""The Celery app of deras: one task, ``deras.run_step``, and settings that fit long steps.

Liveness of a running step is the metadata store's business (claims and heartbeats, see
``_storage/step_claims.py``), not the broker's, so:

* a message is acknowledged when a worker process *accepts* it (Celery's default ``acks_late``
  off): a message reserved by a worker that dies before starting it is redelivered (RabbitMQ at
  once, when the connection drops; Redis after ``visibility_timeout``), but one that a running
  step holds is not — so neither Redis's visibility timeout (a second execution) nor RabbitMQ's
  ``consumer_timeout`` (the worker killed) applies to a step that runs for hours;
* a worker reserves no more than it runs (prefetch multiplier 1; on Redis no prefetch at all
  while every process is busy), so a long step never holds a message another worker could run;
* results are ignored: outcomes go to the metadata store, which the coordinator watches.

A redelivered message of a step that ran meanwhile finds its claim taken and does nothing.
"""

from __future__ import annotations

import os
from typing import Any

from .._core.errors import ConfigError

TASK_NAME = "deras.run_step"
DEFAULT_QUEUE = "default"
QUEUE_TAG = "deras/queue"  # on an asset or task: the queue its steps go to

# A message a dead worker had reserved comes back after this long on Redis (kombu's default,
# an hour, would leave the step waiting); running steps are acked, so it never repeats one.
# DERAS_CELERY_VISIBILITY_TIMEOUT changes it (tests shorten it to show a long step runs once).
REDIS_VISIBILITY_TIMEOUT_SECONDS = 60.0


def require_celery() -> None:
    """Raise a ConfigError naming the extra to install when Celery is not installed."""
    try:
        import celery  # noqa: F401
    except ImportError as err:
        raise ConfigError(
            "the celery executor and `deras worker` need Celery: pip install 'deras[celery]'"
        ) from err


def celery_app(broker_url: str, *, queue: str = DEFAULT_QUEUE) -> Any:
    """A Celery app on ``broker_url`` with deras's settings (see the module docstring)."""
    require_celery()
    from celery import Celery

    app = Celery("deras", broker=broker_url, set_as_current=False)
    transport: dict[str, Any] = {}
    if broker_url.startswith(("redis://", "rediss://")):
        visibility = float(
            os.environ.get("DERAS_CELERY_VISIBILITY_TIMEOUT", REDIS_VISIBILITY_TIMEOUT_SECONDS)
        )
        transport = {
            "visibility_timeout": visibility,
            # Look for messages of dead workers every 5 s (kombu: every 100 s).
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
            # A broker that takes the connection but never answers must not hang a send.
            "socket_timeout": 5,
            "socket_connect_timeout": 5,
        }
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        worker_disable_prefetch=broker_url.startswith(("redis://", "rediss://")),
        task_default_queue=queue,
        broker_transport_options=transport,
        broker_connection_timeout=5,
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # A broker restart of a few seconds is ridden out; a longer outage fails the send.
        task_publish_retry_policy={
            "max_retries": 10,
            "interval_start": 0.5,
            "interval_step": 0.5,
            "interval_max": 1.0,
        },
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
    )
    return app
