"""What a run's process hears from outside while it executes: cancel requests and pool slots.

The run loop asks its ``RunControl`` before each node whether the run was canceled, and for a
slot of the node's ``pool=`` before submitting it. The default control never cancels and has no
pools (``dg.materialize`` on an in-memory instance). Every run of a stored instance gets a
:class:`CancelableRunControl`: its process's heartbeat (``process_heartbeat.py``) relays a
cancel request to it. A run worker's :class:`StoredRunControl` also claims slots in the
metadata store, so pools limit nodes across every run the daemon launches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._storage.store import MetadataStore

log = logging.getLogger("deras.run_control")


class RunControl:
    """No cancellation and no pools: what an in-process run without a daemon gets."""

    current_node: str | None = None

    def starting(self, node: str) -> None:
        """The executor is about to run ``node``."""
        self.current_node = node  # the run's heartbeat, if it has one, reports the node it is on

    def request_cancel(self) -> None:
        """The run is being canceled (heard by the process's heartbeat); ignored here."""

    def canceled(self) -> bool:
        return False

    def try_acquire(self, pool: str, node: str) -> bool:
        """Take a slot of ``pool`` for ``node`` if one is free now (the run loop asks again later)."""
        return True

    def release(self, pool: str, node: str) -> None:
        """Give back the slot ``node`` holds in ``pool``."""


class CancelableRunControl(RunControl):
    """Cancel requests relayed by the process's heartbeat; no pools (``deras materialize``)."""

    def __init__(self) -> None:
        self._cancel = threading.Event()

    def starting(self, node: str) -> None:
        self.current_node = node  # the run's heartbeat reports the node it is on

    def request_cancel(self) -> None:
        self._cancel.set()

    def canceled(self) -> bool:
        return self._cancel.is_set()


class StoredRunControl(CancelableRunControl):
    """A run worker's control: cancel requests, and pool slots claimed in the metadata store.

    ``pool_limits`` are the instance's configured pools (``pools: {db: 2}`` in deras.yaml);
    a pool that is not configured does not limit anything (a warning says so once).
    """

    def __init__(self, store: MetadataStore, run_id: str, pool_limits: Mapping[str, int]) -> None:
        super().__init__()
        self._store = store
        self._run_id = run_id
        self._limits = dict(pool_limits)
        self._warned: set[str] = set()
        self.claimed_slots = False

    def try_acquire(self, pool: str, node: str) -> bool:
        limit = self._limits.get(pool)
        if limit is None:
            if pool not in self._warned:
                self._warned.add(pool)
                log.warning("pool %r is not configured (pools: in deras.yaml): not limited", pool)
            return True
        if self._store.slots.claim(pool, limit, self._run_id, node, time.time()):
            self.claimed_slots = True
            return True
        return False

    def release(self, pool: str, node: str) -> None:
        if pool in self._limits:
            self._store.slots.release(pool, self._run_id, node)
