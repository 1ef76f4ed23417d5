"""Concurrency slots: at most ``limit`` nodes of all runs at once in a pool.

A pool's slots are rows ``(pool, 0) .. (pool, limit - 1)``, created on first use; a node holds
one while its ``run_id`` and ``node`` are set. Claiming takes a free row with
``FOR UPDATE SKIP LOCKED`` on Postgres, so claimers never wait on each other (one that finds
every free slot locked by someone else's claim in flight gets False and tries again later);
SQLite's ``BEGIN IMMEDIATE`` serialises them. A lowered limit holds as soon as the slots above
it are released: until then a claim is refused while the pool has ``limit`` holders or more,
and only slots below the limit are ever taken.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam

from .database import Database, WriteTransaction
from .schema import concurrency_slots as slots

_HELD = sa.select(slots.c.slot).where(
    slots.c.pool == bindparam("pool"),
    slots.c.run_id == bindparam("run_id"),
    slots.c.node == bindparam("node"),
)
# (slots held in the pool, slot rows below the limit)
_COUNTS = sa.select(
    sa.func.count(slots.c.run_id),
    sa.func.count(sa.case((slots.c.slot < bindparam("limit"), sa.literal_column("1")))),
).where(slots.c.pool == bindparam("pool"))
_FREE = (
    sa.select(slots.c.slot)
    .where(slots.c.pool == bindparam("pool"), slots.c.slot < bindparam("limit"), slots.c.run_id.is_(None))
    .order_by(slots.c.slot)
    # Literal SQL: a plain limit(1) becomes a bound parameter (and SQLite adds OFFSET ?),
    # which a prepared statement would have to be given.
    .limit(sa.literal_column("1"))
    .offset(sa.literal_column("0"))
    .with_for_update(skip_locked=True)
)
_TAKE = (
    sa.update(slots)
    .where(slots.c.pool == bindparam("pool"), slots.c.slot == bindparam("slot"), slots.c.run_id.is_(None))
    .values(run_id=bindparam("run_id"), node=bindparam("node"), claimed_time=bindparam("now"))
)
_FREED: dict[str, Any] = {"run_id": sa.null(), "node": sa.null(), "claimed_time": sa.null()}
_RELEASE = (
    sa.update(slots)
    .where(
        slots.c.pool == bindparam("pool"),
        slots.c.run_id == bindparam("run_id"),
        slots.c.node == bindparam("node"),
    )
    .values(_FREED)
)
_RELEASE_RUN = sa.update(slots).where(slots.c.run_id == bindparam("run_id")).values(_FREED)


def _create_slots(insert: Any) -> sa.Executable:
    """A pool's slot row, unless it exists (created by a concurrent claimer, or held)."""
    stmt = insert(slots).values(pool=bindparam("pool"), slot=bindparam("slot"))
    return stmt.on_conflict_do_nothing(index_elements=[slots.c.pool, slots.c.slot])


def release_run_slots(tx: WriteTransaction, run_id: str) -> None:
    """Free every slot ``run_id`` holds, in ``tx`` (a run ending frees what its nodes held)."""
    tx.execute(_RELEASE_RUN, {"run_id": run_id})


class SlotStore:
    """Claim and release the concurrency slots of pools shared by nodes of all runs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def claim(self, pool: str, limit: int, run_id: str, node: str, now: float) -> bool:
        """Take a free slot of ``pool`` below ``limit`` for ``node`` of ``run_id``; False if none.

        Idempotent: a node that already holds a slot of the pool (a retried claim) gets True
        again and keeps its one slot.
        """

        def claim(tx: WriteTransaction) -> bool:
            if tx.fetchall(_HELD, {"pool": pool, "run_id": run_id, "node": node}):
                return True
            if limit <= 0:
                return False
            held, rows = tx.fetchall(_COUNTS, {"pool": pool, "limit": limit})[0]
            if held >= limit:
                return False
            if rows < limit:
                tx.executemany(_create_slots, [{"pool": pool, "slot": slot} for slot in range(limit)])
            free = tx.fetchall(_FREE, {"pool": pool, "limit": limit})
            if not free:
                return False
            params = {"pool": pool, "slot": free[0][0], "run_id": run_id, "node": node, "now": now}
            return tx.rowcount(_TAKE, params) == 1

        return self._db.transact(claim)

    def release(self, pool: str, run_id: str, node: str) -> None:
        self._db.transact(lambda tx: tx.execute(_RELEASE, {"pool": pool, "run_id": run_id, "node": node}))

    def release_run(self, run_id: str) -> None:
        self._db.transact(lambda tx: release_run_slots(tx, run_id))

    def usage(self) -> dict[str, int]:
        """Occupied slots per pool, for every pool that has slots (zero included)."""
        query = (
            sa.select(slots.c.pool, sa.func.count(slots.c.run_id))
            .group_by(slots.c.pool)
            .order_by(slots.c.pool)
        )
        with self._db.read() as conn:
            return dict(conn.execute(query).all())

    def holders(self, pool: str) -> list[tuple[str, str]]:
        """``(run_id, node)`` of each held slot of ``pool``, by slot."""
        query = (
            sa.select(slots.c.run_id, slots.c.node)
            .where(slots.c.pool == pool, slots.c.run_id.is_not(None))
            .order_by(slots.c.slot)
        )
        with self._db.read() as conn:
            return [(run_id, node) for run_id, node in conn.execute(query)]
