"""SQLite specifics: WAL, lock handling, the in-memory store.

These are properties of the SQLite engine set-up, so they run on SQLite only; everything the
store promises on both databases is tested with the ``store`` fixture elsewhere.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from deras._core.events import EventRecord, EventType
from deras._core.records import RunRecord
from deras._core.status import NodeStatus
from deras._storage import MetadataStore


@pytest.fixture
def sqlite_store(tmp_path: Path) -> MetadataStore:
    store = MetadataStore(f"sqlite:///{tmp_path / 'deras.db'}")
    store.create_run(RunRecord("r", "assets:*", create_time=1.0))
    yield store  # type: ignore[misc]
    store.dispose()


def test_file_database_uses_wal_with_normal_sync_and_a_busy_timeout(sqlite_store: MetadataStore) -> None:
    with sqlite_store._db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_migrated_attempts_table_is_clustered_on_its_key(sqlite_store: MetadataStore) -> None:
    # One b-tree per attempt write instead of two: part of the hot path's cost per commit.
    with sqlite_store._db.engine.connect() as conn:
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'attempts'").scalar()
    assert sql is not None and "WITHOUT ROWID" in sql.upper()


def test_reads_proceed_while_another_process_holds_the_write_lock(
    sqlite_store: MetadataStore, tmp_path: Path, no_hang
) -> None:
    other = sqlite3.connect(tmp_path / "deras.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with no_hang(15):  # a blocked read would wait out the 30 s busy timeout
            assert [r.run_id for r in sqlite_store.get_runs()] == ["r"]
            assert sqlite_store.get_events("r") == []
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_writer_waits_for_the_lock_instead_of_failing(sqlite_store: MetadataStore, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "deras.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    try:
        started = time.perf_counter()
        sqlite_store.store_events([EventRecord("r", EventType.STEP_START, node="a", attempt=0)])
        assert time.perf_counter() - started >= 0.4
    finally:
        release.join()
        other.close()
    assert sqlite_store.get_node_outcomes("r") == {"a": NodeStatus.RUNNING}


def test_core_write_transactions_begin_immediate_and_reads_deferred(sqlite_store: MetadataStore) -> None:
    db = sqlite_store._db
    statements: list[str] = []
    from sqlalchemy import event

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.write_core() as conn:
            conn.exec_driver_sql("SELECT 1")
        with db.read() as conn:
            conn.exec_driver_sql("SELECT 2")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert statements == ["BEGIN IMMEDIATE", "SELECT 1", "BEGIN", "SELECT 2"]


def test_store_writes_begin_immediate(sqlite_store: MetadataStore) -> None:
    from sqlalchemy import event

    statements: list[str] = []
    engine = sqlite_store._db.engine
    engine.dispose()  # new connections, traced from their start

    def trace(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    event.listen(engine, "connect", trace)
    sqlite_store.store_events([EventRecord("r", EventType.STEP_START, node="a", attempt=0)])
    sqlite_store.update_run_status("r", sqlite_store.get_run("r").status)  # type: ignore[union-attr]
    sqlite_store.add_dynamic_partitions("d", ["k"])
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN", "BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]
    assert statements[0] == "BEGIN IMMEDIATE"


def test_ephemeral_store_is_in_memory_with_the_schema() -> None:
    store = MetadataStore.ephemeral()
    try:
        assert store.url == "sqlite://"
        store.create_run(RunRecord("r", "assets:*"), [EventRecord("r", EventType.RUN_START)])
        assert [e.event_type for e in store.get_events("r")] == [EventType.RUN_START]
    finally:
        store.dispose()
    other = MetadataStore.ephemeral()
    try:
        assert other.get_runs() == []  # each ephemeral store is its own database
    finally:
        other.dispose()


def test_ephemeral_store_is_safe_to_share_between_threads() -> None:
    store = MetadataStore.ephemeral()
    store.create_run(RunRecord("r", "assets:*"))
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(100):
                node = f"w{worker}-{i}"
                store.store_events(
                    [
                        EventRecord("r", EventType.STEP_START, node=node, attempt=0),
                        EventRecord("r", EventType.STEP_SUCCESS, node=node, attempt=0),
                    ]
                )
                store.get_runs()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(store.get_node_outcomes("r")) == 400
    finally:
        store.dispose()
