"""NotificationOutbox: sends run notifications once, off the daemon's scheduling path.

Each (run, event) notification is claimed as a tick row (``notification:<run id>``, keyed by
the event) before it is sent, so two daemons that both see a run finish notify once, and the
row records whether delivery worked. Sending happens on a background thread: a webhook that
takes its whole timeout does not delay the next schedule tick.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from .._core.records import RunRecord
from .._core.status import TickStatus

log = logging.getLogger("deras.daemon.notifications")

_EVENTS = ("run_failure", "run_success", "run_retry_exhausted", "check_failure")


class NotificationOutbox:
    def __init__(self, ctx: Any, notifier: Any, *, background: bool = True) -> None:
        self.ctx = ctx
        self.notifier = notifier
        self._queue: queue.Queue[tuple[RunRecord, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._background = background

    def wants(self, event: str) -> bool:
        """Whether a notification of ``event`` goes anywhere (building one reads the run's events)."""
        if self.notifier is None:
            return False
        wants = getattr(self.notifier, "wants", None)
        return True if wants is None else bool(wants(event))

    def send(self, run: RunRecord, event: str) -> None:
        if not self.wants(event):
            return
        if not self._background:
            self._deliver(run, event)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="deras-notifications", daemon=True)
            self._thread.start()
        self._queue.put((run, event))

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until everything sent so far was delivered (or failed); for tests and shutdown."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is not None:
                    self._deliver(*item)
            finally:
                self._queue.task_done()

    def _deliver(self, run: RunRecord, event: str) -> None:
        from .notifications import notification_for_run

        ticks = self.ctx.store.ticks
        now = time.time()
        try:
            tick = ticks.claim_tick(
                f"notification:{run.run_id}", float(_EVENTS.index(event)), self.ctx.owner, now, 300.0
            )
            if tick is None:
                return  # another daemon sends (or sent) this one
            errors = self.notifier.notify(notification_for_run(self.ctx.instance, run, event))
        except Exception as err:  # notifications never break the daemon
            log.exception("notification %s of run %s", event, run.run_id)
            errors = [str(err)]
            tick = locals().get("tick")
            if tick is None:
                return
        status = TickStatus.FAILURE if errors else TickStatus.SUCCESS
        try:
            ticks.finish_tick(tick.id, status, now=time.time(), error="\n".join(errors or []) or None)
        except Exception:
            log.exception("recording notification %s of run %s", event, run.run_id)
