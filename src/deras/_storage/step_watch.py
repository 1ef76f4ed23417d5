"""Waiting, without busy-polling, until a remote worker closes a step claim of a run.

Postgres: a connection of its own LISTENs on ``deras_steps`` and wakes on a notice naming the
run (or on a lost connection: then anything may have happened). SQLite (workers on this machine):
``PRAGMA data_version`` on a connection of its own changes with every commit by another; it is
read every few milliseconds, which costs microseconds and no I/O.
"""

from __future__ import annotations

import time
from typing import Any

from .engine import is_memory_sqlite
from .reconnect import is_connection_error
from .step_claims import STEP_CHANNEL

SQLITE_POLL_SECONDS = 0.005


class StepWatch:
    """``wait(timeout)`` returns when a claim of ``run_id`` may have closed, or at the timeout."""

    def __init__(self, db: Any, run_id: str) -> None:
        if is_memory_sqlite(db.engine.url):
            raise ValueError("a database in memory is this process's alone: no other can close a claim")
        self._db = db
        self._run_id = run_id
        self._conn: Any = None
        self._version: int | None = None

    def wait(self, timeout: float | None) -> None:
        if self._db.is_sqlite:
            self._wait_sqlite(timeout)
        else:
            self._wait_postgres(timeout)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _wait_sqlite(self, timeout: float | None) -> None:
        if self._conn is None:
            self._conn = self._db.engine.raw_connection()
            self._version = self._data_version()
        give_up = None if timeout is None else time.monotonic() + timeout
        while give_up is None or time.monotonic() < give_up:
            version = self._data_version()
            if version != self._version:
                self._version = version
                return
            time.sleep(SQLITE_POLL_SECONDS)

    def _data_version(self) -> int:
        return int(self._conn.cursor().execute("PRAGMA data_version").fetchone()[0])

    def _wait_postgres(self, timeout: float | None) -> None:
        try:
            if self._conn is None:
                import psycopg

                url = self._db.engine.url.set(drivername="postgresql")
                self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
                self._conn.execute(f"LISTEN {STEP_CHANNEL}")
                return  # claims may have closed before it listened: the caller looks first
            give_up = None if timeout is None else time.monotonic() + timeout
            while True:
                left = None if give_up is None else max(0.0, give_up - time.monotonic())
                # Every notice already here comes with the first (stop_after counts at least).
                payloads = [n.payload for n in self._conn.notifies(timeout=left, stop_after=1)]
                if self._run_id in payloads:
                    return
                if give_up is not None and time.monotonic() >= give_up:
                    return
        except Exception as err:
            if not is_connection_error(err):
                raise
            self.close()  # notices may have been missed: the caller looks, and LISTENs anew
