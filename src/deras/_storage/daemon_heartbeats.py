"""Heartbeats of daemon processes: which daemons run, and when each of their components ran.

A daemon writes its row at most every few seconds from its loop (an upsert by ``daemon_id``);
readers decide health from the row's age. A daemon that stops cleanly records ``stopped_time``;
one killed just stops beating, and is seen as gone once its heartbeat is older than the
reader's timeout. Rows of daemons gone for long are pruned when a daemon starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam

from .database import Database
from .schema import daemon_heartbeats as beats
from .schema import dump_json, load_json

_STOP = (
    sa.update(beats)
    .where(beats.c.daemon_id == bindparam("daemon_id"))
    .values(stopped_time=bindparam("now"), heartbeat_time=bindparam("now"))
)
_PRUNE = sa.delete(beats).where(beats.c.heartbeat_time < bindparam("before"))


def _upsert(insert: Any) -> sa.Executable:
    stmt = insert(beats).values({c.name: bindparam(c.name) for c in beats.c})
    return stmt.on_conflict_do_update(
        index_elements=[beats.c.daemon_id],
        set_={
            "heartbeat_time": stmt.excluded.heartbeat_time,
            "stopped_time": stmt.excluded.stopped_time,
            "components": stmt.excluded.components,
            "info": stmt.excluded.info,
        },
    )


@dataclass(frozen=True, slots=True)
class DaemonHeartbeat:
    """A daemon's latest heartbeat; ``components`` maps each component to when it last ran."""

    daemon_id: str
    host: str
    pid: int
    started_time: float
    heartbeat_time: float
    stopped_time: float | None
    components: dict[str, float]
    info: dict[str, Any]


class DaemonHeartbeatStore:
    """Write a daemon's heartbeat; read the heartbeats of recent daemons."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def beat(
        self,
        daemon_id: str,
        *,
        host: str,
        pid: int,
        started_time: float,
        now: float,
        components: Mapping[str, float],
        info: Mapping[str, Any] | None = None,
    ) -> None:
        """Record that ``daemon_id`` is alive at ``now`` and when its components last ran."""
        row = {
            "daemon_id": daemon_id,
            "host": host,
            "pid": pid,
            "started_time": started_time,
            "heartbeat_time": now,
            "stopped_time": None,
            "components": dump_json(dict(components)),
            "info": dump_json(dict(info or {})),
        }
        self._db.transact(lambda tx: tx.execute(_upsert, row))

    def stopped(self, daemon_id: str, now: float) -> None:
        """Record that the daemon stopped cleanly at ``now``."""
        self._db.transact(lambda tx: tx.execute(_STOP, {"daemon_id": daemon_id, "now": now}))

    def prune(self, before: float) -> int:
        """Forget daemons whose last heartbeat is older than ``before``; returns how many."""
        return self._db.transact(lambda tx: tx.rowcount(_PRUNE, {"before": before}))

    def heartbeats(self, *, since: float | None = None, limit: int = 100) -> list[DaemonHeartbeat]:
        """The latest heartbeats first; those at or after ``since`` if given."""
        query = sa.select(beats).order_by(beats.c.heartbeat_time.desc(), beats.c.daemon_id).limit(limit)
        if since is not None:
            query = query.where(beats.c.heartbeat_time >= since)
        with self._db.read() as conn:
            return [
                DaemonHeartbeat(
                    daemon_id=row.daemon_id,
                    host=row.host,
                    pid=row.pid,
                    started_time=row.started_time,
                    heartbeat_time=row.heartbeat_time,
                    stopped_time=row.stopped_time,
                    components={k: float(v) for k, v in load_json(row.components).items()},
                    info=load_json(row.info) if row.info else {},
                )
                for row in conn.execute(query)
            ]
