"""Writing runs' events behind the executor, in order.

The executor never waits on storage in the middle of a run. New runs and events go into one
ordered queue. For its first ``INLINE_WINDOW_SECONDS`` a writer only queues, so a short run is
stored in one transaction at its end, run row included. Past that, a writer thread stores
everything queued in one transaction, at most once per ``GROUP_COMMIT_SECONDS`` (group commit:
while one commit runs, the next batch gathers). Values are not the writer's: a step stores its
outputs before it reports success, so a materialization event always follows its file. One
writer may serve many consecutive runs of one process (a partition range), so a thousand short
runs cost a few dozen transactions.

The "store" is anything with ``write(runs=, events=)``: the metadata store, or a pool worker's
pipe to the process that coordinates the run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._core.events import EventRecord, EventType
from .._core.records import RunRecord
from .ports import EventSink
from .record_cap import cap_event
from .secret_mask import mask

INLINE_WINDOW_SECONDS = 0.05  # how long events may stay queued before a writer thread starts
GROUP_COMMIT_SECONDS = 0.02  # the writer thread commits at most this often
LIVE_LATENCY_SECONDS = 0.1  # a long node's start and logs reach storage within this


@dataclass(slots=True)
class _NewRun:
    run: RunRecord


_Item = EventRecord | _NewRun


class EventWriter:
    """The ordered queue of runs and events, drained in few transactions.

    With ``background=False`` (in-memory instances) no thread is started: the queue is
    drained inline, at transitions once the window has passed and at ``flush()``.

    ``EnvVar`` secret values are replaced by ``*****`` in messages, errors, tracebacks and
    metadata before anything is queued; then texts longer than 64 KiB characters are cut (see
    :mod:`.record_cap`).
    """

    def __init__(self, store: EventSink, *, background: bool = True) -> None:
        self._store = store
        self._background = background
        self._queue: list[_Item] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._closed = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        # Starts the writer thread when the inline window ends inside a long node.
        self._timer: threading.Timer | None = None
        self._last_drain = time.monotonic()
        self.secrets: set[str] = set()
        # Where texts too long for one event are kept whole (None: an in-memory instance).
        self.log_dir: Path | None = None
        self.written: list[EventRecord] = []

    # -- producing ------------------------------------------------------------------------
    def begin_run(self, run: RunRecord) -> None:
        """Queue the creation of ``run``; it is stored with the first batch of its events."""
        with self._lock:
            self._queue.append(_NewRun(run))

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
            event.message = mask(event.message, self.secrets)
            if event.data:
                event.data = mask(event.data, self.secrets)
        cap_event(event, self.log_dir)  # masked first: the log file never sees a secret either
        with self._lock:
            self._queue.append(event)
        return event

    def add_records(self, events: list[EventRecord]) -> None:
        """Queue events made (masked and cut) by another writer: a pool worker's, relayed."""
        with self._lock:
            self._queue.extend(events)

    # -- draining ---------------------------------------------------------------------------
    def transition(self) -> None:
        """A node started or ended: have what is queued written soon."""
        if self._thread is not None:
            with self._lock:
                self._wake.notify()
            return
        waited = time.monotonic() - self._last_drain
        if waited < INLINE_WINDOW_SECONDS:
            # A node that starts now may run for minutes: its start and logs must not wait
            # for its end. A timer starts the writer thread when the window is over, unless
            # the run has ended (and drained inline) first.
            if self._background and self._timer is None:
                self._timer = threading.Timer(INLINE_WINDOW_SECONDS - waited, self._start_thread)
                self._timer.daemon = True
                self._timer.start()
            return
        if not self._background:
            self._drain_inline()
            return
        self._start_thread()

    def _start_thread(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._run, name="deras-event-writer", daemon=True)
            self._thread.start()
            self._wake.notify()

    def _settle_timer(self) -> None:
        """Before deciding between inline and threaded draining: the timer has fired or never will."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            timer.join()

    def flush(self) -> None:
        """Return once everything queued so far is stored; re-raise a storage error."""
        self._settle_timer()
        if self._thread is None:
            self._drain_inline()
            return
        with self._lock:
            self._wake.notify()
            while (self._queue or self._busy) and self._error is None:
                self._idle.wait()
        self._raise_error()

    def close(self) -> None:
        """Store everything and stop the writer thread."""
        self._settle_timer()
        if self._thread is None:
            self._drain_inline()
            return
        try:
            self.flush()
        finally:
            with self._lock:
                self._closed = True
                self._wake.notify()
            self._thread.join()
            self._thread = None

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
                # Let the batch gather for what is left of the group-commit interval.
                pause = GROUP_COMMIT_SECONDS - (time.monotonic() - self._last_drain)
                if pause > 0 and not self._closed:
                    self._wake.wait(pause)
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
                    self._last_drain = time.monotonic()
                    self._idle.notify_all()

    def _write_batch(self, batch: list[_Item]) -> None:
        runs: list[RunRecord] = []
        events: list[EventRecord] = []
        for item in batch:
            if isinstance(item, _NewRun):
                runs.append(item.run)
            else:
                events.append(item)
        if runs or events:
            self._store.write(runs=runs, events=events)
        self.written.extend(events)
