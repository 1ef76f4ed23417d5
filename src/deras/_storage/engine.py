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
for speed and emit ``BEGIN IMMEDIATE`` themselves (``Database.transact``).

A SQLite file's folder must exist: a mistyped URL is an error, not a new empty database
somewhere (the instance creates ``$DERAS_HOME`` itself on first use).

Postgres connections are not pinged at checkout (a round trip on every one of the hot path);
a pooled connection the server closed while it was idle is recognised by its socket having
become readable, which costs one ``poll`` (see ``reconnect.py``).
"""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from deras._core.errors import DerasError

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
        engine = sa.create_engine(parsed)
        event.listen(engine, "checkout", _drop_if_closed_by_server)
        return engine
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite:///path/to/deras.db or postgresql+psycopg://user@host/db"
    )


def writer(engine: Engine) -> Engine:
    """``engine`` for write transactions: on SQLite they begin with ``BEGIN IMMEDIATE``."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _drop_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled Postgres connection the server has closed; the pool connects anew.

    An idle connection in the pool has nothing to read (pooled connections do not LISTEN):
    a readable socket is the server's "terminating connection" message or end of file. Asking
    the server (``SELECT 1``) happens only then, so a spurious message costs one round trip.
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise sa.exc.DisconnectionError("connection closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    if not poller.poll(0):
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as err:
        raise sa.exc.DisconnectionError(f"connection closed by the server: {err}") from err


def sqlite_file(url: sa.URL) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database or another backend."""
    if url.get_backend_name() != "sqlite" or is_memory_sqlite(url) or url.database is None:
        return None
    return Path(url.database).expanduser()


def check_sqlite_folder(url: sa.URL) -> None:
    """A SQLite URL's folder must exist: a mistyped URL must not create a new, empty database."""
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise DerasError(
            f"the folder {path.parent} of the SQLite database {path} does not exist "
            f"(database URL {url.render_as_string(hide_password=True)}). Fix: correct "
            "DERAS_DATABASE_URL (or database_url in deras.yaml), or create the folder"
        )


def _sqlite_engine(url: sa.URL) -> Engine:
    if is_memory_sqlite(url):
        # One connection shared by every checkout: each new connection to ":memory:" would be
        # a new, empty database. The store serialises access to it with a lock.
        engine = sa.create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        pragmas: tuple[str, ...] = ()
    else:
        check_sqlite_folder(url)
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
