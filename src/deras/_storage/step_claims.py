"""Step claims: exactly one remote worker runs a step attempt, and its outcome is recorded once.

A step attempt sent to a remote worker (Celery) may be delivered twice — the broker redelivers a
message whose worker died, or a coordinator sends it again. The worker that inserts the attempt's
claim row runs it; any other finds the row and does nothing. While it runs, the worker stamps
the row's heartbeat; it appends the attempt's events only while the claim is open, and closes it
with the outcome in the same transaction as its last events. The coordinator may close a claim
whose heartbeat stopped as lost; from then on the late worker can record nothing more — no
second success, no second materialization. Postgres announces closed claims on ``deras_steps``
(payload: the run id), so a coordinator waits for them instead of polling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam

from deras._core.events import EventRecord

from .database import Database, WriteTransaction
from .events import EventStore
from .schema import dump_json, load_json
from .schema import step_claims as claims

STEP_CHANNEL = "deras_steps"

StepKey = tuple[str, str, int]
"""(run id, step name — ``node`` or ``node[i]`` —, attempt)."""

_KEY = (
    (claims.c.run_id == bindparam("run_id"))
    & (claims.c.node == bindparam("node"))
    & (claims.c.attempt == bindparam("attempt"))
)
_OPEN = _KEY & claims.c.outcome.is_(None)
_LOCK_OPEN = sa.select(claims.c.attempt).where(_OPEN).with_for_update()
_BEAT = sa.update(claims).where(_OPEN).values(heartbeat=bindparam("now"))
_CLOSE = (
    sa.update(claims)
    .where(_OPEN)
    .values(outcome=bindparam("outcome"), finished_time=bindparam("now"), heartbeat=bindparam("now"))
)
_OF_RUN = sa.select(claims).where(claims.c.run_id == bindparam("run_id"))
_NOTIFY = sa.select(sa.func.pg_notify(sa.literal_column(f"'{STEP_CHANNEL}'"), bindparam("run_id")))


def _insert_claim(insert: Any) -> sa.Executable:
    stmt = insert(claims).values(
        run_id=bindparam("run_id"),
        node=bindparam("node"),
        attempt=bindparam("attempt"),
        worker=bindparam("worker"),
        claimed_time=bindparam("now"),
        heartbeat=bindparam("now"),
    )
    return stmt.on_conflict_do_nothing(index_elements=[claims.c.run_id, claims.c.node, claims.c.attempt])


@dataclass(frozen=True, slots=True)
class StepClaim:
    """A claim as stored: who holds it, its last heartbeat, and its outcome once closed."""

    key: StepKey
    worker: dict[str, Any] | None
    claimed_time: float
    heartbeat: float
    outcome: dict[str, Any] | None


class StepClaimStore:
    """Claim, stamp and close step attempts run by remote workers."""

    def __init__(self, db: Database, events: EventStore) -> None:
        self._db = db
        self._events = events

    def claim(self, key: StepKey, worker: dict[str, Any], now: float) -> bool:
        """Take the attempt ``key`` for ``worker``; False if anyone (this worker too) took it."""
        params = {**_params(key), "worker": dump_json(worker), "now": now}
        return self._db.transact(lambda tx: tx.rowcount(_insert_claim, params) == 1)

    def beat(self, keys: Sequence[StepKey], now: float) -> list[StepKey]:
        """Stamp the open claims ``keys``; returns those no longer open (lost: stop working)."""
        if not keys:
            return []

        def beat(tx: WriteTransaction) -> list[StepKey]:
            return [key for key in keys if tx.rowcount(_BEAT, {**_params(key), "now": now}) == 0]

        return self._db.transact(beat)

    def append_events(self, key: StepKey, events: Sequence[EventRecord]) -> bool:
        """Store the attempt's ``events`` if its claim is still open; False (nothing stored) if not."""

        def append(tx: WriteTransaction) -> bool:
            if not tx.fetchall(_LOCK_OPEN, _params(key)):
                return False
            self._events.append(tx, events)
            return True

        return self._db.transact(append)

    def finish(
        self, key: StepKey, outcome: dict[str, Any], events: Sequence[EventRecord], now: float
    ) -> bool:
        """Close the open claim with ``outcome``, storing the attempt's last ``events`` with it.

        False (nothing stored) if the claim was closed already: the coordinator gave it up.
        """

        def finish(tx: WriteTransaction) -> bool:
            if not tx.fetchall(_LOCK_OPEN, _params(key)):
                return False
            if events:
                self._events.append(tx, events)
            tx.execute(_CLOSE, {**_params(key), "outcome": dump_json(outcome), "now": now})
            self._announce(tx, key[0])
            return True

        return self._db.transact(finish)

    def lose(self, key: StepKey, why: str, now: float) -> bool:
        """Close the open claim as lost (its worker stopped beating); False if it had closed."""

        def lose(tx: WriteTransaction) -> bool:
            closed = tx.rowcount(_CLOSE, {**_params(key), "outcome": dump_json({"lost": why}), "now": now})
            return closed == 1

        return self._db.transact(lose)

    def of_run(self, run_id: str) -> dict[StepKey, StepClaim]:
        """Every claim of ``run_id``, by key."""
        with self._db.read() as conn:
            rows = conn.execute(_OF_RUN, {"run_id": run_id}).all()
        return {
            (row.run_id, row.node, row.attempt): StepClaim(
                (row.run_id, row.node, row.attempt),
                load_json(row.worker) if row.worker else None,
                row.claimed_time,
                row.heartbeat,
                load_json(row.outcome) if row.outcome else None,
            )
            for row in rows
        }

    def _announce(self, tx: WriteTransaction, run_id: str) -> None:
        if self._db.is_postgres:
            tx.fetchall(_NOTIFY, {"run_id": run_id})


def _params(key: StepKey) -> dict[str, Any]:
    return {"run_id": key[0], "node": key[1], "attempt": key[2]}
