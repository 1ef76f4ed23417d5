"""A lost Postgres connection (a failover, a restart, an idle-timeout proxy, an administrator's
``pg_terminate_backend``) costs a retry, never a write applied twice or a failed call.

The server really ends the connections: each test terminates the backends of its own session
database. Only the cut-off COMMIT tests stand in for the network: they end the connection around
a real commit, the one moment a test cannot hit by timing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from deras._core.events import EventRecord, EventType
from deras._core.records import RunRecord
from deras._core.status import RunStatus
from deras._storage import MetadataStore
from deras._storage.reconnect import DatabaseUnavailable
from deras._storage.schema import runs

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def _admin_url(db_url: str) -> str:
    return sa.make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def terminate(db_url: str) -> Iterator[Callable[[], int]]:
    """``terminate()``: end every other connection to the test's database; returns how many."""
    admin = psycopg.connect(_admin_url(db_url), autocommit=True)
    name = sa.make_url(db_url).database

    def run() -> int:
        pids = [
            row[0]
            for row in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
            )
        ]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # waits until it is gone
        return len(pids)

    yield run
    admin.close()


def test_connections_the_server_closed_while_idle_are_replaced_unnoticed(
    store: MetadataStore, terminate: Callable[[], int], caplog: pytest.LogCaptureFixture
) -> None:
    store.create_run(RunRecord("r", "assets:a"))
    assert terminate() >= 1
    store.store_events([EventRecord("r", EventType.RUN_START)])
    assert terminate() >= 1
    run = store.get_run("r")
    assert run is not None and run.status == RunStatus.STARTED
    assert "lost the connection" not in caplog.text  # replaced at checkout: no statement failed


def test_a_write_that_loses_its_connection_midway_runs_again_and_applies_once(
    store: MetadataStore, terminate: Callable[[], int], caplog: pytest.LogCaptureFixture
) -> None:
    store.create_run(RunRecord("r", "assets:a"))
    tries: list[int] = []

    def append(tx: Any) -> list[int]:
        tries.append(1)
        ids = store._events.append(tx, [EventRecord("r", EventType.LOG, message="once")])
        if len(tries) == 1:
            terminate()  # this transaction's own connection: the next statement finds it gone
        stamp = sa.update(runs).where(runs.c.run_id == sa.bindparam("id"))
        tx.execute(stamp.values(heartbeat=sa.bindparam("now")), {"id": "r", "now": 5.0})
        return ids

    with caplog.at_level(logging.WARNING, logger="deras.storage"):
        store._db.transact(append)
    assert len(tries) == 2
    assert [e.message for e in store.get_events("r")] == ["once"]
    assert "lost the connection to the metadata database" in caplog.text


def test_a_read_that_loses_its_connection_runs_again(
    store: MetadataStore, terminate: Callable[[], int]
) -> None:
    store.create_run(RunRecord("r", "assets:a"))
    with store._db.read() as conn:
        conn.exec_driver_sql("SELECT 1")
        terminate()
        assert conn.exec_driver_sql("SELECT run_id FROM runs").scalars().all() == ["r"]


def test_a_read_that_loses_its_connection_after_its_statements_keeps_what_it_read(
    store: MetadataStore, terminate: Callable[[], int]
) -> None:
    store.create_run(RunRecord("r", "assets:a"))
    with store._db.read() as conn:
        run_ids = conn.exec_driver_sql("SELECT run_id FROM runs").scalars().all()
        terminate()  # the read's transaction is rolled back on a connection that is gone
    assert run_ids == ["r"]


@pytest.fixture
def cut_commit(monkeypatch: pytest.MonkeyPatch, terminate: Callable[[], int]) -> Callable[[bool], None]:
    """``cut_commit(after)``: the next COMMIT loses its connection, after the commit or before it."""

    def arm(after: bool) -> None:
        real = psycopg.Connection.commit
        armed = [True]

        def commit(self: psycopg.Connection[Any]) -> None:
            if not armed or self.autocommit:
                real(self)
                return
            armed.clear()
            if after:
                real(self)  # committed; then its answer is lost with the connection
                terminate()
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            terminate()
            real(self)  # the server ended the session first: this fails

        monkeypatch.setattr(psycopg.Connection, "commit", commit)

    return arm


