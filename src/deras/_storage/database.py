"""The engine plus the few places where SQLite and Postgres differ.

Reads go through SQLAlchemy Core connections. Writes go through :class:`WriteTransaction`:
Core statements compiled once per dialect and run on the DBAPI cursor of a pooled connection.
``store_events`` runs once or twice per node of every run, and measured on SQLite (WAL,
synchronous=NORMAL, 2 cores) the same three-event transaction cost ~65 µs this way against
~170-360 µs through ``Connection.execute`` (an execution context, event dispatch and result
set-up per statement, and SQLAlchemy's transaction bookkeeping).

Dialect differences live here and only here: how a write transaction begins, how inserted ids
come back, the dialect's ``INSERT ... ON CONFLICT``, and which error means a duplicate key.
(``SELECT ... FOR UPDATE [SKIP LOCKED]`` needs no code here: SQLite compiles it to a plain
SELECT, its ``BEGIN IMMEDIATE`` already serialising writers.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from operator import itemgetter
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import bindparam, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import Insert

from .engine import is_memory_sqlite, writer
from .escaping import escape_params
from .reconnect import DEFAULT_RETRY_SECONDS, ReadConnection, Reconnect, is_connection_error
from .sqlite_file import sqlite_failure

Params = Mapping[str, Any]
WORK_CHANNEL = "deras_work"
"""The Postgres LISTEN/NOTIFY channel on which writers of new work wake daemons."""
StatementBuilder = Callable[[Callable[[sa.Table], Any]], sa.Executable]
"""Builds a statement given the dialect's ``insert`` (which has ``on_conflict_do_*``)."""
T = TypeVar("T")

# txid_* rather than pg_current_xact_id* (Postgres 13+): the same 64-bit ids, Postgres 10+.
_OWN_XID = "SELECT txid_current_if_assigned()"
_XID_STATUS = "SELECT txid_status(%(xid)s)"


class _CommitUnknown(Exception):
    """The connection was lost during COMMIT of transaction ``xid``, whose body returned ``result``."""

    def __init__(self, xid: int, result: Any) -> None:
        super().__init__(f"commit of transaction {xid} cut off")
        self.xid = xid
        self.result = result


def _end(connection: Any, err: BaseException, is_postgres: bool) -> None:
    """Roll back and return a failed transaction's connection; a lost one is discarded."""
    try:
        connection.rollback()
    except Exception:  # the connection is gone: the server has rolled the transaction back
        connection.invalidate()
        return
    if is_postgres and is_connection_error(err):
        connection.invalidate()
        return
    connection.close()


class Prepared:
    """A Core statement compiled once for one dialect, run with named parameters."""

    __slots__ = ("_to_driver", "sql")

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]  # Core statements compile
        self.sql = compiled.string
        self._to_driver: Callable[[Params], Any]
        if compiled.positional:
            names = tuple(compiled.positiontup or ())
            if len(names) == 1:
                name = names[0]
                self._to_driver = lambda p: (p[name],)
            elif names:
                self._to_driver = itemgetter(*names)
            else:
                self._to_driver = lambda _p: ()
        else:
            self._to_driver = dict

    def params(self, values: Params) -> Any:
        return self._to_driver(values)


