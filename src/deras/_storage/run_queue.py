"""The run queue: queued runs claimed for launching, worker heartbeats, dead workers, cancels.

A run moves ``queued -> starting`` when a launcher claims it, then the worker's events move
it on as usual (``RUN_START``, ``RUN_SUCCESS``...). Everything a worker cannot write itself
because it died, or because the run never reached it, is written here as the events it would
have written (``STEP_FAILURE``, ``RUN_FAILURE``, ``RUN_CANCELED``), through
:meth:`EventStore.append` in the same transaction, so run status, end time and attempts are
derived exactly as for a run that ended by itself.

On Postgres, claiming and failing lock the runs' rows with ``FOR UPDATE SKIP LOCKED``: a row
another session is working on is skipped rather than waited for, so two launchers claim
disjoint runs and a run being claimed is not failed at the same moment. On SQLite
``BEGIN IMMEDIATE`` serialises the same transactions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam

from deras._core.events import DATA_ERROR, EventRecord, EventType
from deras._core.records import RunRecord
from deras._core.status import NodeStatus, RunStatus

from .database import IN_BATCH, Database, WriteTransaction, in_batch, in_batch_params
from .events import EventStore
from .runs import run_record
from .schema import attempts, dump_json, event_log, load_json, runs
from .slots import release_run_slots


@dataclass(frozen=True, slots=True)
class BeatAnswer:
    """What a heartbeat learned: the runs being canceled, and the runs that are stored."""

    canceling: list[str]
    found: set[str]


ACTIVE_RUN_STATUSES = tuple(s for s in RunStatus if s.is_active)
_ACTIVE = [s.value for s in ACTIVE_RUN_STATUSES]

_LOCK_QUEUED = (
    sa.select(runs.c.run_id)
    .where(in_batch(runs.c.run_id, "r"), runs.c.status == bindparam("queued"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    sa.update(runs)
    .where(in_batch(runs.c.run_id, "r"), runs.c.status == bindparam("queued"))
    .values(
        status=bindparam("starting"),
        heartbeat=bindparam("now"),
        worker=sa.func.coalesce(bindparam("worker", type_=sa.Text), runs.c.worker),
    )
)
# One statement stamps every run of a process; a run's owner record is rewritten only when
# given (its node changed), else kept (a CASE without a match is NULL: COALESCE keeps it).
_BEAT = (
    sa.update(runs)
    .where(in_batch(runs.c.run_id, "r"))
    .values(
        heartbeat=bindparam("now"),
        worker=sa.func.coalesce(
            sa.case(
                *(
                    (runs.c.run_id == bindparam(f"r_{i}"), bindparam(f"w_{i}", type_=sa.Text))
                    for i in range(IN_BATCH)
                )
            ),
            runs.c.worker,
        ),
    )
)
_STATUS_OF = sa.select(runs.c.run_id, runs.c.status).where(in_batch(runs.c.run_id, "r"))
_STATUS = sa.select(runs.c.status).where(runs.c.run_id == bindparam("run_id"))
_UNTAKEN = (runs.c.status == bindparam("starting"), runs.c.worker.is_(None))
_TAKE = (
    sa.update(runs)
    .where(runs.c.run_id == bindparam("run_id"), *_UNTAKEN)
    .values(heartbeat=bindparam("now"), worker=bindparam("worker"))
)
_LOCK_UNTAKEN = (
    sa.select(runs.c.run_id)
    .where(*_UNTAKEN, runs.c.heartbeat < bindparam("before"))
    .order_by(runs.c.id)
    .with_for_update(skip_locked=True)
)
_REQUEUE = (
    sa.update(runs)
    .where(runs.c.run_id == bindparam("run_id"), *_UNTAKEN)
    .values(status=bindparam("queued"), heartbeat=sa.null())
)
_LOCK_STALE = (
    sa.select(runs.c.status, runs.c.heartbeat, runs.c.worker)
    .where(runs.c.run_id == bindparam("run_id"))
    .with_for_update(skip_locked=True)
)
# Cancelling waits for a lock held elsewhere: its answer must be the status after it.
_LOCK_STATUS = _STATUS.with_for_update()
_RUNNING_ATTEMPTS = (
    sa.select(attempts.c.node, attempts.c.attempt)
    .where(attempts.c.run_id == bindparam("run_id"), attempts.c.status == bindparam("running"))
    .order_by(attempts.c.node, attempts.c.attempt)
)
_PLANNED_TYPE = EventType.MATERIALIZATION_PLANNED.value
_PLANNED = (
    sa.select(event_log.c.node, event_log.c.attempt, event_log.c.data)
    .where(event_log.c.run_id == bindparam("run_id"), event_log.c.event_type == bindparam("planned"))
    .order_by(event_log.c.id)
)
_SET_CANCELING = (
    sa.update(runs).where(runs.c.run_id == bindparam("run_id")).values(status=bindparam("canceling"))
)


class RunQueueStore:
    """Claim queued runs, track the workers executing them, fail dead ones, cancel runs."""

    def __init__(self, db: Database, events: EventStore) -> None:
        self._db = db
        self._events = events

    def queued_runs(self, limit: int | None = None) -> list[RunRecord]:
        """Queued runs in launch order: higher priority first, then oldest first."""
        query = (
            sa.select(runs)
            .where(runs.c.status == RunStatus.QUEUED.value)
            .order_by(runs.c.priority.desc(), runs.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            return [run_record(row) for row in conn.execute(query)]

    def active_runs(self) -> list[RunRecord]:
        """Runs claimed and not finished: starting, started or canceling."""
        query = sa.select(runs).where(runs.c.status.in_(_ACTIVE)).order_by(runs.c.id)
        with self._db.read() as conn:
            return [run_record(row) for row in conn.execute(query)]

    def claim(self, run_ids: Sequence[str], now: float, worker: dict[str, Any] | None = None) -> list[str]:
        """Move each run of ``run_ids`` still queued to ``starting``; returns those, in order.

        Their heartbeat starts at ``now``, so a launcher that dies before its worker starts
        leaves a run that :meth:`stale_runs` finds. Runs claimed elsewhere (or canceled) are
        left out: whoever claims concurrently, each run is claimed once.
        """
        wanted = list(dict.fromkeys(run_ids))
        worker_json = None if worker is None else dump_json(worker)

        def claim(tx: WriteTransaction) -> list[str]:
            locked: set[str] = set()
            for params in in_batch_params("r", wanted, queued=RunStatus.QUEUED.value):
                locked.update(row[0] for row in tx.fetchall(_LOCK_QUEUED, params))
            claimed = [run_id for run_id in wanted if run_id in locked]
            for params in in_batch_params(
                "r",
                claimed,
                queued=RunStatus.QUEUED.value,
                starting=RunStatus.STARTING.value,
                now=now,
                worker=worker_json,
            ):
                tx.execute(_CLAIM, params)
            return claimed

        return self._db.transact(claim)

    def take(self, run_id: str, now: float, worker: dict[str, Any]) -> bool:
        """A worker takes the ``starting`` run the queue launched to it; False if it may not.

        Only a run no worker has taken yet is taken (compare-and-set on ``worker``), so a run
        put back in the queue by :meth:`requeue_untaken` is never also executed by a late
        worker of its first launch.
        """
        params = {
            "run_id": run_id,
            "starting": RunStatus.STARTING.value,
            "now": now,
            "worker": dump_json(worker),
        }
        return self._db.transact(lambda tx: tx.rowcount(_TAKE, params) == 1)

    def requeue_untaken(self, before: float) -> list[str]:
        """Put ``starting`` runs that no worker took since ``before`` back in the queue.

        The run queue claims runs and then launches them; a daemon that dies in between (or a
        launch that was lost) leaves runs claimed that no process will ever execute. They are
        queued again, not failed: nothing of them has run. Rows another session holds are
        skipped (Postgres: SKIP LOCKED). Returns the run ids requeued.
        """

        def requeue(tx: WriteTransaction) -> list[str]:
            found = [
                row[0]
                for row in tx.fetchall(
                    _LOCK_UNTAKEN, {"starting": RunStatus.STARTING.value, "before": before}
                )
            ]
            tx.executemany(
                _REQUEUE,
                [
                    {"run_id": r, "starting": RunStatus.STARTING.value, "queued": RunStatus.QUEUED.value}
                    for r in found
                ],
            )
            return found

        return self._db.transact(requeue)

    def beat(self, owners: Mapping[str, dict[str, Any] | None], now: float) -> list[str]:
        """Stamp the heartbeat of every run in ``owners``; returns those being canceled.

        ``owners`` maps each run id to its owner record to store (the node it is on changed),
        or None to keep the stored one. The process executing the runs calls this every few
        seconds: one statement for all of them, and a ``canceling`` status in the answer is how
        a cancel reaches it.
        """
        return self.beat_runs(owners, now).canceling

    def beat_runs(self, owners: Mapping[str, dict[str, Any] | None], now: float) -> BeatAnswer:
        """:meth:`beat`, also answering which runs were found: a run whose row is not stored yet
        (its first events are still in the writer) kept no owner record, to be sent again."""
        ids = list(owners)

        def beat(tx: WriteTransaction) -> BeatAnswer:
            answer = BeatAnswer([], set())
            for params in in_batch_params("r", ids, now=now):
                for i in range(IN_BATCH):
                    owner = owners.get(params[f"r_{i}"]) if params[f"r_{i}"] is not None else None
                    params[f"w_{i}"] = None if owner is None else dump_json(owner)
                tx.execute(_BEAT, params)
                for run_id, status in tx.fetchall(_STATUS_OF, params):
                    answer.found.add(run_id)
                    if status == RunStatus.CANCELING.value:
                        answer.canceling.append(run_id)
            return answer

        return self._db.transact(beat)

    def beating_runs(self) -> list[RunRecord]:
        """Active runs that have a heartbeat: those the run monitor judges alive or dead.

        A run without one was executed before runs recorded their owner (or on an in-memory
        instance): nobody can tell whether its process lives.
        """
        query = (
            sa.select(runs)
            .where(runs.c.status.in_(_ACTIVE), runs.c.heartbeat.is_not(None))
            .order_by(runs.c.id)
        )
        with self._db.read() as conn:
            return [run_record(row) for row in conn.execute(query)]

    def fail_stale_run(
        self, run_id: str, before: float, message: str, now: float, owner: dict[str, Any] | None = None
    ) -> bool:
        """Fail the run if it is still active with no heartbeat since ``before``; True if failed.

        Checked again under the row lock, since the worker may have beaten since the run was
        listed by :meth:`beating_runs`; with ``owner`` (the dead process it was judged by), only
        if that process still owns it. Each attempt still running gets a ``STEP_FAILURE`` and
        the run a ``RUN_FAILURE`` (with ``message``; ``RUN_CANCELED`` if it was being canceled),
        what those attempts had in progress an ``ASSET_FAILED``, and its concurrency slots are freed.
        """

        def fail(tx: WriteTransaction) -> bool:
            rows = tx.fetchall(_LOCK_STALE, {"run_id": run_id})
            if not rows:
                return False  # no such run, or locked by a session that is working on it
            status, heartbeat, stored_owner = rows[0]
            if status not in _ACTIVE or (heartbeat is not None and heartbeat >= before):
                return False
            if owner is not None and not _same_process(owner, stored_owner):
                return False  # another process took the run over (a cleared DAG run)
            running = tx.fetchall(_RUNNING_ATTEMPTS, {"run_id": run_id, "running": NodeStatus.RUNNING.value})
            events = [
                EventRecord(
                    run_id,
                    EventType.STEP_FAILURE,
                    node=node,
                    attempt=attempt,
                    message=message,
                    level="ERROR",
                    timestamp=now,
                    data={DATA_ERROR: message},
                )
                for node, attempt in running
            ]
            # What the dead attempts planned to materialize is in progress no more: it failed.
            dead = {node for node, _ in running}
            for node, attempt, data in tx.fetchall(_PLANNED, {"run_id": run_id, "planned": _PLANNED_TYPE}):
                if node in dead and data:
                    events.append(
                        EventRecord(
                            run_id,
                            EventType.ASSET_FAILED,
                            node=node,
                            attempt=attempt,
                            message=message,
                            level="ERROR",
                            timestamp=now,
                            data=load_json(data),
                        )
                    )
            # A run the user was canceling ends canceled (and is not retried), not failed.
            end = EventType.RUN_CANCELED if status == RunStatus.CANCELING.value else EventType.RUN_FAILURE
            events.append(EventRecord(run_id, end, message=message, level="ERROR", timestamp=now))
            self._events.append(tx, events)
            release_run_slots(tx, run_id)
            return True

        return self._db.transact(fail)

    def cancel(self, run_id: str, now: float) -> RunStatus | None:
        """Cancel the run; returns its status afterwards (None: no such run).

        A queued run is canceled at once (``RUN_CANCELED``, ending it at ``now``). A starting
        or started one becomes ``canceling``: its worker sees it at its next heartbeat, stops
        between nodes and ends the run canceled. A finished or canceling run is left as is.
        """

        def cancel(tx: WriteTransaction) -> RunStatus | None:
            rows = tx.fetchall(_LOCK_STATUS, {"run_id": run_id})
            if not rows:
                return None
            status = RunStatus(rows[0][0])
            if status is RunStatus.QUEUED:
                event = EventRecord(
                    run_id, EventType.RUN_CANCELED, message="canceled before it started", timestamp=now
                )
                self._events.append(tx, [event])
                return RunStatus.CANCELED
            if status in (RunStatus.STARTING, RunStatus.STARTED):
                tx.execute(_SET_CANCELING, {"run_id": run_id, "canceling": RunStatus.CANCELING.value})
                return RunStatus.CANCELING
            return status

        return self._db.transact(cancel)


def _same_process(owner: dict[str, Any], stored: str | None) -> bool:
    """Whether the stored owner record names ``owner``'s process (the node it was on aside)."""
    if stored is None:
        return False
    current = load_json(stored)
    return all(current.get(k) == owner.get(k) for k in ("host", "pid", "started", "pidns"))
