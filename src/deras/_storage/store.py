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

from .assets import AssetStore
from .backfills import BackfillStore
from .database import Database
from .engine import create_engine, is_memory_sqlite
from .events import EventStore
from .run_queue import RunQueueStore
from .runs import RunStore
from .schema import KNOWN_REVISIONS, SCHEMA_REVISION, VERSION_TABLE, metadata, version_table
from .slots import SlotStore
from .ticks import TickStore

MEMORY_URL = "sqlite://"


class MetadataStore:
    """Runs, the event log and everything derived from it, in SQLite or Postgres.

    Opening a database without a deras schema creates it; opening one at another schema
    revision raises :class:`DerasError` asking for ``deras db upgrade``. The check costs one
    small query and does not import alembic.

    Writes happen in one transaction per call: :meth:`store_events` appends a batch of events
    and applies everything they imply (run status, attempts, materializations, check results,
    partition status), so readers never see an event without its effects.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        engine = create_engine(url)
        self._db = Database(engine)
        self._runs = RunStore(self._db)
        self._events = EventStore(self._db)
        self._assets = AssetStore(self._db)
        self._watch: Any = None  # the connection change_token() reads
        self._notices = 0
        self._run_queue = RunQueueStore(self._db, self._events)
        self._ticks = TickStore(self._db)
        self._backfills = BackfillStore(self._db, self._runs)
        self._slots = SlotStore(self._db)
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

    def upgrade(self) -> None:
        """Migrate the schema to this version of deras (``alembic upgrade head``); idempotent."""
        from .migrations import upgrade_to_head  # alembic is imported only when migrating

        upgrade_to_head(self._db)

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
        self._notices += sum(1 for _ in self._watch.notifies(timeout=0))
        return self._notices

    def _ensure_schema(self) -> None:
        revisions = self._schema_revisions()
        if revisions == [SCHEMA_REVISION]:
            return
        if not revisions:
            if is_memory_sqlite(self._db.engine.url):
                self._create_schema_directly()
            else:
                self.upgrade()
            return
        where = self._db.engine.url.render_as_string(hide_password=True)
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

    def _schema_revisions(self) -> list[str]:
        """The revisions in alembic's version table; ``[]`` if there is no deras schema."""
        with self._db.read() as conn:
            try:
                rows = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").all()
            except (sa.exc.OperationalError, sa.exc.ProgrammingError):
                return []  # no version table
        return sorted(row[0] for row in rows)

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
        with self._db.write() as tx:
            for run in runs:
                self._runs.insert_run(tx, run)
            ids = self._events.append(tx, events) if events else []
        for event, event_id in zip(events, ids, strict=True):
            event.id = event_id

    def create_runs(self, runs: Sequence[RunRecord]) -> list[RunRecord]:
        """Insert ``runs`` in one transaction; returns those inserted, in order.

        A run whose ``idempotency_key`` another run already has is skipped, so creating the
        runs of a retried tick again is harmless; a duplicate run id raises.
        """
        with self._db.write() as tx:
            inserted, _ = self._runs.insert_runs(tx, runs)
            if inserted:
                tx.announce_work()
        return inserted

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
    ) -> list[RunRecord]:
        """Runs, newest first, with any of ``status``, every tag of ``tags``, and ``backfill_id``."""
        return self._runs.get_runs(limit=limit, status=status, tags=tags, backfill_id=backfill_id)

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
