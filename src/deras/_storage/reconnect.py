"""Riding out a lost Postgres connection: which errors mean it, and how long to keep trying.

A Postgres server restarts, fails over, or has an idle-timeout proxy or an administrator
(``pg_terminate_backend``) close connections. None of that may fail a run. Three parts:

* A pooled connection closed while idle is noticed at checkout without a round trip: its
  socket has become readable (the server's farewell, or end of file) although nothing was asked
  (``engine.py``). It is replaced before anyone uses it.
* A statement or transaction that meets a lost connection anyway is run again on a new one,
  waiting between tries (50 ms doubling to 2 s) for up to ``database_retry_seconds`` in all;
  past that the database is reported unreachable (:class:`DatabaseUnavailable`). Reads re-run
  the statement (Postgres reads at READ COMMITTED: each statement sees the latest commits
  anyway); writes re-run the whole transaction (``Database.transact``).
* A connection lost *during* COMMIT leaves it unknown whether the transaction committed. A
  write transaction that changed something reads its transaction id before committing; after
  such a loss the id's fate is asked on a new connection (``txid_status``): committed means
  done, aborted means run it again. Re-running a committed transaction would apply it twice
  (an event appended twice, a claim that then finds its run taken), so nothing is re-run blind.

Only a store that has connected once rides out errors: a wrong URL or a server that was never
up fails at once with a clear error. SQLite has no connection to lose and is never retried.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deras._core.errors import DerasError

from .escaping import escape_binds, escape_params

if TYPE_CHECKING:
    from .database import Database

log = logging.getLogger("deras.storage")

DEFAULT_RETRY_SECONDS = 60.0
"""How long the store keeps trying to reach a Postgres database it has lost (``database_retry_seconds``)."""

_FIRST_PAUSE = 0.05
_LONGEST_PAUSE = 2.0

# SQLSTATEs of a session the server ended: admin_shutdown, crash_shutdown, cannot_connect_now.
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})


class DatabaseUnavailable(DerasError):
    """The metadata database stayed unreachable for longer than ``database_retry_seconds``."""


def is_connection_error(err: BaseException) -> bool:
    """Whether ``err`` means the Postgres connection is gone or cannot be made (not a bad statement).

    Client-side psycopg errors carry no SQLSTATE ("connection failed: ...", "the connection is
    closed", "server closed the connection unexpectedly"); the server's own ones are class 08
    (connection exception) or a session it ended (57P01-57P03).
    """
    if isinstance(err, sa.exc.DBAPIError):
        if err.connection_invalidated:
            return True
        if err.orig is None:
            return False
        err = err.orig
    import psycopg  # only asked on Postgres, where psycopg is loaded

    if not isinstance(err, psycopg.OperationalError):
        return False
    state = getattr(err, "sqlstate", None)
    return state is None or state.startswith("08") or state in _SESSION_ENDED


class Reconnect:
    """The bounded wait for a lost database to come back, started at its first failure."""

    def __init__(self, retry_seconds: float, where: str) -> None:
        self._limit = retry_seconds
        self._where = where
        self._deadline = time.monotonic() + retry_seconds
        self._pause = _FIRST_PAUSE
        self._tries = 0

    def pause(self, err: BaseException) -> None:
        """Wait before the next try; past the limit raise :class:`DatabaseUnavailable` from ``err``."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise DatabaseUnavailable(
                f"the metadata database at {self._where} stayed unreachable for {self._limit:g} s "
                f"(database_retry_seconds): {_first_line(err)}. Fix: check that the server is "
                "running and reachable; raise database_retry_seconds in deras.yaml to wait longer"
            ) from err
        if self._tries == 0:
            log.warning(
                "lost the connection to the metadata database at %s (%s); reconnecting for up to %g s",
                self._where,
                _first_line(err),
                self._limit,
            )
        self._tries += 1
        time.sleep(min(self._pause, left))
        self._pause = min(self._pause * 2, _LONGEST_PAUSE)


class ReadConnection:
    """A Core connection for reads whose statements ride out a lost connection (see above).

    A statement the driver refuses for its text (lone surrogates in a lookup value) runs again
    with that text escaped, as the store wrote it (``escaping``).
    """

    __slots__ = ("_conn", "_db")

    def __init__(self, db: Database, conn: Connection) -> None:
        self._db = db
        self._conn = conn

    # Results are typed Any: Connection.execute's overloads type a result by its statement.
    def execute(self, statement: sa.Executable, parameters: Any = None) -> Any:
        return self._run(self._conn.execute, statement, parameters)

    def exec_driver_sql(self, sql: str, parameters: Any = None) -> Any:
        return self._run(self._conn.exec_driver_sql, sql, parameters)

    def _run(self, call: Any, statement: Any, parameters: Any) -> Any:
        reconnect: Reconnect | None = None
        escaped = False
        while True:
            try:
                return call(statement, parameters)
            except UnicodeEncodeError:
                if escaped:
                    raise
                escaped = True
                if isinstance(statement, sa.Executable):
                    statement = escape_binds(statement)
                if isinstance(parameters, dict):
                    parameters = escape_params(parameters)
            except Exception as err:
                self._db.raise_unless_connection_lost(err)
                # A Connection that lost its DBAPI connection reconnects once rolled back.
                with contextlib.suppress(Exception):
                    self._conn.rollback()
                reconnect = reconnect or Reconnect(self._db.retry_seconds, self._db.where)
                reconnect.pause(err)


def _first_line(err: BaseException) -> str:
    if isinstance(err, sa.exc.DBAPIError) and err.orig is not None:
        err = err.orig
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