@pytest.mark.parametrize(
    ("after", "tries"), [(True, 1), (False, 2)], ids=["after-it-committed", "before-it-committed"]
)
def test_a_commit_cut_off_is_applied_once_whether_or_not_it_committed(
    store: MetadataStore, cut_commit: Callable[[bool], None], after: bool, tries: int
) -> None:
    store.create_run(RunRecord("r", "assets:a"))
    ran: list[int] = []

    def append(tx: Any) -> list[int]:
        ran.append(1)
        return store._events.append(tx, [EventRecord("r", EventType.LOG, message="once")])

    cut_commit(after)
    ids = store._db.transact(append)
    assert len(ran) == tries  # the server said whether it had committed: run again only if not
    assert [(e.id, e.message) for e in store.get_events("r")] == [(ids[0], "once")]


@pytest.fixture
def closed_database(db_url: str, terminate: Callable[[], int]) -> Iterator[Callable[[bool], None]]:
    """``closed(True)``: the database refuses new connections and drops its current ones."""
    admin = psycopg.connect(_admin_url(db_url).rsplit("/", 1)[0] + "/postgres", autocommit=True)
    name = sa.make_url(db_url).database

    def close(refuse: bool) -> None:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
        if refuse:
            terminate()

    yield close
    close(False)
    admin.close()


def test_a_database_back_within_the_limit_is_ridden_out(
    db_url: str, closed_database: Callable[[bool], None]
) -> None:
    store = MetadataStore(db_url, retry_seconds=60)
    try:
        store.create_run(RunRecord("r", "assets:a"))
        closed_database(True)
        reopen = threading.Timer(1.0, closed_database, args=(False,))
        reopen.start()
        store.store_events([EventRecord("r", EventType.RUN_START)])
        reopen.join()
        run = store.get_run("r")
        assert run is not None and run.status == RunStatus.STARTED
    finally:
        store.dispose()


def test_a_database_that_stays_unreachable_fails_saying_so(
    db_url: str, closed_database: Callable[[bool], None]
) -> None:
    store = MetadataStore(db_url, retry_seconds=1)
    try:
        store.create_run(RunRecord("r", "assets:a"))
        closed_database(True)
        with pytest.raises(
            DatabaseUnavailable, match=r"stayed unreachable for 1 s \(database_retry_seconds\)"
        ):
            store.store_events([EventRecord("r", EventType.RUN_START)])
        with pytest.raises(DatabaseUnavailable):
            store.get_runs()
    finally:
        store.dispose()


def test_a_server_never_reached_fails_at_once_not_after_the_retry_limit(db_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(sa.exc.OperationalError):
        MetadataStore("postgresql+psycopg://postgres@127.0.0.1:1/none", retry_seconds=600)
    assert time.monotonic() - started < 60  # not 600 s of retries (the bound only catches that)


def _next_token(watcher: MetadataStore, old: int | None) -> int | None:
    """The token once it differs from ``old``, polled as an idle daemon does (bound: a hang)."""
    deadline = time.monotonic() + 5
    while (token := watcher.change_token()) == old and time.monotonic() < deadline:
        time.sleep(0.01)
    return token


def test_the_change_token_survives_a_lost_listen_connection(
    db_url: str, terminate: Callable[[], int]
) -> None:
    watcher, writer = MetadataStore(db_url), MetadataStore(db_url)
    try:
        before = watcher.change_token()
        terminate()
        after_loss = _next_token(watcher, before)
        assert after_loss != before  # notices may have been missed: look now
        watcher.change_token()  # listens again
        writer.create_runs([RunRecord("r1", "assets:a")])
        assert _next_token(watcher, after_loss) != after_loss
    finally:
        watcher.dispose()
        writer.dispose()


def test_a_connection_lost_while_the_first_connect_sets_it_up_is_made_again(
    db_url: str, terminate: Callable[[], int]
) -> None:
    """The server answered, then ended the new connection during the driver's first queries:
    the store is opened on a new connection, not refused as unreachable."""
    MetadataStore(db_url).dispose()  # the schema exists: opening it only reads
    cut: list[int] = []

    def end_it(dbapi_connection: Any, record: Any) -> None:
        if not cut:
            cut.append(terminate())

    sa.event.listen(sa.engine.Engine, "first_connect", end_it)
    try:
        store = MetadataStore(db_url)
    finally:
        sa.event.remove(sa.engine.Engine, "first_connect", end_it)
    try:
        assert cut == [1]
        assert store.get_runs() == []
    finally:
        store.dispose()
