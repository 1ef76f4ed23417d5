"""One heartbeat thread per process: it stamps every run the process executes, and relays cancels.

While a run of a stored instance executes, its process stamps the run's ``heartbeat`` every
``run_monitoring.heartbeat_interval_seconds``. All the runs of one process (a pool worker's,
or threads running runs side by side) are stamped by one thread in one statement per
database; the answer names the runs being canceled, and their controls hear it, so a
``deras runs cancel`` stops a ``deras materialize`` between nodes as it stops a worker's run.
The run monitor fails a run whose stamps stop (see ``run_owner.py`` for who owns a run).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .ports import InstanceLike
from .run_control import RunControl
from .run_owner import this_process

if TYPE_CHECKING:
    from .._storage.store import MetadataStore

log = logging.getLogger("deras.heartbeat")

DEFAULT_INTERVAL_SECONDS = 2.0


class _Beating:
    """A run being stamped: where it is stored, who hears its cancel, the node last reported."""

    __slots__ = ("control", "holders", "interval", "node_stamped", "store")

    def __init__(self, store: MetadataStore, control: RunControl, interval: float) -> None:
        self.store = store
        self.control = control
        self.interval = interval
        self.holders = 1
        self.node_stamped: str | None = None


class ProcessHeartbeat:
    """The runs this process executes, stamped by one daemon thread started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._runs: dict[str, _Beating] = {}
        self._thread: threading.Thread | None = None

    @contextmanager
    def beating(
        self, store: MetadataStore, run_id: str, control: RunControl, interval: float
    ) -> Iterator[None]:
        """Stamp ``run_id`` while the block runs; nested blocks for one run share its stamps."""
        with self._lock:
            entry = self._runs.get(run_id)
            if entry is None:
                self._runs[run_id] = _Beating(store, control, interval)
            else:
                entry.holders += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="deras-heartbeat", daemon=True)
                self._thread.start()
            self._changed.notify()
        try:
            yield
        finally:
            with self._lock:
                entry = self._runs[run_id]
                entry.holders -= 1
                if entry.holders == 0:
                    del self._runs[run_id]

    def _loop(self) -> None:
        last = time.monotonic()
        while True:
            with self._lock:
                while True:
                    if not self._runs:
                        self._changed.wait()
                        last = time.monotonic()  # a run just added was stamped when it was stored
                        continue
                    left = last + min(b.interval for b in self._runs.values()) - time.monotonic()
                    if left <= 0:
                        break
                    self._changed.wait(left)
                due = list(self._runs.items())
            last = time.monotonic()
            self._beat(due)

    @staticmethod
    def _beat(due: list[tuple[str, _Beating]]) -> None:
        now = time.time()
        owner = this_process()
        by_store: dict[int, tuple[MetadataStore, dict[str, dict[str, Any] | None]]] = {}
        for run_id, entry in due:
            node = entry.control.current_node
            # The owner record is rewritten only when the run moved to another node.
            stamp = None if node == entry.node_stamped else {**owner, "node": node}
            by_store.setdefault(id(entry.store), (entry.store, {}))[1][run_id] = stamp
        entries = dict(due)
        for store, owners in by_store.values():
            try:
                answer = store.run_queue.beat_runs(owners, now)
            except Exception:  # a blip of the database must not kill the runs; the next beat retries
                log.warning("heartbeat of runs %s failed", ", ".join(owners), exc_info=True)
                continue
            for run_id, stamp in owners.items():
                if stamp is not None and run_id in answer.found:  # else not stored yet: sent again
                    entries[run_id].node_stamped = stamp["node"]
            for run_id in answer.canceling:
                entries[run_id].control.request_cancel()


_process: tuple[int, ProcessHeartbeat] | None = None
_process_lock = threading.Lock()


def process_heartbeat() -> ProcessHeartbeat:
    """This process's heartbeat (a forked child, whose parent's thread did not follow, gets its own)."""
    global _process
    with _process_lock:
        if _process is None or _process[0] != os.getpid():
            _process = (os.getpid(), ProcessHeartbeat())
        return _process[1]


def heartbeat_interval(instance: InstanceLike) -> float:
    """``run_monitoring.heartbeat_interval_seconds`` of the instance.

    Read from deras.yaml directly: ``deras materialize`` should not pay for validating every
    daemon setting (pydantic, ~0.1 s). A value that is not a positive number goes through the
    full validation, which names it in its error.
    """
    config = instance.settings.config if instance.settings is not None else {}
    monitoring = config.get("run_monitoring", {})
    if isinstance(monitoring, dict):
        value = monitoring.get("heartbeat_interval_seconds", DEFAULT_INTERVAL_SECONDS)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return float(instance.daemon_settings.run_monitoring.heartbeat_interval_seconds)
