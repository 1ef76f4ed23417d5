"""Buffering a run's events and writing them in few, bounded-latency transactions."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from .._core.events import EventRecord, EventType

# A node transition is flushed at once unless the previous flush was less than this long ago;
# then it rides with the next one (group commit). A run of a thousand 0.1 ms nodes costs a few
# dozen transactions instead of two thousand, and no event waits longer than LIVE_LATENCY.
GROUP_COMMIT_SECONDS = 0.010
LIVE_LATENCY_SECONDS = 0.100


class EventBuffer:
    """Collects events in memory and writes them to storage in one transaction per flush.

    ``transition()`` is called at each node transition: it flushes unless a flush happened
    within ``GROUP_COMMIT_SECONDS``. ``flush()`` writes now (run end, failures, retries).
    While a node runs, a background flusher writes events older than ``LIVE_LATENCY_SECONDS``
    so a long node's start and logs show up live.

    Values of ``EnvVar`` secrets are replaced by ``*****`` in every message, error, traceback
    and metadata string before anything is stored.
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self._pending: list[EventRecord] = []
        self._lock = threading.Lock()
        self._last_flush = 0.0
        self._oldest = 0.0
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
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
        with self._lock:
            if not self._pending:
                self._oldest = event.timestamp
            self._pending.append(event)
        return event

    def extend(self, events: Iterable[EventRecord]) -> None:
        for e in events:
            self.add(e.run_id, e.event_type, e.node, e.attempt, e.message, e.level, e.data)

    def transition(self) -> None:
        """A node started or ended: flush unless one happened a moment ago."""
        if time.monotonic() - self._last_flush >= GROUP_COMMIT_SECONDS:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            self._store.store_events(batch)
            self._last_flush = time.monotonic()
        self.written.extend(batch)

    def take(self) -> list[EventRecord]:
        """Hand the pending events to a caller that writes them itself (with a new run row)."""
        with self._lock:
            batch, self._pending = self._pending, []
        self.written.extend(batch)
        return batch

    def start_live_flusher(self) -> None:
        if self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_old, name="deras-event-flusher", daemon=True)
            self._flusher.start()

    def stop_live_flusher(self) -> None:
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
            self._flusher = None

    def _flush_old(self) -> None:
        while not self._stop.wait(LIVE_LATENCY_SECONDS / 2):
            if self._pending and time.time() - self._oldest >= LIVE_LATENCY_SECONDS:
                try:
                    self.flush()
                except Exception:  # storage trouble surfaces at the executor's next flush
                    continue

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