class WriteTransaction:
    """One attempt at a write transaction, on a DBAPI cursor; see :meth:`Database.transact`.

    With ``escape`` (a re-run after the driver refused text), every text parameter has its
    lone surrogates escaped first (see ``escaping``).
    """

    __slots__ = ("_db", "cursor", "escape")

    def __init__(self, db: Database, cursor: Any, escape: bool = False) -> None:
        self._db = db
        self.cursor = cursor
        self.escape = escape

    def execute(self, statement: sa.Executable | StatementBuilder, params: Params) -> Any:
        prepared = self._db.prepared(statement)
        if self.escape:
            params = escape_params(params)
        self.cursor.execute(prepared.sql, prepared.params(params))
        return self.cursor

    def executemany(self, statement: sa.Executable | StatementBuilder, rows: Sequence[Params]) -> int:
        """Run ``statement`` once per row; returns the rows changed in all (both drivers sum them)."""
        if not rows:
            return 0
        prepared = self._db.prepared(statement)
        if self.escape:
            rows = [escape_params(r) for r in rows]
        if len(rows) == 1:
            # One row: skip executemany's set-up (psycopg: a pipeline, and its extra round trip).
            self.cursor.execute(prepared.sql, prepared.params(rows[0]))
            return int(self.cursor.rowcount)
        to_driver = prepared.params
        self.cursor.executemany(prepared.sql, [to_driver(r) for r in rows])
        return int(self.cursor.rowcount)

    def rowcount(self, statement: sa.Executable | StatementBuilder, params: Params) -> int:
        return int(self.execute(statement, params).rowcount)

    def fetchall(self, statement: sa.Executable | StatementBuilder, params: Params) -> list[Any]:
        return list(self.execute(statement, params).fetchall())

    def announce_work(self) -> None:
        """Tell waiting daemons, at commit, that there is new work (runs, a backfill, a cancel).

        Postgres: ``NOTIFY deras_work`` (delivered only if the transaction commits). SQLite needs
        nothing: daemons there watch ``PRAGMA data_version``.
        """
        if self._db.is_postgres:
            self.cursor.execute(f"NOTIFY {WORK_CHANNEL}")

    def insert_ids(self, statement: sa.Insert, rows: Sequence[Params]) -> list[int]:
        """Insert ``rows`` and return their autoincrement ids, in the order of ``rows``."""
        if not rows:
            return []
        if self.escape:
            rows = [escape_params(r) for r in rows]
        return self._db.insert_ids(self, statement, rows)


IN_BATCH = 100
"""Values per :func:`in_batch` list: prepared statements have a fixed number of parameters."""


def in_batch(column: sa.ColumnElement[Any], name: str) -> sa.ColumnElement[bool]:
    """``column IN (:name_0, ..., :name_99)``: a condition on many values in a prepared statement.

    Fill it with :func:`in_batch_params`; unused places are NULL, which matches nothing.
    """
    return column.in_([bindparam(f"{name}_{i}") for i in range(IN_BATCH)])


def in_batch_params(name: str, values: Sequence[Any], **extra: Any) -> Iterator[dict[str, Any]]:
    """Parameters of an :func:`in_batch` condition for ``values``: one dict per batch of them."""
    for start in range(0, len(values), IN_BATCH):
        chunk = values[start : start + IN_BATCH]
        params = {f"{name}_{i}": chunk[i] if i < len(chunk) else None for i in range(IN_BATCH)}
        params.update(extra)
        yield params


_prepared_cache: dict[tuple[str, int], Prepared] = {}
_multi_row_cache: dict[tuple[str, int, int], Prepared] = {}
_cache_lock = threading.Lock()


