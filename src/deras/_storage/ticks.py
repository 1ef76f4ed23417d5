"""Ticks of schedules and sensors, and the state (on/off, cursor) of each instigator.

A tick is claimed before it does anything: ``(instigator, tick_time)`` is unique, so of all the
daemons evaluating the same tick, one inserts it and the others find it taken. The claimer
holds a lease on it while it creates the tick's runs; a daemon that crashed mid-tick leaves a
``started`` tick whose lease runs out, and the next claimer takes it over and finishes it
(runs already created are found by their idempotency keys). On Postgres the takeover locks the
row with ``FOR UPDATE SKIP LOCKED``: a row another session holds is skipped, never waited on.

A sensor's cursor moves only with the tick that produced it (:meth:`TickStore.finish_tick`
writes both in one transaction), so a crash can repeat a tick but never skip its work.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam

from deras._core.errors import DerasError
from deras._core.records import InstigatorState, TickRecord
from deras._core.status import TickStatus

from .database import IN_BATCH, Database, WriteTransaction
from .schema import dump_json, instigator_state, load_json, ticks


class _Unset(Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET
"""Default of ``finish_tick(cursor=...)``: leave the cursor as it is (``None`` clears it)."""

_COLUMNS = tuple(c.name for c in ticks.c)
_BY_KEY = (ticks.c.instigator == bindparam("instigator"), ticks.c.tick_time == bindparam("tick_time"))
_SELECT_BY_KEY = sa.select(ticks).where(*_BY_KEY)
_LOCK_BY_KEY = _SELECT_BY_KEY.with_for_update(skip_locked=True)
# Finishing waits for a lock held elsewhere: the tick's outcome must not be lost.
_LOCK_BY_ID = sa.select(ticks).where(ticks.c.id == bindparam("id")).with_for_update()
_TAKE_OVER = (
    sa.update(ticks)
    .where(ticks.c.id == bindparam("id"))
    .values(owner=bindparam("owner"), lease_until=bindparam("lease_until"))
)
_FINISH = (
    sa.update(ticks)
    .where(ticks.c.id == bindparam("id"))
    .values(
        status=bindparam("status"),
        run_ids=bindparam("run_ids"),
        skip_reason=bindparam("skip_reason"),
        error=bindparam("error"),
        cursor=bindparam("cursor"),
        end_time=bindparam("now"),
    )
)
_SET_RUN_IDS = sa.update(ticks).where(ticks.c.id == bindparam("id")).values(run_ids=bindparam("run_ids"))


def _insert_tick(insert: Any) -> sa.Executable:
    """A new started tick, unless its (instigator, tick_time) exists: then nothing, no error."""
    stmt = insert(ticks).values(
        instigator=bindparam("instigator"),
        tick_time=bindparam("tick_time"),
        status=bindparam("status"),
        run_ids=bindparam("run_ids"),
        owner=bindparam("owner"),
        lease_until=bindparam("lease_until"),
        start_time=bindparam("now"),
    )
    return stmt.on_conflict_do_nothing(index_elements=[ticks.c.instigator, ticks.c.tick_time])


def _upsert_state(column: str) -> Any:
    def build(insert: Any) -> sa.Executable:
        stmt = insert(instigator_state).values(
            {"name": bindparam("name"), column: bindparam("value"), "updated_time": bindparam("now")}
        )
        return stmt.on_conflict_do_update(
            index_elements=[instigator_state.c.name],
            set_={column: stmt.excluded[column], "updated_time": stmt.excluded.updated_time},
        )

    return build


_UPSERT_STATUS = _upsert_state("status")
_UPSERT_CURSOR = _upsert_state("cursor")


class TickStore:
    """Claim, finish and list ticks; read and set each instigator's status and cursor."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def claim_tick(
        self,
        instigator: str,
        tick_time: float,
        owner: str,
        now: float,
        lease_seconds: float,
        *,
        dead_owner: str | None = None,
    ) -> TickRecord | None:
        """Start the tick ``(instigator, tick_time)`` for ``owner``; None if someone else has it.

        An existing tick is returned only if it is still ``started`` and its lease expired
        (its owner crashed), or its owner is ``dead_owner`` (known dead: a process of this
        host that is gone): ``owner`` takes it over with a new lease. A finished tick, or one
        under a live owner's lease, is never returned, so a tick's work is done once.
        """
        key = {"instigator": instigator, "tick_time": tick_time}
        lease_until = now + lease_seconds

        def claim(tx: WriteTransaction) -> TickRecord | None:
            params = {**key, "status": TickStatus.STARTED.value, "run_ids": "[]", "owner": owner}
            if tx.rowcount(_insert_tick, {**params, "lease_until": lease_until, "now": now}):
                return _tick_record(tx.fetchall(_SELECT_BY_KEY, key)[0])
            rows = tx.fetchall(_LOCK_BY_KEY, key)
            if not rows:
                return None  # locked by another session taking it over
            tick = _tick_record(rows[0])
            expired = tick.lease_until is None or tick.lease_until <= now
            abandoned = dead_owner is not None and tick.owner == dead_owner
            if tick.status is not TickStatus.STARTED or not (expired or abandoned):
                return None
            tx.execute(_TAKE_OVER, {"id": tick.id, "owner": owner, "lease_until": lease_until})
            tick.owner, tick.lease_until = owner, lease_until
            return tick

        return self._db.transact(claim)

    def finish_tick(
        self,
        tick_id: int,
        status: TickStatus,
        *,
        now: float,
        run_ids: Sequence[str] = (),
        skip_reason: str | None = None,
        error: str | None = None,
        cursor: str | _Unset | None = UNSET,
    ) -> None:
        """Record the tick's outcome; ``run_ids`` add to those recorded by :meth:`add_tick_runs`.

        A ``cursor`` (``None`` included) is stored on the tick and becomes the instigator's
        cursor in the same transaction.
        """
        status = TickStatus(status)
        if not status.is_finished:
            raise DerasError(f"cannot finish tick {tick_id} as {status!r}: give its outcome")

        def finish(tx: WriteTransaction) -> None:
            tick = self._locked(tx, tick_id)
            merged = _merge(tick.run_ids, run_ids)
            params = {
                "id": tick_id,
                "status": status.value,
                "run_ids": dump_json(merged),
                "skip_reason": skip_reason,
                "error": error,
                "cursor": tick.cursor if cursor is UNSET else cursor,
                "now": now,
            }
            tx.execute(_FINISH, params)
            if cursor is not UNSET:
                tx.execute(_UPSERT_CURSOR, {"name": tick.instigator, "value": cursor, "now": now})

        self._db.transact(finish)

    def add_tick_runs(self, tick_id: int, run_ids: Sequence[str]) -> None:
        """Record runs of a started tick as they are created (a crash then loses none)."""

        def add(tx: WriteTransaction) -> None:
            tick = self._locked(tx, tick_id)
            if tick.status is not TickStatus.STARTED:
                raise DerasError(f"cannot add runs to tick {tick_id}: it is {tick.status}, not started")
            tx.execute(_SET_RUN_IDS, {"id": tick_id, "run_ids": dump_json(_merge(tick.run_ids, run_ids))})

        self._db.transact(add)

    def get_ticks(
        self,
        instigator: str,
        limit: int | None = None,
        status: TickStatus | Sequence[TickStatus] | None = None,
    ) -> list[TickRecord]:
        """The instigator's ticks, newest first."""
        query = (
            sa.select(ticks)
            .where(ticks.c.instigator == instigator)
            .order_by(ticks.c.tick_time.desc(), ticks.c.id.desc())
        )
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            query = query.where(ticks.c.status.in_([TickStatus(s).value for s in statuses]))
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            return [_tick_record(row) for row in conn.execute(query)]

    def ticks_page(
        self,
        instigator: str,
        *,
        limit: int,
        before: float | None = None,
        status: Sequence[TickStatus] | None = None,
    ) -> list[TickRecord]:
        """The instigator's ticks newest first, older than the tick time ``before``: a range of
        the unique (instigator, tick_time) index, whatever page it is (tick times are unique
        per instigator, so they alone are the page's key)."""
        query = (
            sa.select(ticks)
            .where(ticks.c.instigator == instigator)
            .order_by(ticks.c.tick_time.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(ticks.c.tick_time < before)
        if status:
            query = query.where(ticks.c.status.in_([TickStatus(s).value for s in status]))
        with self._db.read() as conn:
            return [_tick_record(row) for row in conn.execute(query)]

    def latest_ticks(self, instigators: Sequence[str]) -> dict[str, TickRecord]:
        """The newest tick of each instigator that has one: one index probe per instigator, in
        one query per batch."""
        found: dict[str, TickRecord] = {}
        names = list(dict.fromkeys(instigators))
        with self._db.read() as conn:
            for start in range(0, len(names), IN_BATCH):
                latest = [
                    sa.select(ticks.c.id)
                    .where(ticks.c.instigator == name)
                    .order_by(ticks.c.tick_time.desc())
                    .limit(1)
                    .scalar_subquery()
                    for name in names[start : start + IN_BATCH]
                ]
                for row in conn.execute(sa.select(ticks).where(ticks.c.id.in_(latest))):
                    tick = _tick_record(row)
                    found[tick.instigator] = tick
        return found

    def get_latest_tick(self, instigator: str) -> TickRecord | None:
        found = self.get_ticks(instigator, limit=1)
        return found[0] if found else None

    def count_ticks(self, instigator: str) -> int:
        query = sa.select(sa.func.count()).select_from(ticks).where(ticks.c.instigator == instigator)
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    # -- instigator state ---------------------------------------------------------------------

    def get_state(self, name: str) -> InstigatorState | None:
        query = sa.select(instigator_state).where(instigator_state.c.name == name)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _state(row)

    def get_states(self) -> dict[str, InstigatorState]:
        query = sa.select(instigator_state).order_by(instigator_state.c.name)
        with self._db.read() as conn:
            return {row.name: _state(row) for row in conn.execute(query)}

    def set_status(self, name: str, status: str | None, now: float) -> None:
        """Turn the instigator on (``"running"``) or off (``"stopped"``); None: as defined."""
        self._db.transact(lambda tx: tx.execute(_UPSERT_STATUS, {"name": name, "value": status, "now": now}))

    def set_cursor(self, name: str, cursor: str | None, now: float) -> None:
        self._db.transact(lambda tx: tx.execute(_UPSERT_CURSOR, {"name": name, "value": cursor, "now": now}))

    def _locked(self, tx: WriteTransaction, tick_id: int) -> TickRecord:
        rows = tx.fetchall(_LOCK_BY_ID, {"id": tick_id})
        if not rows:
            raise DerasError(f"no tick with id {tick_id}")
        return _tick_record(rows[0])


def _merge(recorded: list[str], new: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*recorded, *new]))


def _tick_record(row: Sequence[Any]) -> TickRecord:
    """A tick from a row of ``select(ticks)``: a Core row or a DBAPI tuple, by position."""
    values = dict(zip(_COLUMNS, row, strict=True))
    values["status"] = TickStatus(values["status"])
    values["run_ids"] = load_json(values["run_ids"]) if values["run_ids"] else []
    return TickRecord(**values)


def _state(row: sa.Row[Any]) -> InstigatorState:
    return InstigatorState(name=row.name, status=row.status, cursor=row.cursor, updated_time=row.updated_time)
