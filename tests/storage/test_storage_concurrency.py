"""Several writers at once: nothing lost, no "database is locked"."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from typing import Any

import pytest

from deras._core.events import EventRecord, EventType, PartitionSpan
from deras._core.records import RunRecord
from deras._core.status import NodeStatus, PartitionState
from deras._storage import MetadataStore

BATCHES = 200
ASSET = "shared/daily"


def _write_batches(url: str, worker: int, batches: int, barrier: Any, results: Any) -> None:
    """Child process (or thread): store ``batches`` node transitions of its own run."""
    try:
        store = MetadataStore(url)
        run_id = f"run-{worker}"
        try:
            store.create_run(RunRecord(run_id, "assets:*"), [EventRecord(run_id, EventType.RUN_START)])
            barrier.wait(timeout=60)
            for i in range(batches):
                node = f"node-{i}"
                # Interleaved partitions: worker 0 takes even indices, worker 1 odd ones, so that
                # every write of the shared asset's status must see the other's previous write.
                index = 2 * i + worker
                span = PartitionSpan("daily", [(index, index + 1)]).to_json()
                store.store_events(
                    [
                        EventRecord(run_id, EventType.STEP_START, node=node, attempt=0),
                        EventRecord(run_id, EventType.LOG, node=node, message=f"{worker}:{i}"),
                        EventRecord(
                            run_id,
                            EventType.ASSET_MATERIALIZATION,
                            node=node,
                            data={"asset_key": ASSET, "partition": str(index), "partitions": span},
                        ),
                        EventRecord(run_id, EventType.STEP_SUCCESS, node=node, attempt=0),
                    ]
                )
            store.store_events([EventRecord(run_id, EventType.RUN_SUCCESS)])
        finally:
            store.dispose()
        results.put((worker, None))
    except BaseException:
        results.put((worker, traceback.format_exc()))


def _open_store(url: str, worker: int, barrier: Any, results: Any) -> None:
    """Child process: open (and so create) the store at the same moment as the others."""
    try:
        barrier.wait(timeout=60)
        store = MetadataStore(url)
        try:
            store.create_run(RunRecord(f"run-{worker}", "assets:*"))
        finally:
            store.dispose()
        results.put((worker, None))
    except BaseException:
        results.put((worker, traceback.format_exc()))


def _assert_nothing_lost(store: MetadataStore, workers: int, batches: int) -> None:
    for worker in range(workers):
        run_id = f"run-{worker}"
        events = store.get_events(run_id)
        assert len(events) == 2 + 4 * batches
        assert [e.message for e in events if e.event_type is EventType.LOG] == [
            f"{worker}:{i}" for i in range(batches)
        ]
        outcomes = store.get_node_outcomes(run_id)
        assert len(outcomes) == batches and set(outcomes.values()) == {NodeStatus.SUCCESS}
    assert len(store.get_materializations(ASSET)) == workers * batches
    def_id, status = store.get_partition_status(ASSET)
    assert def_id == "daily"
    assert status[PartitionState.MATERIALIZED].ranges == [(0, workers * batches)]


@pytest.mark.slow
def test_two_processes_writing_at_once_lose_nothing(store: MetadataStore) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(target=_write_batches, args=(store.url, worker, BATCHES, barrier, results))
        for worker in range(2)
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=100) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert outcomes == {0: None, 1: None}, "\n".join(tb for tb in outcomes.values() if tb)
    assert [p.exitcode for p in processes] == [0, 0]
    _assert_nothing_lost(store, workers=2, batches=BATCHES)


def test_concurrent_partition_status_writers_lose_no_ranges(store: MetadataStore) -> None:
    """Two connections updating one asset's status at once (row locks on Postgres)."""
    import queue

    barrier = threading.Barrier(2)
    results: queue.Queue[tuple[int, str | None]] = queue.Queue()
    threads = [
        threading.Thread(target=_write_batches, args=(store.url, worker, 100, barrier, results))
        for worker in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=100)
    outcomes = dict(results.get_nowait() for _ in threads)
    assert outcomes == {0: None, 1: None}, "\n".join(tb for tb in outcomes.values() if tb)
    _assert_nothing_lost(store, workers=2, batches=100)


@pytest.mark.slow
def test_processes_opening_a_new_database_together_create_the_schema_once(empty_db_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    results = context.Queue()
    processes = [
        context.Process(target=_open_store, args=(empty_db_url, worker, barrier, results))
        for worker in range(3)
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=100) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert outcomes == {0: None, 1: None, 2: None}, "\n".join(tb for tb in outcomes.values() if tb)
    store = MetadataStore(empty_db_url)
    try:
        assert sorted(r.run_id for r in store.get_runs()) == ["run-0", "run-1", "run-2"]
    finally:
        store.dispose()
