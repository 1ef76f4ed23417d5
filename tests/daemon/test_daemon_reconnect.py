"""The daemon, its workers and ``deras materialize`` ride out lost Postgres connections.

The server ends the connections (``pg_terminate_backend``, as a failover, a restart or an
idle-timeout proxy does) of this test's own database only, so other sessions on the same
server are not disturbed. The restart test restarts the whole server: it runs only when asked
(``DERAS_TEST_PG_RESTART=1``, marker ``postgres_restart``; CI sets it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from deras._core.events import EventType
from deras._core.status import RunStatus
from deras._daemon.launcher import worker_env
from deras._daemon.run_factory import RunFactory

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

CODE = """
import time
import deras as dg

@dg.asset
def a():
    time.sleep(0.05)
    return 1

@dg.asset
def b(a):
    return a + 1

@dg.asset
def slow(context):
    for i in range(8):
        time.sleep(0.5)
        context.log.info(f"still here {i}")
    return 1

defs = dg.Definitions(assets=[a, b, slow])
"""

CONFIG = {"max_concurrent_runs": 10, "daemon": {"interval_seconds": 0.1, "workers": 3}}


def _daemon(instance: Any, code: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "deras", "daemon", "run", "-f", code, "--max-seconds", "200"],
            env=worker_env(instance),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


class Terminator:
    """Ends every other connection to one database every ``every`` seconds, in a thread."""

    def __init__(self, db_url: str, every: float) -> None:
        url = sa.make_url(db_url)
        self._admin = psycopg.connect(
            url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
        )
        self._name = url.database
        self._every = every
        self._stop = threading.Event()
        self.terminated = 0
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Terminator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._admin.close()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            row = self._admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (self._name,),
            ).fetchone()
            self.terminated += row[0] if row else 0


def _queue(instance: Any, loaded: Any, count: int, start: int) -> list[str]:
    factory = RunFactory(loaded.definitions, loaded.location, instance)
    runs = [factory.for_assets(["a", "b"], key=f"k{i}") for i in range(start, start + count)]
    return [r.run_id for r in instance.store.create_runs(runs)]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_every_run_succeeds_while_the_server_keeps_ending_connections(
    make_instance: Any, write_code: Any, db_url: str, tmp_path: Path
) -> None:
    instance = make_instance(CONFIG)
    loaded = write_code(CODE)
    log = tmp_path / "daemon.log"
    daemon = _daemon(instance, loaded.location["file"], log)
    run_ids: list[str] = []
    try:
        with Terminator(db_url, every=0.5) as terminator:
            for batch in range(6):  # 60 runs, queued while connections drop (this process's too)
                run_ids += _queue(instance, loaded, 10, batch * 10)
                time.sleep(1.0)
            deadline = time.monotonic() + 180
            while instance.get_runs(status=[RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTED]):
                assert daemon.poll() is None, log.read_text()[-5000:]
                assert time.monotonic() < deadline, log.read_text()[-5000:]
                time.sleep(0.2)
        assert terminator.terminated >= 10  # the connections really were being ended throughout
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)

    runs = instance.get_runs()
    assert len(runs) == len(run_ids) == 60
    failures = [
        e.message for r in runs if r.status != RunStatus.SUCCESS for e in instance.get_events(r.run_id)
    ]
    assert Counter(r.status for r in runs) == {RunStatus.SUCCESS: 60}, (failures, log.read_text()[-5000:])
    for run in runs:  # each run, each node and each event once: no write applied twice
        assert sorted(a.node for a in instance.get_attempts(run.run_id)) == ["a", "b"]
        kinds = Counter(e.event_type for e in instance.get_events(run.run_id))
        assert kinds[EventType.RUN_SUCCESS] == 1 and kinds[EventType.ASSET_MATERIALIZATION] == 2
    assert len(instance.get_materializations("b")) == 60


# -- restarting the server (only when asked: it breaks every other session on the server) ------


def _restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=120
    )


def _wait_for_log_line(instance: Any, run_id: str, text: str, deadline: float) -> None:
    while not any(text in e.message for e in instance.get_events(run_id)):
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.mark.postgres_restart
@pytest.mark.skipif(
    os.environ.get("DERAS_TEST_PG_RESTART") != "1",
    reason="restarts the shared Postgres server: set DERAS_TEST_PG_RESTART=1 to run",
)
@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", ["daemon", "materialize"])
def test_a_run_survives_a_postgres_restart_in_its_middle(
    make_instance: Any, write_code: Any, tmp_path: Path, how: str
) -> None:
    instance = make_instance(CONFIG)
    loaded = write_code(CODE)
    log = tmp_path / f"{how}.log"
    deadline = time.monotonic() + 240
    env = worker_env(instance)
    if how == "daemon":
        proc = _daemon(instance, loaded.location["file"], log)
        factory = RunFactory(loaded.definitions, loaded.location, instance)
        run_id = instance.store.create_runs([factory.for_assets(["slow"], key="slow")])[0].run_id
    else:
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "deras",
                    "materialize",
                    "-f",
                    loaded.location["file"],
                    "--select",
                    "slow",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        while not instance.get_runs():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.1)
        run_id = instance.get_runs()[0].run_id
    try:
        _wait_for_log_line(instance, run_id, "still here 1", deadline)
        _restart_postgres()
        while not (run := instance.get_run(run_id)) or not run.status.is_finished:
            assert time.monotonic() < deadline, log.read_text()[-5000:]
            time.sleep(0.2)
        assert run.status == RunStatus.SUCCESS, log.read_text()[-5000:]
        messages = [e.message for e in instance.get_events(run_id)]
        assert [m for m in messages if m.startswith("still here")] == [f"still here {i}" for i in range(8)]
    finally:
        if how == "daemon":
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()[-5000:]
