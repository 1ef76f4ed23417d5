"""Buffering a run's events and writing them in one transaction per node transition."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._core.events import EventRecord, EventType


class EventBuffer:
    """Collects events in memory; ``flush`` writes them in one storage transaction.

    Values of ``EnvVar`` secrets are replaced by ``*****`` in every message, error, traceback
    and metadata string before anything is stored.
    """

    __slots__ = ("_pending", "_store", "secrets", "written")

    def __init__(self, store: Any) -> None:
        self._store = store
        self._pending: list[EventRecord] = []
        self.secrets: set[str] = set()
        self.written: list[EventRecord] = []

    def add(
        self,
        run_id: str,
        event_type: EventType,
        node: str | None = None,
        attempt: int | None = None,
        message: str = "",
        level: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> EventRecord:
        event = EventRecord(run_id, event_type, node, attempt, message, level, data=data or {})
        if self.secrets:
            self._redact(event)
        self._pending.append(event)
        return event

    def extend(self, events: Iterable[EventRecord]) -> None:
        for e in events:
            if self.secrets:
                self._redact(e)
            self._pending.append(e)

    def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._store.store_events(batch)
        self.written.extend(batch)

    def take(self) -> list[EventRecord]:
        """Hand the pending events to a caller that writes them itself (e.g. with a new run)."""
        batch, self._pending = self._pending, []
        self.written.extend(batch)
        return batch

    def _redact(self, event: EventRecord) -> None:
        event.message = self.scrub(event.message)
        if event.data:
            event.data = self.scrub(event.data)

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self.secrets:
                if secret and secret in value:
                    value = value.replace(secret, "*****")
            return value
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value
