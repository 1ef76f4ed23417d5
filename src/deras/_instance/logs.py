"""Rendering a run's events as log text."""

from __future__ import annotations

import time
from collections.abc import Iterable

from .._core.events import EventRecord, EventType

_QUIET = {EventType.MATERIALIZATION_PLANNED}
LOGGED_EVENT_TYPES = [t for t in EventType if t not in _QUIET]  # the events a log shows, one record each


def format_event(e: EventRecord) -> str:
    stamp = (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.timestamp))
        + f".{int(e.timestamp * 1000) % 1000:03d}"
    )
    where = f" [{e.node}]" if e.node else ""
    level = e.level or (
        "ERROR" if e.event_type in (EventType.STEP_FAILURE, EventType.RUN_FAILURE) else "INFO"
    )
    text = e.message or e.event_type.value.replace("_", " ")
    if e.event_type == EventType.STEP_START:
        text = f"attempt {(e.attempt or 0) + 1} started"
    elif e.event_type == EventType.STEP_SUCCESS:
        text = "succeeded"
    lines = [f"{stamp} {level:<7}{where} {text}"]
    tb = e.data.get("traceback") if e.event_type == EventType.STEP_FAILURE else None
    if tb:
        lines.append(tb.rstrip())
    return "\n".join(lines)


def render_logs(events: Iterable[EventRecord]) -> str:
    return "\n".join(format_event(e) for e in events if e.event_type not in _QUIET)
