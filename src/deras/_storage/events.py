"""The event log: append a batch of events and derive the index tables in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam

from deras._core.errors import DerasError
from deras._core.events import EventRecord, EventType

from .assets import ASSET_EVENT_TYPES, AssetChanges
from .database import Database, WriteTransaction
from .runs import RUN_EVENT_TYPES, STEP_EVENT_TYPES, RunChanges
from .schema import dump_json, event_log, load_json

_INSERT_EVENT = sa.insert(event_log).values(
    {c.name: bindparam(c.name) for c in event_log.c if c.name != "id"}
)


class EventStore:
    """Appends events and reads them back; see :meth:`append` for what a batch derives."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def store_events(self, events: Sequence[EventRecord]) -> None:
        if not events:
            return
        ids = self._db.transact(lambda tx: self.append(tx, events))
        # Only once committed: a rolled-back event has no id.
        for event, event_id in zip(events, ids, strict=True):
            event.id = event_id

    def append(self, tx: WriteTransaction, events: Sequence[EventRecord]) -> list[int]:
        """Insert ``events`` in ``tx`` and apply what they imply; returns their ids in order.

        Run events set the run's status and times, step events the attempt rows, asset events
        add materializations and check results and move partition status. Nothing here reads
        per event: a batch costs one insert of the events plus one statement per derived table
        it touches.
        """
        try:
            rows = [_event_row(event) for event in events]
        except (TypeError, ValueError) as e:
            raise DerasError(f"cannot store events: their data must be JSON-serialisable ({e})") from e
        ids = tx.insert_ids(_INSERT_EVENT, rows)
        run_changes: RunChanges | None = None
        asset_changes: AssetChanges | None = None
        for event, event_id in zip(events, ids, strict=True):
            kind = event.event_type
            if not isinstance(kind, EventType):
                kind = event.event_type = EventType(kind)
            if kind in STEP_EVENT_TYPES:
                run_changes = run_changes or RunChanges()
                run_changes.add_step_event(event)
            elif kind in ASSET_EVENT_TYPES:
                asset_changes = asset_changes or AssetChanges()
                asset_changes.add(event, event_id)
            elif kind in RUN_EVENT_TYPES:
                run_changes = run_changes or RunChanges()
                run_changes.add_run_event(event)
        # Always in this order (asset rows, then attempts and runs), so that concurrent
        # Postgres writers take their row locks in the same order.
        if asset_changes is not None:
            asset_changes.flush(tx)
        if run_changes is not None:
            run_changes.flush(tx)
        return ids

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
        order = event_log.c.id.desc() if newest_first else event_log.c.id
        query = sa.select(event_log).where(event_log.c.run_id == run_id).order_by(order)
        if node is not None:
            query = query.where(event_log.c.node == node)
        if event_types is not None:
            query = query.where(event_log.c.event_type.in_([str(t) for t in event_types]))
        if after_id is not None:
            query = query.where(event_log.c.id > after_id)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        with self._db.read() as conn:
            return [
                EventRecord(
                    run_id=row.run_id,
                    event_type=EventType(row.event_type),
                    node=row.node,
                    attempt=row.attempt,
                    message=row.message,
                    level=row.level,
                    timestamp=row.timestamp,
                    data=load_json(row.data) if row.data else {},
                    id=row.id,
                )
                for row in conn.execute(query)
            ]

    def runs_with_events_after(self, after_id: int | None, limit: int = 10_000) -> tuple[int, set[str]]:
        """The newest event id, and the runs of the events after ``after_id`` (at most ``limit``
        of them read): what one watcher of the log needs to wake the pages of those runs.

        ``after_id=None`` reads only the newest id (a primary-key lookup)."""
        with self._db.read() as conn:
            if after_id is None:
                newest = conn.execute(sa.select(sa.func.max(event_log.c.id))).scalar()
                return int(newest or 0), set()
            rows = conn.execute(
                sa.select(event_log.c.id, event_log.c.run_id)
                .where(event_log.c.id > after_id)
                .order_by(event_log.c.id)
                .limit(limit)
            ).all()
        if not rows:
            return after_id, set()
        return int(rows[-1].id), {row.run_id for row in rows}


def _event_row(event: EventRecord) -> dict[str, Any]:
    return {
        "run_id": event.run_id,
        "event_type": str(event.event_type),
        "node": event.node,
        "attempt": event.attempt,
        "message": event.message,
        "level": event.level,
        "timestamp": event.timestamp,
        "data": dump_json(event.data) if event.data else None,
    }
