"""Runs and node attempts: rows written when a run is created and derived from its events."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam

from deras._core.errors import DerasError
from deras._core.events import DATA_ERROR, DATA_REASON, EventRecord, EventType
from deras._core.records import AttemptRecord, RunRecord
from deras._core.status import NodeStatus, RunStatus

from .database import IN_BATCH, Database, WriteTransaction, in_batch_params
from .escaping import escape_text
from .schema import attempts, dump_json, load_json, run_tags, runs

_INSERT_RUN = sa.insert(runs).values({c.name: bindparam(c.name) for c in runs.c if c.name != "id"})
# The run holding each of IN_BATCH keys, as one row. One unique-index lookup per key whatever
# the table's statistics: ``idempotency_key IN (...)`` on a table just filled by a bulk insert
# (not yet analyzed) is planned by Postgres as a scan of every run, 100 comparisons each
# (10,000 keys took 2.7 s instead of 0.15 s).
_KEY_OWNERS = sa.select(
    *(
        sa.select(runs.c.run_id).where(runs.c.idempotency_key == bindparam(f"k_{i}")).scalar_subquery()
        for i in range(IN_BATCH)
    )
)
_SET_RUN_STATUS = sa.update(runs).where(runs.c.run_id == bindparam("key")).values(status=bindparam("status"))
_SET_RUN_STARTED = (
    sa.update(runs)
    .where(runs.c.run_id == bindparam("key"))
    .values(status=bindparam("status"), start_time=bindparam("time"))
)
_SET_RUN_ENDED = (
    sa.update(runs)
    .where(runs.c.run_id == bindparam("key"))
    .values(status=bindparam("status"), end_time=bindparam("time"))
)


def _insert_tag(insert: Any) -> sa.Executable:
    """A run's tag as a row, with the run's sort key (its row id known only once inserted)."""
    source = sa.select(
        runs.c.run_id,
        sa.cast(bindparam("key"), sa.String),
        sa.cast(bindparam("value"), sa.String),
        runs.c.create_time,
        runs.c.id,
    ).where(runs.c.run_id == bindparam("run_id"))
    stmt = insert(run_tags).from_select(["run_id", "key", "value", "create_time", "run_row_id"], source)
    return stmt.on_conflict_do_nothing(index_elements=[run_tags.c.run_id, run_tags.c.key])


def insert_tags(tx: WriteTransaction, new_runs: Sequence[RunRecord]) -> None:
    """The ``run_tags`` rows of runs just inserted in ``tx`` (one per tag)."""
    rows = [
        {"run_id": run.run_id, "key": escape_text(str(k)), "value": escape_text(str(v))}
        for run in new_runs
        for k, v in run.tags.items()
    ]
    tx.executemany(_insert_tag, rows)


def _insert_run_once(insert: Any) -> sa.Executable:
    """Insert a run unless a run with its idempotency key exists (a duplicate run_id still fails)."""
    stmt = insert(runs).values({c.name: bindparam(c.name) for c in runs.c if c.name != "id"})
    return stmt.on_conflict_do_nothing(index_elements=[runs.c.idempotency_key])


def _upsert_attempts(insert: Any) -> sa.Executable:
    """Insert an attempt row, or move an existing one to its new state.

    The first known start time wins: a status event carries no start (NULL), and a skip inside
    a started attempt keeps the real start.
    """
    stmt = insert(attempts).values({c.name: bindparam(c.name) for c in attempts.c})
    return stmt.on_conflict_do_update(
        index_elements=[attempts.c.run_id, attempts.c.node, attempts.c.attempt],
        set_={
            "status": stmt.excluded.status,
            "start_time": sa.func.coalesce(attempts.c.start_time, stmt.excluded.start_time),
            "end_time": stmt.excluded.end_time,
            "error": stmt.excluded.error,
        },
    )


_RUN_END_STATUS = {
    EventType.RUN_SUCCESS: RunStatus.SUCCESS,
    EventType.RUN_FAILURE: RunStatus.FAILURE,
    EventType.RUN_CANCELED: RunStatus.CANCELED,
}
_STEP_END_STATUS = {
    EventType.STEP_SUCCESS: NodeStatus.SUCCESS,
    EventType.STEP_FAILURE: NodeStatus.FAILED,
    EventType.STEP_RETRY: NodeStatus.UP_FOR_RETRY,
}
FINISHED_RUN_STATUSES = tuple(s for s in RunStatus if s.is_finished)
RUN_EVENT_TYPES = frozenset({EventType.RUN_START, *_RUN_END_STATUS})
STEP_EVENT_TYPES = frozenset({EventType.STEP_START, EventType.STEP_SKIPPED, *_STEP_END_STATUS})


class RunChanges:
    """The run and attempt rows one batch of events changes, written by :meth:`flush`.

    Events of one attempt within the batch are folded into one row first (a batch often holds
    a step's start and its end), so each attempt costs one upsert whatever the batch holds.
    """

    __slots__ = ("_attempts", "_runs")

    def __init__(self) -> None:
        self._attempts: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._runs: list[tuple[sa.Executable, dict[str, Any]]] = []

    def add_run_event(self, event: EventRecord) -> None:
        if event.event_type is EventType.RUN_START:
            params = {"key": event.run_id, "status": RunStatus.STARTED.value, "time": event.timestamp}
            self._runs.append((_SET_RUN_STARTED, params))
        else:
            status = _RUN_END_STATUS[event.event_type]
            params = {"key": event.run_id, "status": status.value, "time": event.timestamp}
            self._runs.append((_SET_RUN_ENDED, params))

    def add_step_event(self, event: EventRecord) -> None:
        if event.node is None:
            raise DerasError(f"{event.event_type} event of run {event.run_id} has no node")
        key = (event.run_id, event.node, event.attempt or 0)
        row = self._attempts.get(key)
        if row is None:
            row = self._attempts[key] = {
                "run_id": key[0],
                "node": key[1],
                "attempt": key[2],
                "start_time": None,
            }
        kind = event.event_type
        if kind is EventType.STEP_START:
            row["status"] = NodeStatus.RUNNING.value
            row["start_time"] = event.timestamp
            row["end_time"] = row["error"] = None
        elif kind is EventType.STEP_SKIPPED:
            # A node not run because an upstream failed is skipped as "upstream_failed".
            upstream_failed = event.data.get("status") == NodeStatus.UPSTREAM_FAILED.value
            row["status"] = (NodeStatus.UPSTREAM_FAILED if upstream_failed else NodeStatus.SKIPPED).value
            # No start time unless the attempt started (a task that raised SkipTask): a node
            # skipped before it ran had no try, and shows none.
            row["end_time"] = event.timestamp
            row["error"] = event.data.get(DATA_REASON)
        else:
            row["status"] = _STEP_END_STATUS[kind].value
            row["end_time"] = event.timestamp
            row["error"] = event.data.get(DATA_ERROR) if kind is not EventType.STEP_SUCCESS else None

    def flush(self, tx: WriteTransaction) -> None:
        if self._attempts:
            tx.executemany(_upsert_attempts, list(self._attempts.values()))
        for statement, params in self._runs:
            tx.execute(statement, params)


class RunStore:
    """Runs and attempts: create a run, move its status, list and filter runs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def insert_run(self, tx: WriteTransaction, run: RunRecord) -> None:
        """Insert ``run`` (its ``create_time`` set to now if 0) in ``tx``; a duplicate id raises."""
        if not run.create_time:
            run.create_time = time.time()
        try:
            tx.execute(_INSERT_RUN, _run_row(run))
        except self._db.integrity_error as e:
            key = f" or idempotency key {run.idempotency_key!r}" if run.idempotency_key else ""
            raise DerasError(
                f"a run with id {run.run_id!r}{key} already exists: run ids must be unique "
                "(let deras generate them, or pass a new one)"
            ) from e
        insert_tags(tx, [run])

    def insert_runs(
        self, tx: WriteTransaction, new_runs: Sequence[RunRecord]
    ) -> tuple[list[RunRecord], dict[str, str]]:
        """Insert ``new_runs`` in ``tx``, skipping each whose ``idempotency_key`` is taken.

        Returns the runs inserted, and the run id that holds each of their idempotency keys
        afterwards (the run's own, or the one that had the key). A duplicate run id raises.

        Neither driver says which parameter sets of an executemany inserted a row, only how
        many did. So the keys' owners are read first (a hundred keys per query), the runs that
        should go in are inserted, and if as many rows went in as expected, that is the answer.
        Fewer means a concurrent transaction inserted some of the same keys meanwhile (on
        Postgres ours then waits for it to commit and does nothing): the owners are read again.
        """
        if not new_runs:
            return [], {}
        now = time.time()
        for run in new_runs:
            if not run.create_time:
                run.create_time = now
        keys = list(dict.fromkeys(r.idempotency_key for r in new_runs if r.idempotency_key is not None))
        owners = self._key_owners(tx, keys)
        expected: list[RunRecord] = []
        for run in new_runs:
            key = run.idempotency_key
            if key is None:
                expected.append(run)
            elif key not in owners:
                owners[key] = run.run_id  # the first run of a key repeated in new_runs wins
                expected.append(run)
        try:
            count = tx.executemany(_insert_run_once, [_run_row(run) for run in expected])
        except self._db.integrity_error as e:
            ids = ", ".join(repr(r.run_id) for r in expected[:3]) + (", ..." if len(expected) > 3 else "")
            raise DerasError(
                f"cannot create runs {ids}: a run with one of these ids already exists (or two share "
                "an id): run ids must be unique (let deras generate them, or pass new ones)"
            ) from e
        if count == len(expected):
            insert_tags(tx, expected)
            return expected, owners
        owners = self._key_owners(tx, keys)
        inserted = [
            r for r in expected if r.idempotency_key is None or owners.get(r.idempotency_key) == r.run_id
        ]
        insert_tags(tx, inserted)
        return inserted, owners

    @staticmethod
    def _key_owners(tx: WriteTransaction, keys: Sequence[str]) -> dict[str, str]:
        owners: dict[str, str] = {}
        for start in range(0, len(keys), IN_BATCH):
            chunk = keys[start : start + IN_BATCH]
            (params,) = in_batch_params("k", chunk)
            row = tx.fetchall(_KEY_OWNERS, params)[0]  # one run id or NULL per place, IN_BATCH of them
            owners.update(
                (key, run_id) for key, run_id in zip(chunk, row[: len(chunk)], strict=True) if run_id
            )
        return owners

    def update_run_status(self, run_id: str, status: RunStatus) -> None:
        params = {"key": run_id, "status": RunStatus(status).value}
        changed = self._db.transact(lambda tx: tx.rowcount(_SET_RUN_STATUS, params))
        if not changed:
            raise DerasError(f"cannot set the status of run {run_id!r}: no such run")

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
        return None if row is None else run_record(row)

    def get_run_by_idempotency_key(self, key: str) -> RunRecord | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.idempotency_key == key)).first()
        return None if row is None else run_record(row)

    def get_runs_finished_after(self, end_time: float, limit: int | None = None) -> list[RunRecord]:
        query = (
            sa.select(runs)
            .where(runs.c.end_time > end_time, runs.c.status.in_([s.value for s in FINISHED_RUN_STATUSES]))
            .order_by(runs.c.end_time, runs.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            return [run_record(row) for row in conn.execute(query)]

    def count_backfill_runs(self, backfill_id: str) -> tuple[int, int]:
        """``(runs, finished runs)`` of a backfill, from the index: a cheap "anything new?"."""
        finished = [s.value for s in FINISHED_RUN_STATUSES]
        query = sa.select(sa.func.count(), sa.func.count(sa.case((runs.c.status.in_(finished), 1)))).where(
            runs.c.backfill_id == backfill_id
        )
        with self._db.read() as conn:
            total, done = conn.execute(query).one()
        return int(total), int(done)

    def get_runs(
        self,
        limit: int | None = None,
        status: RunStatus | Sequence[RunStatus] | None = None,
        tags: Mapping[str, str] | None = None,
        backfill_id: str | None = None,
        dag_id: str | None = None,
        before: str | None = None,
    ) -> list[RunRecord]:
        with self._db.read() as conn:
            query = sa.select(runs)
            if dag_id is not None:
                order = (runs.c.logical_date, runs.c.id)
                query = query.where(runs.c.dag_id == dag_id)
            else:
                order = (runs.c.create_time, runs.c.id)
            query = query.order_by(*(column.desc() for column in order))
            if before is not None:
                query = query.where(sa.tuple_(*order) < sa.tuple_(*_page_key(conn, before, dag_id)))
            if status is not None:
                statuses = [status] if isinstance(status, str) else list(status)
                query = query.where(runs.c.status.in_([RunStatus(s).value for s in statuses]))
            if backfill_id is not None:
                query = query.where(runs.c.backfill_id == backfill_id)
            if not tags:
                if limit is not None:
                    query = query.limit(limit)
                return [run_record(row) for row in conn.execute(query)]
            # Tags are a JSON column: LIKE on each "key":"value" fragment narrows the scan in the
            # database (the encoder is fixed, so the fragment is in the stored text), then the
            # exact comparison drops what LIKE over-matches (SQLite's LIKE ignores ASCII case).
            # Tags are stored with text UTF-8 cannot encode escaped: so is what they are compared to.
            wanted = {escape_text(str(k)): escape_text(str(v)) for k, v in tags.items()}
            for key, value in wanted.items():
                query = query.where(runs.c.tags.contains(dump_json({key: value})[1:-1], autoescape=True))
            found: list[RunRecord] = []
            for row in conn.execute(query):
                record = run_record(row)
                if all(record.tags.get(k) == v for k, v in wanted.items()):
                    found.append(record)
                    if limit is not None and len(found) >= limit:
                        break
            return found

    def get_attempts(self, run_id: str, node: str | None = None) -> list[AttemptRecord]:
        query = (
            sa.select(attempts)
            .where(attempts.c.run_id == run_id)
            .order_by(
                sa.func.coalesce(attempts.c.start_time, attempts.c.end_time),
                attempts.c.node,
                attempts.c.attempt,
            )
        )
        if node is not None:
            query = query.where(attempts.c.node == node)
        with self._db.read() as conn:
            return [
                AttemptRecord(
                    run_id=row.run_id,
                    node=row.node,
                    attempt=row.attempt,
                    status=NodeStatus(row.status),
                    start_time=row.start_time,
                    end_time=row.end_time,
                    error=row.error,
                )
                for row in conn.execute(query)
            ]

    def get_node_outcomes(self, run_id: str) -> dict[str, NodeStatus]:
        query = (
            sa.select(attempts.c.node, attempts.c.status)
            .where(attempts.c.run_id == run_id)
            .order_by(attempts.c.node, attempts.c.attempt)
        )
        with self._db.read() as conn:
            # Rows come by attempt number, so the last one assigned is the latest attempt.
            return {row.node: NodeStatus(row.status) for row in conn.execute(query)}


def _page_key(conn: Any, run_id: str, dag_id: str | None) -> tuple[Any, int]:
    """Where the page after run ``run_id`` starts: its (logical date or create time, id)."""
    row = conn.execute(
        sa.select(runs.c.id, runs.c.create_time, runs.c.dag_id, runs.c.logical_date).where(
            runs.c.run_id == run_id
        )
    ).first()
    if row is None:
        raise DerasError(f"cannot list the runs before run {run_id!r}: no such run")
    if dag_id is None:
        return row.create_time, row.id
    if row.dag_id != dag_id or row.logical_date is None:
        raise DerasError(
            f"cannot list the runs of DAG {dag_id!r} before run {run_id!r}: it is not a run of that DAG"
        )
    return row.logical_date, row.id


def _run_row(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "target": run.target,
        "status": RunStatus(run.status).value,
        "job_name": run.job_name,
        "partition_key": run.partition_key,
        "partition_range": None if run.partition_range is None else dump_json(list(run.partition_range)),
        "tags": dump_json(run.tags),
        "run_config": dump_json(run.run_config),
        "selection": None if run.selection is None else dump_json(list(run.selection)),
        "code_location": None if run.code_location is None else dump_json(run.code_location),
        "parent_run_id": run.parent_run_id,
        "root_run_id": run.root_run_id,
        "backfill_id": run.backfill_id,
        "create_time": run.create_time,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "idempotency_key": run.idempotency_key,
        "priority": run.priority,
        "heartbeat": run.heartbeat,
        "worker": None if run.worker is None else dump_json(run.worker),
        "dag_id": run.dag_id,
        "logical_date": None if run.logical_date is None else run.logical_date.timestamp(),
        "run_type": run.run_type,
    }


def run_record(row: sa.Row[Any]) -> RunRecord:
    partition_range: tuple[str, str] | None = None
    if row.partition_range is not None:
        first, last = load_json(row.partition_range)
        partition_range = (first, last)
    return RunRecord(
        run_id=row.run_id,
        target=row.target,
        status=RunStatus(row.status),
        job_name=row.job_name,
        partition_key=row.partition_key,
        partition_range=partition_range,
        tags=load_json(row.tags),
        run_config=load_json(row.run_config),
        selection=None if row.selection is None else load_json(row.selection),
        code_location=None if row.code_location is None else load_json(row.code_location),
        parent_run_id=row.parent_run_id,
        root_run_id=row.root_run_id,
        backfill_id=row.backfill_id,
        create_time=row.create_time,
        start_time=row.start_time,
        end_time=row.end_time,
        idempotency_key=row.idempotency_key,
        priority=row.priority,
        heartbeat=row.heartbeat,
        worker=None if row.worker is None else load_json(row.worker),
        dag_id=row.dag_id,
        logical_date=None if row.logical_date is None else datetime.fromtimestamp(row.logical_date, UTC),
        run_type=row.run_type,
    )
