"""Daemon health as the CLI and the web show it: heartbeats, components, queue depth.

Every daemon records a heartbeat every few seconds (``_storage/daemon_heartbeats.py``): when
each of its components (schedules, sensors, backfills, automation, run queue, run monitor) last
ran, and which are failing. A daemon is healthy while its latest heartbeat is younger than
``timeout`` and it has not stopped; the instance is healthy when one daemon is.

>>> from deras._instance.instance import DerasInstance
>>> daemon_health(DerasInstance.ephemeral()).healthy
False
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..._core.status import RunStatus

HEALTH_TIMEOUT_SECONDS = 30.0
"""A daemon silent this long is not healthy (it beats every 5 s; a pass may take a while)."""
SHOWN_SECONDS = 24 * 3600.0
"""Daemons whose last heartbeat is older than this are not shown at all."""


@dataclass(frozen=True)
class ComponentView:
    """A component of a daemon: when it last ran, and its last error while it fails."""

    name: str
    last_run: float | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DaemonView:
    """One daemon process. ``state``: running (healthy), stopped (cleanly), or unresponsive
    (no heartbeat for ``timeout`` seconds: killed, hung, or its host is gone)."""

    daemon_id: str
    host: str
    pid: int
    started_time: float
    last_heartbeat: float
    seconds_since_heartbeat: float
    stopped_time: float | None
    state: str
    healthy: bool
    components: list[ComponentView]
    location: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "components": [c.to_json() for c in self.components]}


@dataclass(frozen=True)
class DaemonHealth:
    """Whether a daemon is looking after this instance, and how much work waits for one."""

    healthy: bool
    message: str
    daemons: list[DaemonView]  # latest heartbeat first
    queue_depth: int  # runs queued, waiting for the daemon's run queue
    in_progress: int  # runs starting or started
    timeout: float
    checked_at: float

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "daemons": [d.to_json() for d in self.daemons]}


def daemon_health(
    instance: Any, *, now: float | None = None, timeout: float = HEALTH_TIMEOUT_SECONDS
) -> DaemonHealth:
    """The daemons seen in the last day, each healthy or not, and the queue's depth."""
    now = time.time() if now is None else now
    beats = instance.store.daemon_heartbeats.heartbeats(since=now - SHOWN_SECONDS, limit=20)
    daemons = [_daemon_view(b, now, timeout) for b in beats]
    reads = instance.store.run_reads
    queued = reads.count_with_status([RunStatus.QUEUED])
    active = reads.count_with_status([RunStatus.STARTING, RunStatus.STARTED])
    healthy = any(d.healthy for d in daemons)
    return DaemonHealth(
        healthy=healthy,
        message=_message(daemons, healthy, timeout),
        daemons=daemons,
        queue_depth=queued,
        in_progress=active,
        timeout=timeout,
        checked_at=now,
    )


def _daemon_view(beat: Any, now: float, timeout: float) -> DaemonView:
    age = max(0.0, now - beat.heartbeat_time)
    if beat.stopped_time is not None:
        state = "stopped"
    elif age > timeout:
        state = "unresponsive"
    else:
        state = "running"
    failing = beat.info.get("failing") or {}
    names = sorted(set(beat.components) | set(failing))
    return DaemonView(
        daemon_id=beat.daemon_id,
        host=beat.host,
        pid=beat.pid,
        started_time=beat.started_time,
        last_heartbeat=beat.heartbeat_time,
        seconds_since_heartbeat=age,
        stopped_time=beat.stopped_time,
        state=state,
        healthy=state == "running" and not failing,
        components=[ComponentView(n, beat.components.get(n), failing.get(n)) for n in names],
        location=beat.info.get("location"),
    )


def _message(daemons: list[DaemonView], healthy: bool, timeout: float) -> str:
    if healthy:
        running = [d for d in daemons if d.healthy]
        return f"{len(running)} daemon(s) running"
    if not daemons:
        return "no daemon heartbeat: start one with `deras daemon run` (or `deras dev`)"
    latest = daemons[0]
    if latest.state == "running":
        failing = ", ".join(c.name for c in latest.components if c.error)
        return f"daemon {latest.daemon_id} is running but failing: {failing}"
    if latest.state == "stopped":
        return f"the daemon {latest.daemon_id} stopped; start one with `deras daemon run`"
    return (
        f"no heartbeat from daemon {latest.daemon_id} for {latest.seconds_since_heartbeat:.0f} s "
        f"(more than {timeout:.0f} s): it was killed, hangs, or its host is gone"
    )
