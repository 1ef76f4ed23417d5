"""Schedules and sensors as the CLI and the web show them: state, next ticks, last tick, history.

An instigator's state is its stored status (``deras schedule start/stop``, the web's buttons)
or, when none is stored, its definition's default; a DAG with a time schedule is on unless
stopped. Next ticks come from the snapshot's cron and timezone through the same schedule code
the daemon fires by (``_defs/dag_schedule.py``), so the DST policy of docs/dst.md holds here
too. A listing costs two queries whatever its length: the states, and the latest tick of
every instigator (one index probe each).

>>> from deras._instance.instance import DerasInstance
>>> tick_history(DerasInstance.ephemeral(), "schedule:nightly").items
[]
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..._core.errors import DerasError
from ..._core.records import TickRecord
from ..._core.status import TickStatus
from .page import Page, check_limit, decode_cursor, encode_cursor

RUNNING = "running"
STOPPED = "stopped"
AUTOMATION_STATE = "automation:assets"  # the asset trigger's state row (a cursor; always on)


@dataclass(frozen=True)
class TickView:
    """One evaluation of a schedule or sensor. ``error`` is the whole traceback stored;
    ``error_message`` its last line (the exception)."""

    tick_id: int
    instigator: str
    tick_time: float
    status: str
    run_ids: list[str]
    skip_reason: str | None
    error: str | None
    start_time: float | None
    end_time: float | None

    @classmethod
    def of(cls, tick: TickRecord) -> TickView:
        return cls(
            tick_id=tick.id,
            instigator=tick.instigator,
            tick_time=tick.tick_time,
            status=str(tick.status),
            run_ids=list(tick.run_ids),
            skip_reason=tick.skip_reason,
            error=tick.error,
            start_time=tick.start_time,
            end_time=tick.end_time,
        )

    @property
    def error_message(self) -> str | None:
        lines = (self.error or "").strip().splitlines()
        return lines[-1] if lines else None

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "error_message": self.error_message}


@dataclass(frozen=True)
class ScheduleView:
    """A schedule, or a DAG's own time schedule (``kind`` "dag"). ``key`` is its storage name
    (``schedule:nightly``, ``dag:etl``): the one ticks and start/stop go by. ``next_ticks`` are
    ISO instants in the schedule's zone (none while stopped is still shown: when it would run)."""

    name: str
    key: str
    kind: str  # "schedule" | "dag"
    cron: str  # the schedule's text: '0 2 * * *', '@daily', 'every 6:00:00'
    timezone: str
    target: str | None
    description: str | None
    status: str  # running | stopped
    default_status: str
    status_stored: bool  # False: the status is the definition's default
    next_ticks: list[str]
    last_tick: TickView | None

    @property
    def next_tick(self) -> str | None:
        return self.next_ticks[0] if self.next_ticks else None

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if k != "last_tick"},
            "next_tick": self.next_tick,
            "last_tick": self.last_tick.to_json() if self.last_tick else None,
        }


@dataclass(frozen=True)
class SensorView:
    """A sensor (``kind``: sensor, asset_sensor, run_status, automation), its state and last tick;
    ``next_tick`` is when a running sensor is due again (its last tick + its interval)."""

    name: str
    key: str
    kind: str
    minimum_interval: float
    target: str | None
    description: str | None
    status: str
    default_status: str
    status_stored: bool
    next_tick: float | None
    last_tick: TickView | None

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if k != "last_tick"},
            "last_tick": self.last_tick.to_json() if self.last_tick else None,
        }


def list_schedules(
    instance: Any, snapshot: Any, *, now: datetime | None = None, ticks: int = 3, dags: bool = True
) -> list[ScheduleView]:
    """Every schedule of ``snapshot`` (a ``CodeSnapshot``) and, with ``dags``, every DAG with a
    time schedule, by kind then name; each with its state, next ``ticks`` ticks and last tick."""
    at = now or datetime.now(UTC)
    entries: list[tuple[str, str, Any]] = [("schedule", s.name, s) for s in snapshot.schedules]
    if dags:
        entries += [("dag", d.dag_id, d) for d in snapshot.dags if d.schedule_kind in _DAG_TICKING]
    keys = [f"{kind}:{name}" for kind, name, _ in entries]
    states = instance.store.ticks.get_states()
    latest = instance.store.ticks.latest_ticks(keys)
    views = []
    for (kind, name, snap), key in zip(entries, keys, strict=True):
        stored = getattr(states.get(key), "status", None)
        default = RUNNING if kind == "dag" else _status(snap.default_status)
        tick = latest.get(key)
        views.append(
            ScheduleView(
                name=name,
                key=key,
                kind=kind,
                cron=snap.cron if kind == "schedule" else snap.schedule,
                timezone=snap.timezone,
                target=snap.target if kind == "schedule" else name,
                description=snap.description,
                status=stored or default,
                default_status=default,
                status_stored=stored is not None,
                next_ticks=[t.isoformat() for t in next_ticks(snap, at, ticks)] if ticks else [],
                last_tick=TickView.of(tick) if tick else None,
            )
        )
    views.sort(key=lambda v: (v.kind != "schedule", v.name))
    return views


