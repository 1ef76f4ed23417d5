"""Real Celery workers (``deras worker`` processes) on Redis and RabbitMQ, metadata in Postgres.

Each test gets queues of its own, so test sessions running at once on one broker never take
each other's steps. An unreachable broker skips its tests, except with CI=true (they fail).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

BROKERS = {
    "redis": os.environ.get("DERAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "rabbitmq": os.environ.get("DERAS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}
START_HINTS = {
    "redis": "start it with `redis-server --daemonize yes --port 6379 --save '' --appendonly no`",
    "rabbitmq": "start it with `rabbitmq-server -detached`",
}

pytestmark = pytest.mark.slow


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> str:
    """A broker URL: RabbitMQ, then Redis (``parametrize("broker", ["redis"], indirect=True)``
    for one of them)."""
    url = BROKERS[request.param]
    if not _reachable(url):
        message = f"{request.param} not reachable at {url}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true, so this fails)", pytrace=False)
        pytest.skip(f"{message}: {START_HINTS[request.param]}")
    return url


@pytest.fixture
def queue() -> str:
    """A queue name of this test's own."""
    return f"deras-test-{secrets.token_hex(4)}"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path
    hostname: str = ""

    def kill(self) -> None:
        """kill -9 the worker and its pool processes (its session)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class CeleryEnv:
    """Workers started by a test, and what they share with the coordinator (this process)."""

    home: Path
    db_url: str
    broker: str
    code: Path
    tmp: Path
    workers: list[Worker] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
        env.update({"DERAS_HOME": str(self.home), "DERAS_DATABASE_URL": self.db_url, **extra})
        return env

    def start_worker(self, queues: str, concurrency: int = 2, **extra_env: str) -> Worker:
        log = self.tmp / f"worker-{len(self.workers)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "deras", "worker", "-f", str(self.code), "--broker", self.broker,
             "-Q", queues, "-c", str(concurrency)],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            env=self.env(**extra_env),
            start_new_session=True,
        )  # fmt: skip
        worker = Worker(process, log)
        self.workers.append(worker)
        give_up = time.monotonic() + 60
        while " ready." not in worker.text():
            assert process.poll() is None, worker.text()
            assert time.monotonic() < give_up, f"worker not ready after 60 s:\n{worker.text()}"
            time.sleep(0.05)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait(20)


@pytest.fixture
def celery_env(
    broker: str, db_url: str, tmp_path: Path, make_instance: Any
) -> Iterator[Callable[[str], tuple[CeleryEnv, Any]]]:
    """``celery_env(code) -> (env, instance)``: the code in a file, an instance on ``db_url``."""
    made: list[CeleryEnv] = []

    def make(code: str) -> tuple[CeleryEnv, Any]:
        instance = make_instance()
        path = tmp_path / f"code_{len(made)}.py"
        path.write_text(textwrap.dedent(code))
        env = CeleryEnv(instance.home, db_url, broker, path, tmp_path)
        made.append(env)
        return env, instance

    yield make
    for env in made:
        env.stop()
