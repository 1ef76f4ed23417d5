"""SQLAlchemy engines for the metadata store: SQLite (file or memory) and Postgres.

SQLite needs care to be safe with several processes writing one file:

* WAL journal, so readers never block the writer and the writer never blocks readers;
  ``synchronous=NORMAL`` (durable at checkpoints, no fsync per commit: WAL keeps the database
  consistent after a crash, losing at most the last commits of a power cut);
* ``busy_timeout`` of 30 s, so a writer waits for the lock instead of failing;
* write transactions start with ``BEGIN IMMEDIATE``: they take the write lock up front.
  A deferred ``BEGIN`` that reads and then writes has to *upgrade* its lock, and two such
  transactions deadlock (SQLite answers one of them "database is locked" at once, without
  waiting for ``busy_timeout``). Reads keep a deferred ``BEGIN`` and never take the write lock.

The sqlite3 driver's own transaction handling would emit a deferred BEGIN before DML, so it is
switched off (``isolation_level = None``) and SQLAlchemy's ``begin`` event emits the BEGIN we
want — the recipe of the SQLAlchemy SQLite documentation ("Enabling Non-Legacy SQLite
Transactional Modes"). Connections of :func:`writer` carry the :data:`WRITE_OPTION` execution
option, which selects ``BEGIN IMMEDIATE``. The store's own writes run on the DBAPI connection
for speed and emit ``BEGIN IMMEDIATE`` themselves (``Database.write``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

WRITE_OPTION = "deras_write"
"""Execution option marking a Core connection whose transactions write (SQLite: BEGIN IMMEDIATE)."""

BUSY_TIMEOUT_MS = 30_000


def is_memory_sqlite(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine(url: str | sa.URL) -> Engine:
    """An engine for ``url``, configured for the metadata store (see the module docstring)."""
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        # Connections are checked for liveness lazily: a dead one fails its first statement
        # and is replaced; pre-ping would add a round trip to every checkout of the hot path.
        return sa.create_engine(parsed)
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite:///path/to/deras.db or postgresql+psycopg://user@host/db"
    )


def writer(engine: Engine) -> Engine:
    """``engine`` for write transactions: on SQLite they begin with ``BEGIN IMMEDIATE``."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _sqlite_engine(url: sa.URL) -> Engine:
    if is_memory_sqlite(url):
        # One connection shared by every checkout: each new connection to ":memory:" would be
        # a new, empty database. The store serialises access to it with a lock.
        engine = sa.create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        pragmas: tuple[str, ...] = ()
    else:
        if url.database:
            # sqlite3 cannot create a missing directory: a fresh $DERAS_HOME must just work.
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        pragmas = (
            # busy_timeout first: switching to WAL needs a lock another process may hold.
            f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 driver: we emit it ourselves (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
