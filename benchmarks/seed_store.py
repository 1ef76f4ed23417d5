"""Seed a metadata store with a big history, for the read model's and the web's benchmarks.

    PYTHONPATH=src python benchmarks/seed_store.py /tmp/big.db
    PYTHONPATH=src python benchmarks/seed_store.py postgresql+psycopg://postgres@127.0.0.1/bench

What it writes (the store must be new or empty):

- 100,000 runs over 100 days: asset runs, 20 jobs, 1% still queued or started, 10% failed,
  tags ``team`` (4 values) and ``env``; a 100-run backfill;
- 10,000 assets (``group_<i % 50>/asset_<i>``), 3 materializations each with numeric
  metadata, and 2,000 of them with a check (every tenth result failing);
- the DAG ``big`` with 5,000 tasks and 25 runs (one logical date a day), every task
  instance's attempt (the last run's tenth tasks failed and their downstream upstream_failed).

Rows go in through the store's own bulk paths (``create_runs``, ``store_events``); the DAG's
attempts, which a real run would derive from 250,000 step events, are inserted as rows.
``--scale`` shrinks everything (0.01 for a quick try). Prints what it wrote and how long it took.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from deras._core.events import EventRecord, EventType
from deras._core.new_runs import new_run
from deras._core.records import RunTarget
from deras._core.status import RunStatus
from deras._storage import MetadataStore
from deras._storage.schema import attempts

START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
DAY = 86_400.0
BATCH = 10_000
BIG_DAG = "big"


def asset_key(i: int) -> str:
    return f"group_{i % 50}/asset_{i}"


def task_id(i: int) -> str:
    return f"task_{i:04d}"


def seed(url: str, *, runs: int, assets: int, tasks: int, dag_runs: int) -> dict[str, float]:
    store = MetadataStore(url)
    took: dict[str, float] = {}
    rng = random.Random(7)
    try:
        started = time.perf_counter()
        run_ids = _runs(store, runs, rng)
        took["runs"] = time.perf_counter() - started
        started = time.perf_counter()
        _assets(store, assets, run_ids, rng)
        took["assets"] = time.perf_counter() - started
        started = time.perf_counter()
        _dag(store, tasks, dag_runs)
        took["dag"] = time.perf_counter() - started
        seed_backfill(store)
    finally:
        store.dispose()
    return took


def _runs(store: MetadataStore, n: int, rng: random.Random) -> list[str]:
    ids: list[str] = []
    batch: list[Any] = []
    for i in range(n):
        created = START + i * (100 * DAY / max(n, 1))
        roll = rng.random()
        target = RunTarget.job(f"job_{i % 20}") if i % 5 == 0 else RunTarget.assets()
        run = new_run(
            target,
            selection=[asset_key(i % 10_000)],
            label=None if i % 5 == 0 else f"assets:{asset_key(i % 10_000)}",
            status=RunStatus.QUEUED,
            tags={"team": f"team_{i % 4}", "env": "prod" if i % 3 else "dev"},
            backfill_id="bf_seed" if n - 100 <= i < n else None,
            create_time=created,
        )
        # Statuses and times as a finished history has them; the newest 1% still going.
        if i >= n - n // 100:
            run.status = RunStatus.STARTED if roll < 0.5 else RunStatus.QUEUED
        else:
            run.status = RunStatus.FAILURE if roll < 0.1 else RunStatus.SUCCESS
            run.end_time = created + 5 + roll * 60
        if run.status is not RunStatus.QUEUED:
            run.start_time = created + 1
        batch.append(run)
        ids.append(run.run_id)
        if len(batch) == BATCH:
            store.create_runs(batch)
            batch = []
    store.create_runs(batch)
    return ids


def seed_backfill(store: MetadataStore) -> None:
    """The backfill record of the ``bf_seed`` runs: a unit per run, in the run's status."""
    from deras._core.records import BackfillRecord, BackfillUnit
    from deras._core.status import BackfillStatus, UnitStatus

    if store.backfills.get_backfill("bf_seed") is not None:
        return
    runs = sorted(store.get_runs(backfill_id="bf_seed"), key=lambda r: r.create_time)
    keys = [f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(len(runs))]
    words = {RunStatus.SUCCESS: UnitStatus.SUCCESS, RunStatus.FAILURE: UnitStatus.FAILURE}
    units = [
        BackfillUnit("bf_seed", 0, key, None, i, words.get(run.status, UnitStatus.QUEUED), run.run_id)
        for i, (key, run) in enumerate(zip(keys, runs, strict=True))
    ]
    record = BackfillRecord(
        backfill_id="bf_seed",
        status=BackfillStatus.REQUESTED,
        target={"kind": "job", "name": "job_0", "partitions": {"keys": keys}},
        num_units=len(units),
        create_time=runs[0].create_time if runs else START,
    )
    store.backfills.create_backfill(record, units)


