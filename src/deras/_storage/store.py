"""MetadataStore: the one storage interface, composed of the run, event and asset stores.

The daemon's stores (run queue, ticks, backfills, concurrency slots) are properties of the
store rather than methods of it: each is a small interface of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from deras._core.errors import DerasError
from deras._core.events import EventRecord, EventType
from deras._core.ranges import IndexRanges
from deras._core.records import AttemptRecord, CheckResultRecord, MaterializationRecord, RunRecord
from deras._core.status import NodeStatus, PartitionState, RunStatus

from .asset_reads import AssetReads
from .assets import AssetStore
from .backfills import BackfillStore
from .daemon_heartbeats import DaemonHeartbeatStore
from .database import Database, WriteTransaction
from .engine import create_engine, is_memory_sqlite, sqlite_file
from .events import EventStore
from .reconnect import DEFAULT_RETRY_SECONDS, is_connection_error
from .run_queue import RunQueueStore
from .run_reads import RunReads
from .runs import RunStore
from .schema import (
    DERAS_TABLE_NAMES,
    KNOWN_REVISIONS,
    SCHEMA_REVISION,
    VERSION_TABLE,
    metadata,
    version_table,
)
from .slots import SlotStore
from .sqlite_file import damaged, prepare_sqlite_file
from .step_claims import StepClaimStore
from .step_watch import StepWatch
from .ticks import TickStore
from .variables import VariableStore

MEMORY_URL = "sqlite://"
_NAMES = ", ".join(f"'{name}'" for name in sorted(DERAS_TABLE_NAMES))
_TABLE_COUNT_SQLITE = f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({_NAMES})"
_TABLE_COUNT_POSTGRES = (
    "SELECT count(*) FROM pg_catalog.pg_tables "
    f"WHERE schemaname = current_schema() AND tablename IN ({_NAMES})"
)


def build_schema(url: sa.URL) -> None:
    """Create the deras schema in the (new) database at ``url``, with the migrations."""
    from .migrations import upgrade_to_head

    engine = create_engine(url)
    try:
        upgrade_to_head(Database(engine))
    finally:
        engine.dispose()


class MetadataStore:
    """Runs, the event log and everything derived from it, in SQLite or Postgres.

    Opening a database without a deras schema creates it; opening one at another schema
    revision raises :class:`DerasError` asking for ``deras db upgrade``, and one that lacks a
    deras table (or a SQLite file emptied to 0 bytes) raises :class:`DamagedDatabase`. The
    check costs one small query and does not import alembic; ``deras db check`` compares every
    column and index and checks the file's integrity (``health.py``).

    A lost Postgres connection is ridden out for up to ``retry_seconds`` (``reconnect.py``).

    Writes happen in one transaction per call: :meth:`store_events` appends a batch of events
    and applies everything they imply (run status, attempts, materializations, check results,
    partition status), so readers never see an event without its effects.
    """

    def __init__(self, url: str, *, retry_seconds: float = DEFAULT_RETRY_SECONDS) -> None:
        self._url = url
        parsed = sa.make_url(url)
        if sqlite_file(parsed) is not None:
            prepare_sqlite_file(parsed, build_schema)
        engine = create_engine(parsed)
        self._db = Database(engine, retry_seconds)
        self._runs = RunStore(self._db)
        self._events = EventStore(self._db)
        self._assets = AssetStore(self._db)
        self._watch: Any = None  # the connection change_token() reads
        self._notices = 0
        self._run_queue = RunQueueStore(self._db, self._events)
        self._ticks = TickStore(self._db)
        self._backfills = BackfillStore(self._db, self._runs)
        self._slots = SlotStore(self._db)
        self._steps = StepClaimStore(self._db, self._events)
        self._run_reads = RunReads(self._db)
        self._asset_reads = AssetReads(self._db)
        self._heartbeats = DaemonHeartbeatStore(self._db)
        self._variables = VariableStore(self._db)
        try:
            self._ensure_schema()
        except BaseException:
            engine.dispose()
            raise

    @classmethod
    def ephemeral(cls) -> MetadataStore:
        """A store in memory, for tests and one-off runs; gone when disposed."""
        return cls(MEMORY_URL)

    @property
    def url(self) -> str:
        return self._url

    @property
    def url_for_display(self) -> str:
        """The database URL without its password (for messages and comparisons)."""
        return self._db.engine.url.render_as_string(hide_password=True)

    @property
    def run_queue(self) -> RunQueueStore:
        """Queued runs to launch, heartbeats of their workers, cancels."""
        return self._run_queue

    @property
    def ticks(self) -> TickStore:
        """Ticks of schedules and sensors, and each one's status and cursor."""
        return self._ticks

    @property
    def backfills(self) -> BackfillStore:
        return self._backfills

    @property
    def slots(self) -> SlotStore:
        """Concurrency slots of pools shared by the nodes of all runs."""
        return self._slots

    @property
    def steps(self) -> StepClaimStore:
        """Claims of step attempts run by remote workers (the Celery executor's)."""
        return self._steps

    @property
    def run_reads(self) -> RunReads:
        """Pages of runs and windows of a DAG's runs, for the read model (``_instance/views``)."""
        return self._run_reads

    @property
    def asset_reads(self) -> AssetReads:
        """The latest facts of many assets at once, for the read model."""
        return self._asset_reads

    @property
    def daemon_heartbeats(self) -> DaemonHeartbeatStore:
        """Which daemons run, and when each of their components last ran."""
        return self._heartbeats

    @property
    def variables(self) -> VariableStore:
        """Airflow-style variables: named values DAG code and templates read."""
        return self._variables

    def watch_steps(self, run_id: str) -> StepWatch:
        """Something to wait on until a remote worker closes a step claim of ``run_id``."""
        return StepWatch(self._db, run_id)

    def upgrade(self) -> None:
        """Migrate the schema to this version of deras (``alembic upgrade head``); idempotent."""
        from .migrations import upgrade_to_head  # alembic is imported only when migrating

        self._db.retrying(lambda: upgrade_to_head(self._db))

    def dispose(self) -> None:
        """Close every pooled connection (an in-memory database is lost)."""
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        self._db.engine.dispose()

    def change_token(self) -> int | None:
        """A number that changes when another connection may have added work; None if unknown.

        SQLite: ``PRAGMA data_version`` on one long-lived connection — it changes with every
        commit by another connection, and reading it costs microseconds and no I/O. Postgres: a
        count of ``NOTIFY deras_work`` messages (sent at commit by whoever queues runs, creates
        a backfill or cancels), read without blocking from a connection that LISTENs. The daemon
        polls this while idle, so runs queued by other processes start within milliseconds.
        """
        if is_memory_sqlite(self._db.engine.url):
            return None
        if self._db.is_sqlite:
            if self._watch is None:
                self._watch = self._db.engine.raw_connection()
            return int(self._watch.cursor().execute("PRAGMA data_version").fetchone()[0])
        if self._watch is None:
            import psycopg

            from .database import WORK_CHANNEL

            url = self._db.engine.url.set(drivername="postgresql")
            self._watch = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._watch.execute(f"LISTEN {WORK_CHANNEL}")
        try:
            self._notices += sum(1 for _ in self._watch.notifies(timeout=0))
        except Exception as err:
            if not is_connection_error(err):
                raise
            # Lost: notices may have been missed, so report a change; LISTEN anew next time.
            self._watch.close()
            self._watch = None
            self._notices += 1
        return self._notices

    def _ensure_schema(self) -> None:
        revisions, tables = self._schema_revisions()
        if revisions == [SCHEMA_REVISION]:
            if tables < len(DERAS_TABLE_NAMES):
                missing = sorted(DERAS_TABLE_NAMES - self._table_names())
                raise damaged(self._where(), f"table(s) {', '.join(missing)} missing")
            return
        if not revisions:
            if tables:
                raise damaged(self._where(), f"it has deras tables but no {VERSION_TABLE} table")
            if is_memory_sqlite(self._db.engine.url):
                self._create_schema_directly()
            else:
                self.upgrade()
            return
        where = self._where()
        found = ", ".join(revisions)
        if all(rev in KNOWN_REVISIONS for rev in revisions):
            raise DerasError(
                f"the deras database at {where} has schema revision {found}, older than this "
                f"version of deras needs ({SCHEMA_REVISION}): run `deras db upgrade` to migrate it "
                "(back it up first)"
            )
        raise DerasError(
            f"the deras database at {where} has schema revision {found}, unknown to this version "
            f"of deras (which needs {SCHEMA_REVISION}); it was probably migrated by a newer deras: "
            "upgrade deras, or run `deras db upgrade` with the version that wrote it"
        )

    def _where(self) -> str:
        path = sqlite_file(self._db.engine.url)
        return str(path) if path is not None else self._db.where

    def _schema_revisions(self) -> tuple[list[str], int]:
        """The revisions in alembic's version table (``[]`` if there is none), and how many
        deras tables exist: one query."""
        catalog = _TABLE_COUNT_SQLITE if self._db.is_sqlite else _TABLE_COUNT_POSTGRES
        with self._db.read() as conn:
            try:
                rows = conn.exec_driver_sql(f"SELECT version_num, ({catalog}) FROM {VERSION_TABLE}").all()
            except (sa.exc.OperationalError, sa.exc.ProgrammingError):
                rows = None  # no version table
        if rows is None:
            with self._db.read() as conn:
                return [], int(conn.exec_driver_sql(catalog).scalar_one())
        return sorted(row[0] for row in rows), int(rows[0][1]) if rows else 0

    def _table_names(self) -> set[str]:
        return set(sa.inspect(self._db.engine).get_table_names())

    def _create_schema_directly(self) -> None:
        # An in-memory database is always new: building the tables from the schema (what the
        # migrations build, as tests/storage checks) skips importing and running alembic.
        with self._db.write_core() as conn:
            metadata.create_all(conn)
            version_table.create(conn)
            conn.execute(version_table.insert().values(version_num=SCHEMA_REVISION))

    # -- runs ---------------------------------------------------------------------------------

    def create_run(self, run: RunRecord, events: Sequence[EventRecord] = ()) -> None:
        """Insert ``run`` and append ``events`` in one transaction; a duplicate run_id raises.

        ``run.create_time`` is set to now if 0, and each event's ``id`` once stored.
        """
        self.write(runs=[run], events=events)

    def write(self, *, runs: Sequence[RunRecord] = (), events: Sequence[EventRecord] = ()) -> None:
        """Insert ``runs``, then append ``events`` (of those or earlier runs), in one transaction.

        Lets a process that executes many short runs back to back store them together.
        """

        def write(tx: WriteTransaction) -> list[int]:
            for run in runs:
                self._runs.insert_run(tx, run)
            return self._events.append(tx, events) if events else []

        ids = self._db.transact(write)
        for event, event_id in zip(events, ids, strict=True):
            event.id = event_id

    def create_runs(self, runs: Sequence[RunRecord]) -> list[RunRecord]:
        """Insert ``runs`` in one transaction; returns those inserted, in order.

        A run whose ``idempotency_key`` another run already has is skipped, so creating the
        runs of a retried tick again is harmless; a duplicate run id raises.
        """

        def create(tx: WriteTransaction) -> list[RunRecord]:
            inserted, _ = self._runs.insert_runs(tx, runs)
            if inserted:
                tx.announce_work()
            return inserted

        return self._db.transact(create)

    def get_run_by_idempotency_key(self, key: str) -> RunRecord | None:
        return self._runs.get_run_by_idempotency_key(key)

    def count_backfill_runs(self, backfill_id: str) -> tuple[int, int]:
        """``(runs, finished runs)`` of a backfill (retries included)."""
        return self._runs.count_backfill_runs(backfill_id)

    def get_runs_finished_after(self, end_time: float, limit: int | None = None) -> list[RunRecord]:
        """Finished runs that ended after ``end_time``, by end time then creation order.

        "After" is strict: when ``limit`` cuts between runs that ended at the same instant,
        asking again from that instant skips the rest of them. A reader paging with ``limit``
        asks from just below the last end time it saw and drops the run ids it already has.
        """
        return self._runs.get_runs_finished_after(end_time, limit)

    def store_events(self, events: Sequence[EventRecord]) -> None:
        """Append ``events`` and apply what they imply, in one transaction; sets each ``.id``."""
        self._events.store_events(events)

    def update_run_status(self, run_id: str, status: RunStatus) -> None:
        self._runs.update_run_status(run_id, status)

    def get_run(self, run_id: str) -> RunRecord | None:
        return self._runs.get_run(run_id)

    def get_runs(
        self,
        limit: int | None = None,
        status: RunStatus | Sequence[RunStatus] | None = None,
        tags: Mapping[str, str] | None = None,
        backfill_id: str | None = None,
        dag_id: str | None = None,
        before: str | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, with any of ``status``, every tag of ``tags``, and ``backfill_id``.

        With ``dag_id``, that DAG's runs by logical date, latest first (an index range, not a
        scan). ``before`` is the run id that ended the previous page: the next ``limit`` runs
        after it in the same order, however many runs are created meanwhile.
        """
        return self._runs.get_runs(
            limit=limit, status=status, tags=tags, backfill_id=backfill_id, dag_id=dag_id, before=before
        )

    def get_events(
        self,
        run_id: str,
        *,
        node: str | None = None,
        event_types: Sequence[EventType] | None = None,
        after_id: int | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[EventRecord]:
        """The run's events in the order stored (by id), or newest first; ``offset``/``limit`` page them."""
        return self._events.get_events(
            run_id,
            node=node,
            event_types=event_types,
            after_id=after_id,
            limit=limit,
            offset=offset,
            newest_first=newest_first,
        )

    def runs_with_events_after(self, after_id: int | None, limit: int = 10_000) -> tuple[int, set[str]]:
        """The newest event id and the runs that have events after ``after_id`` (see EventStore)."""
        return self._events.runs_with_events_after(after_id, limit)

    def get_attempts(self, run_id: str, node: str | None = None) -> list[AttemptRecord]:
        """The run's attempts ordered by start time."""
        return self._runs.get_attempts(run_id, node)

    def get_node_outcomes(self, run_id: str) -> dict[str, NodeStatus]:
        """Each node's status in the run: the status of its latest attempt."""
        return self._runs.get_node_outcomes(run_id)

    # -- assets -------------------------------------------------------------------------------

    def get_latest_materialization(
        self, asset_key: str, partition: str | None = None
    ) -> MaterializationRecord | None:
        """The newest materialization of the asset: of ``partition`` if given, else of any."""
        return self._assets.get_latest_materialization(asset_key, partition)

    def get_materializations(self, asset_key: str, limit: int | None = None) -> list[MaterializationRecord]:
        """The asset's materializations, newest first."""
        return self._assets.get_materializations(asset_key, limit)

    def get_materializations_after(
        self, event_id: int, asset_keys: Sequence[str] | None = None, limit: int | None = None
    ) -> list[MaterializationRecord]:
        """Materializations with an event id above ``event_id``, oldest first (for sensors)."""
        return self._assets.get_materializations_after(event_id, asset_keys, limit)

    def get_latest_materialization_event_ids(self, asset_keys: Sequence[str]) -> dict[str, int]:
        """The newest materialization event id of each asset that has one (others absent)."""
        return self._assets.get_latest_materialization_event_ids(asset_keys)

    def get_materialized_partitions(self, asset_key: str) -> list[str]:
        return self._assets.get_materialized_partitions(asset_key)

    def get_check_results(
        self, *, asset_key: str | None = None, run_id: str | None = None
    ) -> list[CheckResultRecord]:
        """Check results, oldest first."""
        return self._assets.get_check_results(asset_key=asset_key, run_id=run_id)

    def get_partition_status(self, asset_key: str) -> tuple[str | None, dict[PartitionState, IndexRanges]]:
        """``(def_id, ranges per state)`` with every state present, or ``(None, {})``."""
        return self._assets.get_partition_status(asset_key)

    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        self._assets.add_dynamic_partitions(name, keys)

    def get_dynamic_partitions(self, name: str) -> list[str]:
        return self._assets.get_dynamic_partitions(name)

    def get_dynamic_partition_indices(self, name: str) -> dict[str, int]:
        return self._assets.get_dynamic_partition_indices(name)

    def delete_dynamic_partition(self, name: str, key: str) -> None:
        self._assets.delete_dynamic_partition(name, key)

    def __repr__(self) -> str:
        return f"MetadataStore({self._db.engine.url.render_as_string(hide_password=True)!r})"
