"""Micro-benchmark of the metadata store's hot path.

Prints µs per call of ``store_events`` (the write of every node transition) and of
``get_partition_status`` on an asset with 1,000,000 partitions in 1,000 fragmented ranges.

    PYTHONPATH=src python benchmarks/storage_micro.py                # SQLite file (WAL) in a temp dir
    PYTHONPATH=src python benchmarks/storage_micro.py --url postgresql+psycopg://postgres@127.0.0.1/bench

Targets (SQLite file): store_events of 3 events without partitions <= 150 µs;
get_partition_status with 1,000,000 partitions <= 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from deras._core.events import EventRecord, EventType, PartitionSpan
from deras._core.records import RunRecord
from deras._storage import MetadataStore

RUN_ID = "bench-run"


def _time_per_call(fn: Callable[[int], object], calls: int, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean µs per call of ``fn(i)`` over ``calls`` calls."""
    results = []
    counter = 0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn(counter)
            counter += 1
        results.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(results)


def bench_store_events(store: MetadataStore, calls: int) -> dict[str, float]:
    store.create_run(RunRecord(RUN_ID, "assets:bench"), [EventRecord(RUN_ID, EventType.RUN_START)])

    def step(i: int) -> None:
        node = f"node_{i}"
        store.store_events(
            [
                EventRecord(RUN_ID, EventType.STEP_START, node=node, attempt=0),
                EventRecord(RUN_ID, EventType.LOG, node=node, message="computing", level="info"),
                EventRecord(RUN_ID, EventType.STEP_SUCCESS, node=node, attempt=0),
            ]
        )

    def step_with_materialization(i: int) -> None:
        node = f"asset_{i}"
        store.store_events(
            [
                EventRecord(RUN_ID, EventType.STEP_START, node=node, attempt=0),
                EventRecord(
                    RUN_ID,
                    EventType.ASSET_MATERIALIZATION,
                    node=node,
                    data={"asset_key": node, "metadata": {"rows": i}},
                ),
                EventRecord(RUN_ID, EventType.STEP_SUCCESS, node=node, attempt=0),
            ]
        )

    def partitioned_step(i: int) -> None:
        node = "daily"
        span = PartitionSpan("daily-2000", [(i, i + 1)]).to_json()
        store.store_events(
            [
                EventRecord(RUN_ID, EventType.STEP_START, node=node, attempt=i),
                EventRecord(
                    RUN_ID,
                    EventType.ASSET_MATERIALIZATION,
                    node=node,
                    data={"asset_key": "daily", "partition": str(i), "partitions": span},
                ),
                EventRecord(RUN_ID, EventType.STEP_SUCCESS, node=node, attempt=i),
            ]
        )

    return {
        "store_events: 3 events (start, log, success)": _time_per_call(step, calls),
        "store_events: 3 events (start, materialization, success)": _time_per_call(
            step_with_materialization, calls
        ),
        "store_events: 3 events with a partitioned materialization": _time_per_call(partitioned_step, calls),
    }


def bench_partition_status(store: MetadataStore, calls: int) -> dict[str, float]:
    # 1,000 ranges of 1,000 partitions with gaps between them: 1,000,000 materialized
    # partitions, plus failed and in-progress ranges in the gaps.
    materialized = [(i * 2000, i * 2000 + 1000) for i in range(1000)]
    failed = [(i * 2000 + 1000, i * 2000 + 1500) for i in range(1000)]
    in_progress = [(i * 2000 + 1500, i * 2000 + 1600) for i in range(1000)]
    events = [
        EventRecord(
            RUN_ID,
            kind,
            data={"asset_key": "big", "partitions": PartitionSpan("daily-big", ranges).to_json()},
        )
        for kind, ranges in (
            (EventType.ASSET_MATERIALIZATION, materialized),
            (EventType.ASSET_FAILED, failed),
            (EventType.MATERIALIZATION_PLANNED, in_progress),
        )
    ]
    store.store_events(events)
    def_id, status = store.get_partition_status("big")
    counts = {str(state): len(ranges) for state, ranges in status.items()}
    assert def_id == "daily-big" and counts["materialized"] == 1_000_000, counts

    def one_more(i: int) -> None:
        # A partition materialized into the fragmented asset: read-modify-write of its ranges.
        gap = 1600 + i % 400
        span = PartitionSpan("daily-big", [(gap + (i // 400) * 2000, gap + (i // 400) * 2000 + 1)])
        store.store_events(
            [
                EventRecord(
                    RUN_ID,
                    EventType.ASSET_MATERIALIZATION,
                    data={"asset_key": "big", "partitions": span.to_json()},
                )
            ]
        )

    return {
        "get_partition_status: 1,000,000 partitions in 1,000 ranges": _time_per_call(
            lambda _i: store.get_partition_status("big"), calls
        ),
        "store_events: 1 partition into that fragmented asset": _time_per_call(one_more, max(calls // 4, 10)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="database URL (default: a new SQLite file in a temp dir)")
    parser.add_argument("--calls", type=int, default=2000, help="store_events calls per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'deras.db'}"
        store = MetadataStore(url)
        try:
            results = bench_store_events(store, args.calls)
            results.update(bench_partition_status(store, max(args.calls // 10, 20)))
        finally:
            store.dispose()
    print(f"metadata store micro-benchmark on {url.split('://')[0]}")
    for name, micros in results.items():
        print(f"  {micros:9.1f} µs/call  {name}")


if __name__ == "__main__":
    main()
