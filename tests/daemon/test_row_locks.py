"""Row locks on Postgres: a row another session holds is skipped, never waited for.

A second SQLAlchemy connection holds ``SELECT ... FOR UPDATE`` on one row, the way another
daemon does while it claims or takes it over; the daemon under test must go on with the other
rows at once and leave that one alone until the lock is gone.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from recording_launcher import RecordingLauncher

from deras._core.status import RunStatus, TickStatus
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.run_factory import RunFactory
from deras._daemon.run_queue import RunQueue
from deras._storage.schema import runs, ticks

CODE = """
import deras as dg

@dg.asset
def a():
    return 1

defs = dg.Definitions(assets=[a])
"""

# Row locks with SKIP LOCKED are Postgres's (SQLite serialises writers): Postgres only.
pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

BLOCKED = 5.0  # seconds after which a call counts as waiting on the lock


@pytest.fixture
def ctx(make_instance: Any, write_code: Any, db_url: str) -> DaemonContext:
    loaded = write_code(CODE)
    return DaemonContext(make_instance(), loaded.definitions, loaded.location)


@contextmanager
def row_locked(url: str, query: sa.Select[Any]) -> Iterator[None]:
    """Another session holding ``query ... FOR UPDATE`` until the block ends."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn, conn.begin() as tx:
            assert conn.execute(query.with_for_update()).all(), "nothing to lock"
            yield
            tx.rollback()
    finally:
        engine.dispose()


def without_waiting(call: Callable[[], Any]) -> Any:
    """``call()`` in a thread; fails if it is still blocked after ``BLOCKED`` seconds."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = call()
        except BaseException as err:  # re-raised in the test's thread
            result["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BLOCKED)
    assert not thread.is_alive(), f"blocked for {BLOCKED} s on a row another session holds"
    if "error" in result:
        raise result["error"]
    return result["value"]


def dead_owner() -> str:
    """An owner string naming a process of this host that has exited."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return f"{socket.gethostname()}:{finished.pid}:dead00"


def test_run_queue_skips_a_queued_run_locked_by_another_session(ctx: DaemonContext, db_url: str) -> None:
    factory = RunFactory(ctx.definitions, ctx.location, ctx.instance)
    queued = [factory.for_assets(["a"], key=f"r{i}") for i in range(3)]
    ctx.store.create_runs(queued)
    locked, *others = (r.run_id for r in queued)
    launcher = RecordingLauncher()
    queue = RunQueue(ctx, launcher)

    with row_locked(db_url, sa.select(runs).where(runs.c.run_id == locked)):
        launched = without_waiting(lambda: queue.tick(time.time()))
        assert launched == others == launcher.launched
        assert ctx.instance.get_run(locked).status == RunStatus.QUEUED
        assert {ctx.instance.get_run(r).status for r in others} == {RunStatus.STARTING}

    assert queue.tick(time.time()) == [locked]  # once the lock is gone, the run starts
    assert launcher.launched == [*others, locked]


def test_claim_tick_skips_a_started_tick_locked_by_another_session(ctx: DaemonContext, db_url: str) -> None:
    """A dead daemon's started tick, its lease run out, that another daemon is taking over."""
    now = time.time()
    tick_time = now - 60
    orphan = ctx.store.ticks.claim_tick("schedule:nightly", tick_time, dead_owner(), now - 120, 1.0)
    assert orphan is not None and orphan.status == TickStatus.STARTED

    with row_locked(db_url, sa.select(ticks).where(ticks.c.id == orphan.id)):
        assert without_waiting(lambda: ctx.claim_tick("schedule:nightly", tick_time, now)) is None
        other = without_waiting(lambda: ctx.claim_tick("schedule:nightly", tick_time + 60, now))
        assert other is not None and other.owner == ctx.owner  # other ticks are claimed meanwhile

    taken = ctx.claim_tick("schedule:nightly", tick_time, now)
    assert taken is not None and taken.id == orphan.id and taken.owner == ctx.owner
    assert ctx.claim_tick("schedule:nightly", tick_time, now) is None  # and only once


def test_claim_tick_does_not_wait_for_a_dead_owners_tick_locked_elsewhere(
    ctx: DaemonContext, db_url: str
) -> None:
    """Its lease has not run out, but its owner is dead: the take-over also skips a locked row."""
    now = time.time()
    orphan = ctx.store.ticks.claim_tick("sensor:files", now, dead_owner(), now, 600.0)
    assert orphan is not None

    with row_locked(db_url, sa.select(ticks).where(ticks.c.id == orphan.id)):
        assert without_waiting(lambda: ctx.claim_tick("sensor:files", now, now + 1)) is None

    taken = ctx.claim_tick("sensor:files", now, now + 1)
    assert taken is not None and taken.id == orphan.id and taken.owner == ctx.owner
