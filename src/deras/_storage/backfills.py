"""Backfills and their units: what to run over which partitions, and how far it got.

A backfill is created with all its units ``pending``. The backfill daemon then queues them in
batches: :meth:`BackfillStore.queue_units` inserts a batch's runs and marks their units
``queued`` in one transaction, so after a crash a unit is either pending with no run, or
queued with its run, never in between. Runs carry idempotency keys, so a batch written again
creates no second run of a unit. ``(backfill_id, stage, partition_key)`` is a unit's key: a
partition is queued at most once per stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam

from deras._core.errors import DerasError
from deras._core.records import BackfillRecord, BackfillUnit, RunRecord
from deras._core.status import BackfillStatus, UnitStatus

from .database import Database, WriteTransaction
from .runs import RunStore
from .schema import backfill_units as units
from .schema import backfills, dump_json, load_json

_INSERT_BACKFILL = sa.insert(backfills).values({c.name: bindparam(c.name) for c in backfills.c})
_INSERT_UNIT = sa.insert(units).values({c.name: bindparam(c.name) for c in units.c})
# Compare-and-set waits for a lock held elsewhere: it must compare with the latest status.
_LOCK_STATUS = (
    sa.select(backfills.c.status).where(backfills.c.backfill_id == bindparam("backfill_id")).with_for_update()
)
_SET_STATUS = (
    sa.update(backfills)
    .where(backfills.c.backfill_id == bindparam("backfill_id"))
    .values(
        status=bindparam("status"),
        end_time=bindparam("end_time"),
        error=sa.func.coalesce(bindparam("error", type_=sa.Text), backfills.c.error),
    )
)
_UNIT_KEY = (
    units.c.backfill_id == bindparam("backfill_id"),
    units.c.stage == bindparam("stage"),
    units.c.partition_key == bindparam("partition_key"),
)
# Only a pending unit moves. The condition is in SET, not WHERE: with ``status = 'pending'`` in
# WHERE, Postgres may look units up by ix_backfill_units_status (a new backfill's table has no
# statistics yet), scanning every pending unit of the backfill for each one: 10,000 units took
# 12 s instead of 0.1 s.
_STILL_PENDING = units.c.status == bindparam("pending")
_QUEUE_UNIT = (
    sa.update(units)
    .where(*_UNIT_KEY)
    .values(
        status=sa.case((_STILL_PENDING, bindparam("queued")), else_=units.c.status),
        run_id=sa.case((_STILL_PENDING, bindparam("run_id")), else_=units.c.run_id),
    )
)
_SET_UNIT_STATUS = sa.update(units).where(*_UNIT_KEY).values(status=bindparam("status"))


class BackfillStore:
    """Create backfills, move their status, and queue and track their units."""

    def __init__(self, db: Database, run_store: RunStore) -> None:
        self._db = db
        self._runs = run_store

    def create_backfill(self, record: BackfillRecord, units: Sequence[BackfillUnit]) -> None:
        """Insert the backfill and its units in one transaction; a duplicate id raises."""
        rows = [_unit_row(record.backfill_id, unit) for unit in units]

        def create(tx: WriteTransaction) -> None:
            tx.execute(_INSERT_BACKFILL, _backfill_row(record))
            tx.executemany(_INSERT_UNIT, rows)
            tx.announce_work()

        try:
            self._db.transact(create)
        except self._db.integrity_error as e:
            raise DerasError(
                f"cannot create backfill {record.backfill_id!r}: a backfill with this id already "
                "exists, or two of its units have the same stage and partition key"
            ) from e

    def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        query = sa.select(backfills).where(backfills.c.backfill_id == backfill_id)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _backfill_record(row)

    def get_backfills(
        self, limit: int | None = None, status: BackfillStatus | Sequence[BackfillStatus] | None = None
    ) -> list[BackfillRecord]:
        """Backfills, newest first."""
        query = sa.select(backfills).order_by(backfills.c.create_time.desc(), backfills.c.backfill_id.desc())
        if status is not None:
            query = query.where(backfills.c.status.in_(_values(BackfillStatus, status)))
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            return [_backfill_record(row) for row in conn.execute(query)]

    def backfills_page(self, *, limit: int, after: tuple[float, str] | None = None) -> list[BackfillRecord]:
        """Backfills newest first, after the key ``(create_time, backfill_id)`` of the last one
        shown: a range of ``ix_backfills_create_time``."""
        b = backfills
        query = sa.select(b).order_by(b.c.create_time.desc(), b.c.backfill_id.desc()).limit(limit)
        if after is not None:
            query = query.where(
                sa.tuple_(b.c.create_time, b.c.backfill_id)
                < sa.tuple_(sa.literal(after[0], sa.Double), sa.literal(after[1]))
            )
        with self._db.read() as conn:
            return [_backfill_record(row) for row in conn.execute(query)]

    def unit_counts_of(self, backfill_ids: Sequence[str]) -> dict[str, dict[UnitStatus, int]]:
        """:meth:`unit_counts` of many backfills in one grouped read of ``ix_backfill_units_status``."""
        out = {backfill_id: dict.fromkeys(UnitStatus, 0) for backfill_id in backfill_ids}
        if not out:
            return out
        query = (
            sa.select(units.c.backfill_id, units.c.status, sa.func.count())
            .where(units.c.backfill_id.in_(list(out)))
            .group_by(units.c.backfill_id, units.c.status)
        )
        with self._db.read() as conn:
            for backfill_id, status, count in conn.execute(query):
                out[backfill_id][UnitStatus(status)] = int(count)
        return out

    def set_status(
        self,
        backfill_id: str,
        status: BackfillStatus,
        *,
        now: float,
        error: str | None = None,
        expected: Sequence[BackfillStatus] | None = None,
    ) -> bool:
        """Move the backfill to ``status``; only from one of ``expected`` if given.

        Returns whether it moved (False: no such backfill, or not in an expected status), so
        that, say, the daemon completing a backfill and a user canceling it cannot both win.
        A finished status sets ``end_time`` to ``now``; ``error`` is kept unless a new one is given.
        """
        status = BackfillStatus(status)
        params = {
            "backfill_id": backfill_id,
            "status": status.value,
            "end_time": now if status.is_finished else None,
            "error": error,
        }

        def move(tx: WriteTransaction) -> bool:
            rows = tx.fetchall(_LOCK_STATUS, {"backfill_id": backfill_id})
            if not rows or (expected is not None and rows[0][0] not in _values(BackfillStatus, expected)):
                return False
            tx.execute(_SET_STATUS, params)
            if status == BackfillStatus.CANCELING:
                tx.announce_work()
            return True

        return self._db.transact(move)

    def get_units(
        self,
        backfill_id: str,
        status: UnitStatus | Sequence[UnitStatus] | None = None,
        stage: int | None = None,
        limit: int | None = None,
    ) -> list[BackfillUnit]:
        """The backfill's units in queueing order: by stage, then ``idx``."""
        query = (
            sa.select(units).where(units.c.backfill_id == backfill_id).order_by(units.c.stage, units.c.idx)
        )
        if status is not None:
            query = query.where(units.c.status.in_(_values(UnitStatus, status)))
        if stage is not None:
            query = query.where(units.c.stage == stage)
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            return [
                BackfillUnit(
                    backfill_id=row.backfill_id,
                    stage=row.stage,
                    partition_key=row.partition_key,
                    partition_last=row.partition_last,
                    idx=row.idx,
                    status=UnitStatus(row.status),
                    run_id=row.run_id,
                )
                for row in conn.execute(query)
            ]

    def unit_counts(self, backfill_id: str) -> dict[UnitStatus, int]:
        """How many units are in each status (every status present, zeros included)."""
        query = (
            sa.select(units.c.status, sa.func.count())
            .where(units.c.backfill_id == backfill_id)
            .group_by(units.c.status)
        )
        counts = dict.fromkeys(UnitStatus, 0)
        with self._db.read() as conn:
            for status, count in conn.execute(query):
                counts[UnitStatus(status)] = count
        return counts

    def queue_units(
        self, backfill_id: str, assignments: Sequence[tuple[BackfillUnit, RunRecord]]
    ) -> list[str]:
        """Insert each unit's run and mark the unit queued with it, in one transaction.

        Runs whose idempotency key exists are not inserted again (as ``create_runs``), and
        their unit points at the run holding the key. Only pending units move: a unit already
        queued keeps its run. Returns the ids of the runs inserted.
        """

        def queue(tx: WriteTransaction) -> list[RunRecord]:
            inserted, owners = self._runs.insert_runs(tx, [run for _, run in assignments])
            rows = [
                {
                    "backfill_id": backfill_id,
                    "stage": unit.stage,
                    "partition_key": unit.partition_key,
                    "run_id": owners.get(run.idempotency_key or "", run.run_id),
                    "pending": UnitStatus.PENDING.value,
                    "queued": UnitStatus.QUEUED.value,
                }
                for unit, run in assignments
            ]
            tx.executemany(_QUEUE_UNIT, rows)
            return inserted

        return [run.run_id for run in self._db.transact(queue)]

    def set_unit_status(self, backfill_id: str, updates: Sequence[tuple[int, str, UnitStatus]]) -> None:
        """Set the status of units given as ``(stage, partition_key, status)``."""
        rows = [
            {
                "backfill_id": backfill_id,
                "stage": stage,
                "partition_key": key,
                "status": UnitStatus(status).value,
            }
            for stage, key, status in updates
        ]
        self._db.transact(lambda tx: tx.executemany(_SET_UNIT_STATUS, rows))