def _assets(store: MetadataStore, n: int, run_ids: list[str], rng: random.Random) -> None:
    events: list[EventRecord] = []
    for round_ in range(3):
        for i in range(n):
            run_id = run_ids[(i * 3 + round_) % len(run_ids)]
            stamp = START + round_ * DAY + i
            events.append(
                EventRecord(
                    run_id,
                    EventType.ASSET_MATERIALIZATION,
                    node=asset_key(i),
                    timestamp=stamp,
                    data={
                        "asset_key": asset_key(i),
                        "metadata": {"rows": rng.randint(0, 10_000), "source": "seed"},
                    },
                )
            )
            if i % 5 == 0:
                events.append(
                    EventRecord(
                        run_id,
                        EventType.ASSET_CHECK_EVALUATION,
                        node=f"{asset_key(i)}:not_empty",
                        timestamp=stamp,
                        data={
                            "asset_key": asset_key(i),
                            "check_name": "not_empty",
                            "passed": (i // 5) % 10 != 0,
                            "severity": "ERROR",
                        },
                    )
                )
            if len(events) >= BATCH:
                store.store_events(events)
                events = []
    store.store_events(events)


def _dag(store: MetadataStore, tasks: int, n_runs: int) -> None:
    first = datetime(2026, 3, 1, tzinfo=UTC)
    runs = []
    for d in range(n_runs):
        logical = first + timedelta(days=d)
        run = new_run(
            RunTarget.dag(BIG_DAG),
            selection=[f"{BIG_DAG}.{task_id(t)}" for t in range(3)],  # a stand-in: the grid reads attempts
            logical_date=logical,
            run_type="scheduled",
            create_time=logical.timestamp() + DAY,
        )
        run.status = RunStatus.FAILURE if d == n_runs - 1 else RunStatus.SUCCESS
        run.start_time = logical.timestamp() + DAY
        run.end_time = run.start_time + 600
        runs.append(run)
    store.create_runs(runs)
    last = runs[-1].run_id
    rows: list[dict[str, Any]] = []
    for run in runs:
        for t in range(tasks):
            status = "success"
            if run.run_id == last and t % 10 == 0:
                status = "failed"
            elif run.run_id == last and t % 10 == 1:
                status = "upstream_failed"
            begin = (run.start_time or 0) + t * 0.1
            rows.append(
                {
                    "run_id": run.run_id,
                    "node": f"{BIG_DAG}.{task_id(t)}",
                    "attempt": 0,
                    "status": status,
                    "start_time": None if status == "upstream_failed" else begin,
                    "end_time": begin + 0.05,
                    "error": "boom" if status == "failed" else None,
                }
            )
    insert = sa.insert(attempts)
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        # As the event store would have derived them from the runs' step events.
        store._db.transact(lambda tx, chunk=chunk: tx.executemany(insert, chunk))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="a SQLite file path or a database URL")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count (0.01: quick)")
    args = parser.parse_args(argv)
    url = args.target if "://" in args.target else f"sqlite:///{args.target}"
    counts = {
        "runs": max(1, int(100_000 * args.scale)),
        "assets": max(1, int(10_000 * args.scale)),
        "tasks": max(1, int(5_000 * args.scale)),
        "dag_runs": 25,
    }
    took = seed(url, **counts)
    print(f"seeded {url}: {counts}", file=sys.stderr)
    for what, seconds in took.items():
        print(f"  {what}: {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
