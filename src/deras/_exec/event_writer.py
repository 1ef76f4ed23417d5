"""Writing a run's events — and its values' files — behind the executor, in order.

The executor never waits on storage in the middle of a run. Events and deferred file writes
go into one ordered queue. For its first ``INLINE_WINDOW_SECONDS`` a run only queues: a short
run is then stored in one transaction at its end, run row included. Past that, a writer thread
takes everything queued so far, performs the file writes, then appends the events in one
transaction (group commit: while one commit runs, the next batch gathers). A node's
materialization is therefore committed only after its value's file exists. ``flush()`` waits
until everything queued is durable; the run's end calls it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._core.events import EventRecord, EventType

LIVE_LATENCY_SECONDS = 0.1  # a long node's start and logs reach storage within this
INLINE_WINDOW_SECONDS = 0.05  # how long a run may keep its events queued before storing any


@dataclass(slots=True)
class _FileWrite:
    node: str | None
    asset_key: str
    write: Callable[[], None]


class EventWriter:
    """The ordered queue of a run's events and deferred writes, drained by a writer thread.

    With ``background=False`` (in-memory instances) everything is written inline at each
    transition instead: the same order and transactions, no thread.

    ``EnvVar`` secret values are replaced by ``*****`` in messages, errors, tracebacks and
    metadata before anything is queued.
    """

    def __init__(self, store: Any, *, background: bool = True, run: Any = None) -> None:
        self._store = store
        self._background = background
        self._run_to_create = run  # created with the first batch of events
        self._last_drain = time.monotonic()
        self._queue: list[EventRecord | _FileWrite] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._closed = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.secrets: set[str] = set()
        self.written: list[EventRecord] = []
        self.storage_failures: dict[str, str] = {}  # node -> why its value could not be stored

    # -- producing ------------------------------------------------------------------------
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
            event.message = self.scrub(event.message)
            if event.data:
                event.data = self.scrub(event.data)
        with self._lock:
            self._queue.append(event)
        return event

    def defer_write(self, node: str | None, asset_key: str, write: Callable[[], None]) -> None:
        """Queue a value's file write; it happens before any event queued after it is stored."""
        if not self._background:
            self._run_write(_FileWrite(node, asset_key, write))
            return
        with self._lock:
            self._queue.append(_FileWrite(node, asset_key, write))

    # -- draining ---------------------------------------------------------------------------
    def transition(self) -> None:
        """A node started or ended: have what is queued written soon."""
        if self._thread is not None:
            with self._lock:
                self._wake.notify()
            return
        if time.monotonic() - self._last_drain < INLINE_WINDOW_SECONDS:
            return
        if not self._background:
            self._drain_inline()
            return
        self._thread = threading.Thread(target=self._run, name="deras-event-writer", daemon=True)
        self._thread.start()

    def flush(self) -> None:
        """Return once everything queued so far is stored; re-raise a storage error."""
        if not self._background or self._thread is None:
            self._drain_inline()
            return
        with self._lock:
            self._wake.notify()
            while (self._queue or self._busy) and self._error is None:
                self._idle.wait()
        self._raise_error()

    def close(self) -> None:
        if self._thread is not None:
            self.flush()
            with self._lock:
                self._closed = True
                self._wake.notify()
            self._thread.join()
            self._thread = None
        else:
            self._drain_inline()

    def _raise_error(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def _drain_inline(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        self._write_batch(batch)
        self._last_drain = time.monotonic()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._wake.wait(LIVE_LATENCY_SECONDS)
                if self._closed and not self._queue:
                    return
                batch, self._queue = self._queue, []
                self._busy = True
            try:
                self._write_batch(batch)
            except BaseException as err:  # surfaced to the executor at its next flush
                with self._lock:
                    self._error = err
            finally:
                with self._lock:
                    self._busy = False
                    self._idle.notify_all()

    def _write_batch(self, batch: list[EventRecord | _FileWrite]) -> None:
        events: list[EventRecord] = []
        for item in batch:
            if isinstance(item, _FileWrite):
                self._run_write(item)
            else:
                events.append(item)
        if self.storage_failures:
            events = self._rewrite_failed(events)
        if self._run_to_create is not None:
            run, self._run_to_create = self._run_to_create, None
            self._store.create_run(run, events)
        elif events:
            self._store.store_events(events)
        self.written.extend(events)

    def _run_write(self, item: _FileWrite) -> None:
        try:
            item.write()
        except Exception as err:
            if item.node is not None:
                self.storage_failures.setdefault(
                    item.node, f"storing {item.asset_key} failed: {type(err).__name__}: {err}"
                )

    def _rewrite_failed(self, events: list[EventRecord]) -> list[EventRecord]:
        # A node whose value never reached its file did not materialize: say so instead.
        out = []
        for e in events:
            reason = self.storage_failures.get(e.node or "")
            if reason is None:
                out.append(e)
            elif e.event_type == EventType.ASSET_MATERIALIZATION:
                out.append(
                    EventRecord(
                        e.run_id,
                        EventType.ASSET_FAILED,
                        e.node,
                        e.attempt,
                        data={k: v for k, v in e.data.items() if k in ("asset_key", "partitions")},
                    )
                )
            elif e.event_type == EventType.STEP_SUCCESS:
                out.append(
                    EventRecord(
                        e.run_id,
                        EventType.STEP_FAILURE,
                        e.node,
                        e.attempt,
                        reason,
                        "ERROR",
                        data={"error": reason, "traceback": ""},
                    )
                )
            else:
                out.append(e)
        return out

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
