"""The Celery executor across restarts of its broker and of Postgres (only when asked: they
break every other session using those servers)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from typing import Any

import pytest

import deras as dg
from deras._defs.loader import load_definitions
from deras.celery import CeleryExecutor

EventType = dg.EventType

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.parametrize("db_url", ["postgres"], indirect=True),
]

LAYERS = """
import time
import deras as dg

def node(layer, j):
    deps = [f"l{layer - 1}_{k}" for k in range(4)] if layer else []

    @dg.asset(name=f"l{layer}_{j}", deps=deps)
    def body() -> int:
        time.sleep(0.3)
        return layer

    return body

defs = dg.Definitions(assets=[node(layer, j) for layer in range(6) for j in range(4)])
"""


def _restart_broker(url: str) -> None:
    if url.startswith("redis"):
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], check=False, timeout=60
        )
        start = "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --appendonly no"
        logs = "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
        subprocess.run([*start.split(), "--save", "", *logs.split()], check=True, timeout=60)
    else:
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, timeout=120, capture_output=True)
        subprocess.run(["rabbitmqctl", "start_app"], check=True, timeout=120, capture_output=True)


def _restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=120
    )


def _run_across(celery_env: Any, queue: str, restart: Any) -> tuple[Any, Any]:
    """Run the layered graph on two workers, calling ``restart(broker)`` once it is under way."""
    env, instance = celery_env(LAYERS)
    env.start_worker(queue)
    env.start_worker(queue)
    assets = load_definitions(file=str(env.code)).definitions.assets
    executor = CeleryExecutor(env.broker, queue=queue, resend_after_seconds=5, heartbeat_timeout_seconds=20)
    out: dict[str, Any] = {}

    def run() -> None:
        out["result"] = dg.materialize(assets, instance=instance, executor=executor, raise_on_error=False)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(1.5)  # the first layers are done or running
    restart(env.broker)
    thread.join(240)
    assert not thread.is_alive(), [w.text()[-3000:] for w in env.workers]
    return out["result"], instance


def _nothing_half_recorded(instance: Any, run_id: str) -> Counter[Any]:
    """Every attempt that started ended; every success materialized once."""
    events = instance.get_events(run_id)
    kinds = Counter(e.event_type for e in events)
    ends = kinds[EventType.STEP_SUCCESS] + kinds[EventType.STEP_FAILURE] + kinds[EventType.STEP_RETRY]
    assert kinds[EventType.STEP_START] == ends
    assert kinds[EventType.ASSET_MATERIALIZATION] == kinds[EventType.STEP_SUCCESS]
    return kinds


@pytest.mark.skipif(
    os.environ.get("DERAS_TEST_BROKER_RESTART") != "1",
    reason="restarts the shared Redis and RabbitMQ servers: set DERAS_TEST_BROKER_RESTART=1 to run",
)
def test_a_run_goes_on_across_a_broker_restart(celery_env, queue) -> None:
    result, instance = _run_across(celery_env, queue, _restart_broker)
    kinds = _nothing_half_recorded(instance, result.run_id)
    assert result.success, [e.message for e in instance.get_events(result.run_id) if e.level == "ERROR"]
    assert kinds[EventType.ASSET_MATERIALIZATION] == 24


@pytest.mark.postgres_restart
@pytest.mark.skipif(
    os.environ.get("DERAS_TEST_PG_RESTART") != "1",
    reason="restarts the shared Postgres server: set DERAS_TEST_PG_RESTART=1 to run",
)
@pytest.mark.parametrize("broker", ["redis"], indirect=True)
def test_a_run_goes_on_across_a_postgres_restart(celery_env, queue) -> None:
    result, instance = _run_across(celery_env, queue, lambda _broker: _restart_postgres())
    kinds = _nothing_half_recorded(instance, result.run_id)
    assert result.success
    assert kinds[EventType.ASSET_MATERIALIZATION] == 24