class Database:
    """An engine and its dialect's ways: transactions, compiled statements, upserts, ids."""

    def __init__(self, engine: Engine, retry_seconds: float = DEFAULT_RETRY_SECONDS) -> None:
        self.engine = engine
        self.writer = writer(engine)
        self.dialect_name = engine.dialect.name
        self.is_sqlite = self.dialect_name == "sqlite"
        self.is_postgres = self.dialect_name == "postgresql"
        self.where = engine.url.render_as_string(hide_password=True)
        # The dialect's own insert has on_conflict_do_*; importing only the one in use keeps the
        # Postgres dialect (~40 ms) out of SQLite processes.
        self._insert: Callable[[sa.Table], Any]
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            self._insert = sqlite_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            self._insert = postgresql_insert
        dbapi = engine.dialect.loaded_dbapi
        self.integrity_error: type[Exception] = dbapi.IntegrityError
        # An in-memory SQLite database is one shared connection (StaticPool): two threads must
        # not interleave transactions on it.
        self._lock: Any = threading.RLock() if is_memory_sqlite(engine.url) else nullcontext()
        self._cache_prefix = f"{self.dialect_name}+{engine.dialect.driver}"
        self.retry_seconds = retry_seconds
        # Lost connections are ridden out only once the database has been reached (reconnect.py).
        self.reached = False
        if self.is_postgres:
            # First in line: the dialect's own first-connect queries may lose the connection.
            event.listen(engine, "first_connect", self._on_connect, insert=True)
            event.listen(engine, "connect", self._on_connect)

    def _on_connect(self, _dbapi_connection: Any, _record: Any) -> None:
        self.reached = True

    # -- transactions -------------------------------------------------------------------------

    def can_reconnect(self, err: BaseException) -> bool:
        """Whether ``err`` is a lost connection to a database reached before: worth trying again."""
        return self.is_postgres and self.reached and is_connection_error(err)

    def raise_unless_connection_lost(self, err: Exception) -> None:
        """Return if ``err`` is worth another try (a lost connection); else raise what it means."""
        if self.can_reconnect(err):
            return
        known = sqlite_failure(err, self.engine.url) if self.is_sqlite else None
        if known is None:
            raise err
        raise known from err

    @contextmanager
    def read(self) -> Iterator[ReadConnection]:
        """A Core connection for reading (SQLite: deferred BEGIN, never the write lock).

        Its statements ride out a lost Postgres connection and escape text the driver refuses.
        """
        with self._lock:
            conn = self._connect()
            try:
                yield ReadConnection(self, conn)
            finally:
                try:
                    conn.close()  # rolls back, and may find the connection gone
                except Exception as err:
                    if not self.can_reconnect(err):
                        raise  # after the reads: what they read stands, nothing is lost

    def _connect(self) -> Connection:
        return self.retrying(self.engine.connect)

    def retrying(self, call: Callable[[], T]) -> T:
        """``call()``, called again on a lost connection: for what is safe to repeat whole (a
        connection, a migration: alembic finds one that committed at head and does nothing)."""
        reconnect: Reconnect | None = None
        while True:
            try:
                return call()
            except Exception as err:
                self.raise_unless_connection_lost(err)
                reconnect = reconnect or Reconnect(self.retry_seconds, self.where)
                reconnect.pause(err)

    @contextmanager
    def write_core(self) -> Iterator[Connection]:
        """A Core connection in a write transaction (SQLite: BEGIN IMMEDIATE), committed at exit.

        For schema changes only (no retry): the store's writes use :meth:`transact`.
        """
        with self._lock, self.writer.begin() as conn:
            yield conn

    def transact(self, body: Callable[[WriteTransaction], T]) -> T:
        """Run ``body`` in a write transaction on the DBAPI connection and commit; its result.

        SQLite: ``BEGIN IMMEDIATE`` takes the write lock first (waiting up to busy_timeout), so
        concurrent writers queue instead of deadlocking. Postgres: the driver begins implicitly.

        ``body`` may run more than once, each time in a new transaction, the previous one rolled
        back: again with text escaped if the driver refused text (``escaping``), and again on a
        new connection if the Postgres connection was lost before the commit or the commit is
        known not to have happened (``reconnect``). So ``body`` must only write through ``tx``
        and leave what it was given as it found it (or change it the same way every time).
        """
        escape = False
        reconnect: Reconnect | None = None
        while True:
            try:
                return self._attempt(body, escape)
            except UnicodeEncodeError:
                if escape:
                    raise
                escape = True
            except _CommitUnknown as unknown:
                reconnect = reconnect or Reconnect(self.retry_seconds, self.where)
                if self._committed(unknown, reconnect):
                    return cast(T, unknown.result)
            except Exception as err:
                self.raise_unless_connection_lost(err)
                reconnect = reconnect or Reconnect(self.retry_seconds, self.where)
                reconnect.pause(err)

    def _attempt(self, body: Callable[[WriteTransaction], T], escape: bool) -> T:
        with self._lock:
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                if self.is_sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                result = body(WriteTransaction(self, cursor, escape))
                # Postgres: the transaction's id, if it wrote anything, tells a commit lost with
                # its connection from one that never happened.
                xid = cursor.execute(_OWN_XID).fetchone()[0] if self.is_postgres else None
            except BaseException as err:
                _end(connection, err, self.is_postgres)
                raise
            try:
                connection.commit()
            except BaseException as err:
                _end(connection, err, self.is_postgres)
                if xid is not None and self.can_reconnect(err):
                    raise _CommitUnknown(xid, result) from err
                raise
            connection.close()
            return result

    def _committed(self, unknown: _CommitUnknown, reconnect: Reconnect) -> bool:
        """Whether the transaction whose commit was cut off committed, asked on a new connection."""
        cause = unknown.__cause__ or unknown
        while True:
            reconnect.pause(cause)
            try:
                with self.engine.connect() as conn:
                    status = conn.exec_driver_sql(_XID_STATUS, {"xid": unknown.xid}).scalar()
            except Exception as err:
                if not self.can_reconnect(err):
                    raise
                cause = err
                continue
            if status == "committed":
                return True
            if status == "aborted":
                return False
            # "in progress": the server has not yet noticed that its client is gone; ask again.

    # -- statements ---------------------------------------------------------------------------

    def prepared(self, statement: sa.Executable | StatementBuilder) -> Prepared:
        """``statement`` compiled for this dialect, once per process.

        ``statement`` is a module-level Core statement, or a function building one from the
        dialect's ``insert`` (for ``ON CONFLICT`` upserts); either is cached by identity.
        """
        key = (self._cache_prefix, id(statement))
        prepared = _prepared_cache.get(key)
        if prepared is None:
            built = statement if isinstance(statement, sa.Executable) else statement(self._insert)
            prepared = Prepared(built, self.engine.dialect)
            with _cache_lock:
                _prepared_cache[key] = prepared
                _keep_alive.append(statement)  # so that its id() is never reused
        return prepared

    def _multi_row_insert(self, statement: Insert, count: int) -> Prepared:
        key = (self._cache_prefix, id(statement), count)
        prepared = _multi_row_cache.get(key)
        if prepared is None:
            table = cast(sa.Table, statement.table)
            columns = [c for c in table.c if c.name != "id"]
            rows = [
                (*(bindparam(f"{c.name}_{i}", type_=c.type) for c in columns), sa.literal_column(str(i)))
                for i in range(count)
            ]
            values = sa.values(
                *(sa.column(c.name, c.type) for c in columns), sa.column("row_number", sa.Integer), name="v"
            ).data(rows)
            ordered = sa.select(*(values.c[c.name] for c in columns)).order_by(values.c.row_number)
            insert = sa.insert(table).from_select([c.name for c in columns], ordered).returning(table.c.id)
            prepared = Prepared(insert, self.engine.dialect)
            with _cache_lock:
                _multi_row_cache[key] = prepared
                _keep_alive.append(statement)
        return prepared

    def insert_ids(self, tx: WriteTransaction, statement: Insert, rows: Sequence[Params]) -> list[int]:
        cursor = tx.cursor
        if self.is_sqlite:
            # Inside BEGIN IMMEDIATE no one else inserts, and SQLite gives each new row the
            # largest rowid so far + 1: the ids of an executemany are consecutive and end at
            # last_insert_rowid(). (sqlite3 does not update lastrowid after executemany, and
            # does not allow RETURNING with executemany.)
            tx.executemany(statement, rows)
            last = int(cursor.execute("SELECT last_insert_rowid()").fetchone()[0])
            return list(range(last - len(rows) + 1, last + 1))
        if len(rows) == 1:
            prepared = self.prepared(_returning_id(statement))
            return [int(cursor.execute(prepared.sql, prepared.params(rows[0])).fetchone()[0])]
        if len(rows) <= _MULTI_ROW_MAX:
            # One statement, one round trip: rows go in through an ordered INSERT ... SELECT, so
            # the sequence hands out ascending ids in row order (what SQLAlchemy's own
            # "insertmanyvalues" relies on); RETURNING's order is not guaranteed, hence sorted().
            multi = self._multi_row_insert(statement, len(rows))
            params = {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
            return sorted(int(r[0]) for r in cursor.execute(multi.sql, params).fetchall())
        prepared = self.prepared(_returning_id(statement))
        to_driver = prepared.params
        # psycopg runs the batch in one pipeline and keeps one result set per row, in order.
        cursor.executemany(prepared.sql, [to_driver(r) for r in rows], returning=True)
        ids = []
        while True:
            ids.append(int(cursor.fetchone()[0]))
            if not cursor.nextset():
                break
        return ids


_MULTI_ROW_MAX = 32
"""Postgres: batches up to this size are inserted by one statement; larger ones pipelined."""

_keep_alive: list[object] = []
_returning_cache: dict[int, sa.Executable] = {}


def _returning_id(statement: Insert) -> sa.Executable:
    """``statement`` with ``RETURNING id`` (built once per statement)."""
    returning = _returning_cache.get(id(statement))
    if returning is None:
        table = cast(sa.Table, statement.table)
        returning = statement.returning(table.c.id)
        with _cache_lock:
            _returning_cache[id(statement)] = returning
            _keep_alive.append(statement)
    return returning