def list_sensors(instance: Any, snapshot: Any) -> list[SensorView]:
    """Every sensor of ``snapshot`` by name, with its state, last tick and when it is due."""
    sensors = sorted(snapshot.sensors, key=lambda s: s.name)
    keys = [_sensor_key(s) for s in sensors]
    states = instance.store.ticks.get_states()
    latest = instance.store.ticks.latest_ticks(keys)
    views = []
    for sensor, key in zip(sensors, keys, strict=True):
        automation = sensor.kind == "automation"
        stored = None if automation else getattr(states.get(key), "status", None)
        default = RUNNING if automation else _status(sensor.default_status)
        status = stored or default
        tick = latest.get(key)
        due = tick.tick_time + sensor.minimum_interval if tick and status == RUNNING else None
        views.append(
            SensorView(
                name=sensor.name,
                key=key,
                kind=sensor.kind,
                minimum_interval=sensor.minimum_interval,
                target=sensor.target,
                description=sensor.description,
                status=status,
                default_status=default,
                status_stored=stored is not None,
                next_tick=due,
                last_tick=TickView.of(tick) if tick else None,
            )
        )
    return views


def tick_history(
    instance: Any,
    name: str,
    *,
    limit: int = 50,
    cursor: str | None = None,
    status: str | list[str] | None = None,
) -> Page[TickView]:
    """The ticks of the instigator ``name`` (its storage key: ``schedule:nightly``,
    ``sensor:new_files``, ``dag:etl``), newest first, with skip reasons, errors and run ids;
    ``cursor`` (a ``next_cursor``) continues; ``status`` keeps only ticks in those statuses."""
    check_limit(limit)
    before = None
    if cursor is not None:
        (before,) = decode_cursor(cursor, 1, "tick history")
        if not isinstance(before, (int, float)) or isinstance(before, bool):
            raise DerasError(f"cursor {cursor[:40]!r} is not a cursor of this tick history")
    statuses = None
    if status is not None:
        names = [status] if isinstance(status, str) else list(status)
        known = {s.value for s in TickStatus}
        bad = [n for n in names if n not in known]
        if bad:
            raise DerasError(f"unknown tick status {', '.join(map(repr, bad))}: use one of {sorted(known)}")
        statuses = [TickStatus(n) for n in names]
    found = instance.store.ticks.ticks_page(name, limit=limit + 1, before=before, status=statuses)
    more = len(found) > limit
    items = [TickView.of(t) for t in found[:limit]]
    return Page(items, encode_cursor([items[-1].tick_time]) if more else None)


# -- next ticks -------------------------------------------------------------------------------

_DAG_TICKING = ("cron", "timedelta", "once")


def next_ticks(snap: Any, after: datetime, n: int) -> list[datetime]:
    """The next ``n`` ticks of a ``ScheduleSnap`` or a ``DagSnap`` strictly after ``after``, in
    its zone (a DAG's stop at its end_date); none when its schedule has no clock."""
    schedule = _parsed(snap)
    if schedule is None:
        return []
    ticks = schedule.preview(n, after)
    end = getattr(snap, "end_date", None)
    if end:
        end_at = datetime.fromisoformat(end)
        if end_at.tzinfo is None:
            end_at = end_at.replace(tzinfo=schedule.tz)
        ticks = [t for t in ticks if t <= end_at]
    return ticks


def _parsed(snap: Any) -> Any:
    timezone = snap.timezone or "UTC"
    if hasattr(snap, "cron"):  # a ScheduleSnap
        return _schedule(snap.cron, timezone)
    kind = getattr(snap, "schedule_kind", "none")
    start = datetime.fromisoformat(snap.start_date) if snap.start_date else None
    if kind == "cron":
        return _schedule(snap.schedule, timezone)
    if kind == "once":
        return _schedule("@once", timezone, start)
    if kind == "timedelta":
        delta = _timedelta(snap.schedule)
        return None if delta is None else _schedule(delta, timezone, start)
    return None


@functools.lru_cache(maxsize=1024)
def _schedule(schedule: str | timedelta, timezone: str, start: datetime | None = None) -> Any:
    """A parsed schedule, kept: the overview and the schedule list parse every schedule of the
    code on each call, and parsing a cron is most of their time (``DagSchedule`` is frozen)."""
    from ..._defs.dag_schedule import parse_schedule

    return parse_schedule(schedule, timezone=timezone, start_date=start)


_DELTA = re.compile(r"^every (?:(\d+) days?, )?(\d+):(\d\d):(\d\d(?:\.\d+)?)$")


def _timedelta(text: str) -> timedelta | None:
    """The duration of a schedule summary ``'every 1 day, 6:00:00'`` (``str(timedelta)``)."""
    match = _DELTA.match(text.strip())
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    return timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=float(seconds))


def _sensor_key(sensor: Any) -> str:
    return AUTOMATION_STATE if sensor.kind == "automation" else f"sensor:{sensor.name}"


def _status(default_status: str) -> str:
    """A definition's default status as stored words (``DefaultScheduleStatus.RUNNING`` too)."""
    text = str(default_status).lower().rpartition(".")[2]
    return RUNNING if text == RUNNING else STOPPED
