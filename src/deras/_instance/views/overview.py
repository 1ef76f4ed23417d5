"""The overview page in one call: recent runs, run counts, failing checks, next ticks, daemon health.

>>> from deras._instance.instance import DerasInstance
>>> overview(DerasInstance.ephemeral(), None).recent_runs
[]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..._core.status import RunStatus
from .health import DaemonHealth, daemon_health
from .instigators import RUNNING, list_schedules
from .runs import RunSummary, list_runs

DAY = 86_400.0


@dataclass(frozen=True)
class FailingCheck:
    """A check whose latest result did not pass."""

    asset_key: str
    name: str
    severity: str
    timestamp: float
    run_id: str
    partition: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class NextTick:
    """The next tick of a running schedule (or scheduled DAG)."""

    name: str
    key: str
    kind: str  # "schedule" | "dag"
    next_tick: str  # ISO instant in the schedule's zone
    timestamp: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Overview:
    """What the overview page shows. ``run_counts`` has every run status, zeros included: every
    run queued or in progress, and of the finished ones those created since ``counts_since``."""

    recent_runs: list[RunSummary]
    run_counts: dict[str, int]
    failing_checks: list[FailingCheck]  # newest first
    next_ticks: list[NextTick]  # soonest first
    daemon: DaemonHealth
    counts_since: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "recent_runs": [r.to_json() for r in self.recent_runs],
            "run_counts": self.run_counts,
            "counts_since": self.counts_since,
            "failing_checks": [c.to_json() for c in self.failing_checks],
            "next_ticks": [t.to_json() for t in self.next_ticks],
            "daemon": self.daemon.to_json(),
        }


def overview(
    instance: Any,
    snapshot: Any,
    *,
    now: float | None = None,
    runs: int = 10,
    checks: int = 50,
    ticks: int = 10,
    finished_within: float = DAY,
) -> Overview:
    """The latest ``runs`` runs, the ``checks`` newest failing checks and the ``ticks`` soonest
    ticks of running schedules (both from ``snapshot``, a ``CodeSnapshot``; None: no ticks,
    and the checks the store has), and the daemons' health.

    Runs are counted by status: all that are queued or in progress, and the finished ones
    created in the last ``finished_within`` seconds (a day): a few index ranges, where counting
    the whole history grows with it.
    """
    now = time.time() if now is None else now
    since = now - finished_within
    unfinished = [s for s in RunStatus if not s.is_finished]
    counts = instance.store.run_reads.count_by_status_since(since, unfinished=unfinished)
    return Overview(
        recent_runs=list_runs(instance, limit=runs).items,
        run_counts=counts,
        failing_checks=failing_checks(instance, snapshot, limit=checks),
        next_ticks=_next_ticks(instance, snapshot, now, ticks),
        daemon=daemon_health(instance, now=now),
        counts_since=since,
    )


def failing_checks(instance: Any, snapshot: Any, *, limit: int = 50) -> list[FailingCheck]:
    """Checks of ``snapshot`` (all the store knows without one) whose latest result failed,
    newest first: the failing rows of the latest results only."""
    defined = {(c.asset_key, c.name) for c in snapshot.checks} if snapshot is not None else None
    found = []
    for key, name, severity, run_id, timestamp, partition in instance.store.asset_reads.failing_checks():
        if defined is None or (key, name) in defined:
            found.append(FailingCheck(key, name, severity, timestamp, run_id, partition))
            if len(found) == limit:
                break
    return found


def _next_ticks(instance: Any, snapshot: Any, now: float, limit: int) -> list[NextTick]:
    if snapshot is None:
        return []
    at = datetime.fromtimestamp(now, UTC)
    found = [
        NextTick(s.name, s.key, s.kind, s.next_ticks[0], datetime.fromisoformat(s.next_ticks[0]).timestamp())
        for s in list_schedules(instance, snapshot, now=at, ticks=1)
        if s.status == RUNNING and s.next_ticks
    ]
    return sorted(found, key=lambda t: (t.timestamp, t.name))[:limit]
