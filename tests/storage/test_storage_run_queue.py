"""The run queue: launch order, claims exactly once, heartbeats, dead workers, cancels."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from deras._core.events import EventRecord, EventType
from deras._core.records import RunRecord
from deras._core.status import NodeStatus, RunStatus
from deras._storage import MetadataStore

T0 = 1_700_000_000.0
WORKER = {"host": "box-1", "pid": 4242}


def _queue(store: MetadataStore, *run_ids: str, priority: int = 0) -> None:
    store.create_runs([RunRecord(r, "assets:a", priority=priority, create_time=T0) for r in run_ids])


def _started(store: MetadataStore, run_id: str, *, heartbeat: float = T0) -> None:
    """A claimed run whose worker started it and one node ("a", attempt 0)."""
    _queue(store, run_id)
    assert store.run_queue.claim([run_id], now=heartbeat, worker=WORKER) == [run_id]
    store.store_events(
        [
            EventRecord(run_id, EventType.RUN_START, timestamp=heartbeat),
            EventRecord(run_id, EventType.STEP_START, node="a", attempt=0, timestamp=heartbeat),
        ]
    )


def _status(store: MetadataStore, run_id: str) -> RunStatus:
    run = store.get_run(run_id)
    assert run is not None
    return run.status


def test_queued_runs_come_by_priority_then_creation_order(store: MetadataStore) -> None:
    _queue(store, "low-1", "low-2")
    _queue(store, "high-1", "high-2", priority=10)
    _queue(store, "negative", priority=-1)
    store.create_run(RunRecord("done", "assets:a", status=RunStatus.SUCCESS, create_time=T0))
    order = ["high-1", "high-2", "low-1", "low-2", "negative"]
    assert [r.run_id for r in store.run_queue.queued_runs()] == order
    assert [r.run_id for r in store.run_queue.queued_runs(limit=3)] == order[:3]


def test_claim_moves_queued_runs_to_starting_with_a_heartbeat(store: MetadataStore) -> None:
    _queue(store, "r1", "r2", "r3")
    assert store.run_queue.claim(["r3", "r1"], now=T0 + 5, worker=WORKER) == ["r3", "r1"]
    run = store.get_run("r3")
    assert run is not None
    assert (run.status, run.heartbeat, run.worker) == (RunStatus.STARTING, T0 + 5, WORKER)
    assert [r.run_id for r in store.run_queue.queued_runs()] == ["r2"]
    assert [r.run_id for r in store.run_queue.active_runs()] == ["r1", "r3"]


def test_claim_skips_runs_that_are_not_queued(store: MetadataStore) -> None:
    _queue(store, "r1", "r2")
    assert store.run_queue.claim(["r1"], now=T0) == ["r1"]
    assert store.run_queue.claim(["r1", "r2", "missing", "r2"], now=T0) == ["r2"]
    assert store.run_queue.claim([], now=T0) == []


def test_claim_of_many_runs(store: MetadataStore) -> None:
    run_ids = [f"r{i:04d}" for i in range(450)]
    _queue(store, *run_ids)
    assert store.run_queue.claim(run_ids[::-1], now=T0) == run_ids[::-1]
    assert store.run_queue.queued_runs() == []


def test_concurrent_claimers_claim_each_run_exactly_once(store: MetadataStore) -> None:
    run_ids = [f"r{i:03d}" for i in range(60)]
    _queue(store, *run_ids)
    barrier = threading.Barrier(2)
    claimed: dict[int, list[str]] = {0: [], 1: []}
    errors: list[BaseException] = []

    def claim(worker: int) -> None:
        other = MetadataStore(store.url)
        try:
            barrier.wait(timeout=30)
            # One at a time, each claimer in its own order, so their claims interleave.
            for run_id in run_ids if worker == 0 else reversed(run_ids):
                claimed[worker] += other.run_queue.claim([run_id], now=T0, worker={"pid": worker})
        except BaseException as e:
            errors.append(e)
        finally:
            other.dispose()

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(claimed[0] + claimed[1]) == run_ids
    for worker in (0, 1):
        assert {r.worker["pid"] for r in store.get_runs() if r.run_id in claimed[worker] and r.worker} <= {
            worker
        }


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # row locks are Postgres's
def test_claim_skips_a_run_locked_by_another_session_without_waiting(store: MetadataStore, no_hang) -> None:
    _queue(store, "locked", "free")
    engine = sa.create_engine(store.url, poolclass=sa.NullPool)
    try:
        with engine.connect() as other, other.begin():
            other.execute(sa.text("SELECT run_id FROM runs WHERE run_id = 'locked' FOR UPDATE"))
            with no_hang(20):  # waiting for the lock would wait for ever: it is held here
                assert store.run_queue.claim(["locked", "free"], now=T0) == ["free"]
    finally:
        engine.dispose()
    assert store.run_queue.claim(["locked"], now=T0) == ["locked"]


def test_beat_stamps_runs_and_names_those_being_canceled(store: MetadataStore) -> None:
    _started(store, "r")
    _started(store, "other")
    assert store.run_queue.beat({"r": None, "other": None}, now=T0 + 10) == []
    run = store.get_run("r")
    assert run is not None and run.heartbeat == T0 + 10 and run.worker == WORKER  # owner kept
    assert store.run_queue.cancel("r", now=T0 + 11) is RunStatus.CANCELING
    moved = {**WORKER, "node": "b"}
    assert store.run_queue.beat({"r": moved, "other": None, "missing": None}, now=T0 + 12) == ["r"]
    run, other = store.get_run("r"), store.get_run("other")
    assert run is not None and run.worker == moved and run.heartbeat == T0 + 12
    assert other is not None and other.worker == WORKER and other.heartbeat == T0 + 12


def test_beat_answers_which_runs_are_stored(store: MetadataStore) -> None:
    """A run whose row the event writer has not stored yet keeps no owner record: the
    heartbeat must learn that, or the node it reported would never be stored."""
    _started(store, "r")
    on_a = {**WORKER, "node": "a"}
    answer = store.run_queue.beat_runs({"r": on_a, "not_yet": on_a}, T0 + 1)
    assert answer.found == {"r"} and answer.canceling == []


def test_beat_stamps_more_runs_than_one_statement_holds(store: MetadataStore) -> None:
    ids = [f"r{i}" for i in range(150)]
    _queue(store, *ids)
    store.run_queue.claim(ids, now=T0, worker=WORKER)
    store.run_queue.cancel("r140", now=T0)
    assert store.run_queue.beat(dict.fromkeys(ids), now=T0 + 5) == ["r140"]
    assert {r.heartbeat for r in store.run_queue.active_runs()} == {T0 + 5}


def test_beating_runs_are_the_active_runs_with_a_heartbeat(store: MetadataStore) -> None:
    """A run that never beat was executed before runs recorded their owner: not judged."""
    _started(store, "old", heartbeat=T0)
    _started(store, "fresh", heartbeat=T0 + 100)
    store.create_run(RunRecord("never-beat", "assets:a", status=RunStatus.STARTED, create_time=T0))
    _queue(store, "queued")
    store.create_run(RunRecord("done", "assets:a", status=RunStatus.SUCCESS, create_time=T0))
    assert [r.run_id for r in store.run_queue.beating_runs()] == ["old", "fresh"]


def test_fail_stale_run_fails_running_attempts_and_the_run(store: MetadataStore) -> None:
    _started(store, "r", heartbeat=T0)
    store.store_events(
        [
            EventRecord("r", EventType.STEP_SUCCESS, node="a", attempt=0, timestamp=T0 + 1),
            EventRecord("r", EventType.STEP_START, node="b", attempt=0, timestamp=T0 + 2),
        ]
    )
    assert store.slots.claim("db", 2, "r", "b", now=T0 + 2)
    assert store.run_queue.fail_stale_run("r", before=T0 + 50, message="worker lost", now=T0 + 60)

    run = store.get_run("r")
    assert run is not None and run.status is RunStatus.FAILURE and run.end_time == T0 + 60
    assert store.get_node_outcomes("r") == {"a": NodeStatus.SUCCESS, "b": NodeStatus.FAILED}
    attempt = store.get_attempts("r", "b")[0]
    assert attempt.error == "worker lost" and attempt.end_time == T0 + 60
    last = store.get_events("r")[-2:]
    assert [(e.event_type, e.node, e.message, e.level) for e in last] == [
        (EventType.STEP_FAILURE, "b", "worker lost", "ERROR"),
        (EventType.RUN_FAILURE, None, "worker lost", "ERROR"),
    ]
    assert store.slots.usage() == {"db": 0}
    assert store.run_queue.beating_runs() == []


def test_fail_stale_run_leaves_a_run_that_beat_again_or_ended(store: MetadataStore) -> None:
    _started(store, "revived", heartbeat=T0)
    store.run_queue.beat({"revived": None}, now=T0 + 70)
    assert not store.run_queue.fail_stale_run("revived", before=T0 + 50, message="lost", now=T0 + 80)
    assert _status(store, "revived") is RunStatus.STARTED

    _started(store, "ended", heartbeat=T0)
    store.store_events([EventRecord("ended", EventType.RUN_SUCCESS, timestamp=T0 + 1)])
    assert not store.run_queue.fail_stale_run("ended", before=T0 + 50, message="lost", now=T0 + 80)
    assert _status(store, "ended") is RunStatus.SUCCESS
    assert not store.run_queue.fail_stale_run("missing", before=T0 + 50, message="lost", now=T0 + 80)


def test_fail_stale_run_judged_by_its_owner_leaves_a_run_another_process_took_over(
    store: MetadataStore,
) -> None:
    """The owner a run was judged dead by must still own it (a cleared DAG run has a new one)."""
    _started(store, "r", heartbeat=T0)
    store.run_queue.beat({"r": {"host": "box-1", "pid": 777, "node": "b"}}, now=T0)
    dead = float("inf")
    assert not store.run_queue.fail_stale_run("r", dead, "lost", now=T0 + 1, owner=WORKER)
    assert _status(store, "r") is RunStatus.STARTED
    judged = {"host": "box-1", "pid": 777, "node": "a"}  # the node it was on does not matter
    assert store.run_queue.fail_stale_run("r", dead, "lost", now=T0 + 1, owner=judged)
    assert _status(store, "r") is RunStatus.FAILURE


def test_fail_stale_run_fails_a_claimed_run_whose_worker_never_started(store: MetadataStore) -> None:
    _queue(store, "r")
    store.run_queue.claim(["r"], now=T0)
    assert store.run_queue.fail_stale_run("r", before=T0 + 1, message="worker never started", now=T0 + 5)
    assert _status(store, "r") is RunStatus.FAILURE
    assert store.get_attempts("r") == []


def test_cancel_of_a_queued_run_ends_it_at_once(store: MetadataStore) -> None:
    _queue(store, "r")
    assert store.run_queue.cancel("r", now=T0 + 3) is RunStatus.CANCELED
    run = store.get_run("r")
    assert run is not None and run.status is RunStatus.CANCELED and run.end_time == T0 + 3
    assert [e.event_type for e in store.get_events("r")] == [EventType.RUN_CANCELED]
    assert store.run_queue.claim(["r"], now=T0 + 4) == []


def test_cancel_of_a_claimed_or_started_run_asks_its_worker(store: MetadataStore) -> None:
    _queue(store, "claimed")
    store.run_queue.claim(["claimed"], now=T0)
    _started(store, "started")
    assert store.run_queue.cancel("claimed", now=T0 + 1) is RunStatus.CANCELING
    assert store.run_queue.cancel("started", now=T0 + 1) is RunStatus.CANCELING
    assert store.run_queue.cancel("started", now=T0 + 2) is RunStatus.CANCELING
    assert _status(store, "started") is RunStatus.CANCELING
    assert {r.run_id for r in store.run_queue.active_runs()} == {"claimed", "started"}


def test_cancel_leaves_a_finished_run_and_ignores_unknown_ones(store: MetadataStore) -> None:
    store.create_run(RunRecord("done", "assets:a", status=RunStatus.FAILURE, create_time=T0, end_time=T0))
    assert store.run_queue.cancel("done", now=T0 + 1) is RunStatus.FAILURE
    assert store.get_events("done") == []
    assert store.run_queue.cancel("missing", now=T0) is None


def test_fail_stale_run_fails_the_partitions_its_dead_attempt_had_in_progress(store: MetadataStore) -> None:
    from deras import DailyPartitionsDefinition
    from deras._core.status import PartitionState

    days = DailyPartitionsDefinition("2025-01-01", end_date="2025-01-10")
    span = days.to_span(["2025-01-02", "2025-01-03"]).to_json()
    _started(store, "r", heartbeat=T0)
    store.store_events(
        [
            EventRecord(
                "r",
                EventType.MATERIALIZATION_PLANNED,
                node="a",
                attempt=0,
                timestamp=T0 + 1,
                data={"asset_key": "a", "partitions": span},
            )
        ]
    )
    assert len(store.get_partition_status("a")[1][PartitionState.IN_PROGRESS]) == 2
    assert store.run_queue.fail_stale_run("r", before=T0 + 50, message="worker lost", now=T0 + 60)
    _, ranges = store.get_partition_status("a")
    assert len(ranges[PartitionState.IN_PROGRESS]) == 0
    assert len(ranges[PartitionState.FAILED]) == 2


def test_a_launched_run_is_taken_by_one_worker_only(store: MetadataStore) -> None:
    _queue(store, "r")
    assert store.run_queue.claim(["r"], now=T0) == ["r"]
    assert store.run_queue.take("r", now=T0 + 1, worker=WORKER)
    assert not store.run_queue.take("r", now=T0 + 2, worker={"host": "other", "pid": 1})
    run = store.get_run("r")
    assert run is not None and run.worker == WORKER and run.heartbeat == T0 + 1


def test_runs_claimed_but_never_taken_go_back_to_the_queue(store: MetadataStore) -> None:
    _queue(store, "lost", "taken", "fresh")
    assert store.run_queue.claim(["lost", "taken"], now=T0) == ["lost", "taken"]
    assert store.run_queue.take("taken", now=T0, worker=WORKER)
    assert store.run_queue.claim(["fresh"], now=T0 + 100) == ["fresh"]
    assert store.run_queue.requeue_untaken(before=T0 + 50) == ["lost"]
    statuses = {r: store.get_run(r).status for r in ("lost", "taken", "fresh")}  # type: ignore[union-attr]
    assert statuses == {"lost": RunStatus.QUEUED, "taken": RunStatus.STARTING, "fresh": RunStatus.STARTING}
    assert not store.run_queue.take("lost", now=T0 + 60, worker=WORKER)  # a late worker may not
    assert store.run_queue.claim(["lost"], now=T0 + 60) == ["lost"]  # it is launched again
