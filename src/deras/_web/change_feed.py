"""One watcher of the store for every open page: what changed, fanned out to subscribers.

A thread reads the store's ``change_token()`` (SQLite: ``PRAGMA data_version``, microseconds;
Postgres: ``NOTIFY deras_work`` notices) every ``interval`` seconds, and the newest event id
when the token moved — or, on Postgres, where appending events sends no notice, at most every
``event_interval`` seconds. A change wakes every subscriber once, with the runs that have new
events. Subscribers coalesce what they have not read yet, so a slow page never builds a
backlog and the server does one query per change, not one per open tab.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("deras.web")


@dataclass(frozen=True)
class Change:
    """What changed since a subscriber last looked: ``run_ids`` with new events (maybe none:
    then something else moved — a run's status, a tick, a backfill), and the newest event id."""

    run_ids: frozenset[str]
    event_id: int


@dataclass(eq=False)  # compared and hashed by identity: a subscriber is itself
class Subscription:
    """One page's view of the feed; ``await next(timeout)`` gives the coalesced change or None."""

    _feed: ChangeFeed
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _run_ids: set[str] = field(default_factory=set)
    _event_id: int = 0

    def _add(self, change: Change) -> None:
        self._run_ids |= change.run_ids
        self._event_id = max(self._event_id, change.event_id)
        self._wake.set()

    async def next(self, timeout: float) -> Change | None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        if not self._wake.is_set():
            return None
        self._wake.clear()
        change = Change(frozenset(self._run_ids), self._event_id)
        self._run_ids = set()
        return change

    def close(self) -> None:
        self._feed._subscribers.discard(self)


class ChangeFeed:
    """The watcher thread and its subscribers (started with the app, stopped with it)."""

    def __init__(self, store: Any, *, interval: float = 0.2, event_interval: float = 1.0) -> None:
        self.store = store
        self.interval = interval
        self.event_interval = event_interval
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.event_id = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> Subscription:
        sub = Subscription(self)
        self._subscribers.add(sub)
        return sub

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read where the store is now, then watch it from a thread: whatever is written once
        this returns wakes the subscribers."""
        self._loop = loop
        self._stop.clear()
        token = self.store.change_token()
        self.event_id, _ = self.store.runs_with_events_after(None)
        self._thread = threading.Thread(
            target=self._watch, args=(token, self.event_id), name="deras-web-change-feed", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def publish(self, change: Change) -> None:
        """Wake every subscriber (from the event loop's thread)."""
        self.event_id = max(self.event_id, change.event_id)
        for sub in list(self._subscribers):
            sub._add(change)

    def notify(self) -> None:
        """Wake every page (from any thread): this server changed something outside the event log
        (a schedule started, code reloaded) that the store may not announce."""
        self._hand_over(Change(frozenset(), self.event_id))

    def _watch(self, token: Any, newest: int) -> None:
        next_event_read = time.monotonic() + self.event_interval
        while not self._stop.wait(self.interval):
            try:
                now = time.monotonic()
                current = self.store.change_token()
                if current != token or current is None or now >= next_event_read:
                    latest, run_ids = self.store.runs_with_events_after(newest)
                    if current != token or latest != newest:
                        self._hand_over(Change(frozenset(run_ids), latest))
                    token, newest, next_event_read = current, latest, now + self.event_interval
            except Exception:  # the database restarting: log, wait, look again
                log.warning("web change feed: reading the store failed; retrying", exc_info=True)
                self._stop.wait(1.0)

    def _hand_over(self, change: Change) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed while the app stops
            loop.call_soon_threadsafe(self.publish, change)