def _values(kind: type[BackfillStatus] | type[UnitStatus], statuses: Any) -> list[str]:
    """The stored words of one status or several."""
    return [kind(s).value for s in ([statuses] if isinstance(statuses, str) else statuses)]


def _unit_row(backfill_id: str, unit: BackfillUnit) -> dict[str, Any]:
    return {
        "backfill_id": backfill_id,
        "stage": unit.stage,
        "partition_key": unit.partition_key,
        "partition_last": unit.partition_last,
        "idx": unit.idx,
        "status": UnitStatus(unit.status).value,
        "run_id": unit.run_id,
    }


def _backfill_row(record: BackfillRecord) -> dict[str, Any]:
    return {
        "backfill_id": record.backfill_id,
        "status": BackfillStatus(record.status).value,
        "target": dump_json(record.target),
        "code_location": None if record.code_location is None else dump_json(record.code_location),
        "tags": dump_json(record.tags),
        "run_config": dump_json(record.run_config),
        "policy": None if record.policy is None else dump_json(record.policy),
        "parent_backfill_id": record.parent_backfill_id,
        "num_units": record.num_units,
        "create_time": record.create_time,
        "end_time": record.end_time,
        "error": record.error,
    }


def _backfill_record(row: sa.Row[Any]) -> BackfillRecord:
    return BackfillRecord(
        backfill_id=row.backfill_id,
        status=BackfillStatus(row.status),
        target=load_json(row.target),
        code_location=None if row.code_location is None else load_json(row.code_location),
        tags=load_json(row.tags),
        run_config=load_json(row.run_config),
        policy=None if row.policy is None else load_json(row.policy),
        parent_backfill_id=row.parent_backfill_id,
        num_units=row.num_units,
        create_time=row.create_time,
        end_time=row.end_time,
        error=row.error,
    )
