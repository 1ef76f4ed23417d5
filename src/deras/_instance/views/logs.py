"""A run's log as pages of records: what ``deras runs logs`` prints, for the web's log tab.

A record is one logged event, rendered as ``runs logs`` renders it (``_instance/logs.py``).
Pages continue after an event id (a live tail asks for what came after the last line it has)
or from an offset (``offset=-N``: the last N records).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..._core.errors import DerasError
from ..logs import LOGGED_EVENT_TYPES, format_event
from .page import check_limit


@dataclass(frozen=True)
class LogRecord:
    event_id: int
    timestamp: float
    level: str
    node: str | None
    text: str  # the record as `deras runs logs` prints it (a traceback on the lines after)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LogPage:
    """Log records oldest first; ``last_event_id`` resumes after them (None: no records)."""

    records: list[LogRecord]
    last_event_id: int | None
    more: bool  # more records were waiting after these

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.records)

    def to_json(self) -> dict[str, Any]:
        return {
            "records": [r.to_json() for r in self.records],
            "last_event_id": self.last_event_id,
            "more": self.more,
        }


def run_logs(
    instance: Any,
    run_id: str,
    *,
    node: str | None = None,
    after_event_id: int | None = None,
    offset: int = 0,
    limit: int = 1000,
) -> LogPage:
    """A page of the run's (or one node's) log.

    ``after_event_id`` continues after that record; else ``offset`` skips that many records
    (negative: the last ``-offset`` records). Unknown runs raise :class:`DerasError`.
    """
    check_limit(limit, 10_000)
    store = instance.store
    if store.get_run(run_id) is None:
        raise DerasError(f"no run with id {run_id}")
    if after_event_id is not None and offset:
        raise DerasError("give after_event_id or offset, not both")
    read = {"node": node, "event_types": LOGGED_EVENT_TYPES}
    if offset < 0:
        events = store.get_events(run_id, **read, limit=-offset, newest_first=True)[::-1]
        more = len(events) > limit  # the rest of the last -offset records
        events = events[:limit]
    else:
        events = store.get_events(run_id, **read, after_id=after_event_id, offset=offset, limit=limit + 1)
        more = len(events) > limit
        events = events[:limit]
    records = [
        LogRecord(
            event_id=e.id or 0,
            timestamp=e.timestamp,
            level=e.level or ("ERROR" if e.event_type.value.endswith("failure") else "INFO"),
            node=e.node,
            text=format_event(e),
        )
        for e in events
    ]
    return LogPage(records, records[-1].event_id if records else None, more)
