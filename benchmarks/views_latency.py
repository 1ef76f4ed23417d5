"""p95 latency of each read-model view over a store seeded by ``seed_store.py``.

    PYTHONPATH=src python benchmarks/seed_store.py /tmp/big.db
    PYTHONPATH=src python benchmarks/views_latency.py /tmp/big.db

Each view is called ``--calls`` times (after two warm-up calls) per round; a round's figure is
the 95th percentile of its calls, and the table gives the median over ``--rounds`` rounds (and
the median call). Targets (issue 10): every list and detail ≤ 100 ms; the 5,000-task x 25-run
DAG grid ≤ 1 s.

The snapshot of the seeded code location is built here as plain objects with the fields of
``deras._snapshot`` (10,000 assets, 2,000 checks, the 5,000-task DAG): what the web passes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from deras._instance.instance import DerasInstance
from deras._instance.settings import Settings
from deras._instance.views import list_runs, run_detail, run_events, run_logs
from deras._instance.views.asset_states import asset_states
from deras._instance.views.assets import asset_detail, list_assets
from deras._instance.views.backfills import backfill_detail, list_backfills
from deras._instance.views.dags import dag_grid, list_dags
from deras._instance.views.health import daemon_health
from deras._instance.views.instigators import list_schedules, list_sensors, tick_history
from deras._instance.views.metrics import metrics
from deras._instance.views.overview import overview
from seed_store import BIG_DAG, asset_key, seed_backfill, task_id


def seeded_snapshot(assets: int, tasks: int) -> Any:
    """What ``deras._snapshot.snapshot_of`` would give for the seeded code location."""
    asset_snaps = [
        SimpleNamespace(
            key=asset_key(i), group=f"group_{i % 50}", kinds=[], description=None, partitions=None
        )
        for i in range(assets)
    ]
    checks = [SimpleNamespace(asset_key=asset_key(i), name="not_empty") for i in range(0, assets, 5)]
    dag = SimpleNamespace(
        dag_id=BIG_DAG,
        tasks=[SimpleNamespace(task_id=task_id(t)) for t in range(tasks)],
        schedule="@daily",
        schedule_kind="cron",
        timezone="UTC",
        tags=[],
        file="big.py",
        description=None,
        start_date=None,
        end_date=None,
    )
    schedules = [
        SimpleNamespace(
            name=f"schedule_{i}",
            cron="0 2 * * *",
            timezone="Europe/Berlin",
            target=f"job_{i}",
            default_status="running",
            description=None,
        )
        for i in range(20)
    ]
    sensors = [
        SimpleNamespace(
            name=f"sensor_{i}",
            kind="sensor",
            minimum_interval=30.0,
            target=f"job_{i}",
            default_status="running",
            description=None,
        )
        for i in range(10)
    ]
    return SimpleNamespace(
        assets=asset_snaps, checks=checks, dags=[dag], schedules=schedules, sensors=sensors
    )


def views(instance: DerasInstance, snapshot: Any) -> dict[str, Callable[[], object]]:
    first = list_runs(instance, limit=50)
    deep = first
    for _ in range(100):  # page 101: a cursor 5,000 runs deep
        deep = list_runs(instance, limit=50, cursor=deep.next_cursor)
    asset_run = first.items[-1].run_id
    grid = dag_grid(instance, snapshot, BIG_DAG)
    dag_run = grid.runs[0].run_id
    assets_deep = list_assets(instance, snapshot)
    for _ in range(49):  # page 50: 4,900 assets deep
        assets_deep = list_assets(instance, snapshot, cursor=assets_deep.next_cursor)
    seed_backfill(instance.store)  # stores seeded before it had a backfill record
    backfill = list_backfills(instance, limit=1).items[0].backfill_id
    return {
        "list_runs (first page of 50)": lambda: list_runs(instance, limit=50),
        "list_runs (page 101)": lambda: list_runs(instance, limit=50, cursor=deep.next_cursor),
        "list_runs status=failure": lambda: list_runs(instance, status="failure", limit=50),
        "list_runs target=job:job_5": lambda: list_runs(instance, target="job:job_5", limit=50),
        "list_runs tag team=team_2": lambda: list_runs(instance, tags={"team": "team_2"}, limit=50),
        "list_runs dag_id=big": lambda: list_runs(instance, dag_id=BIG_DAG, limit=50),
        "run_detail (asset run)": lambda: run_detail(instance, asset_run),
        "run_events (asset run)": lambda: run_events(instance, asset_run),
        "run_logs (asset run)": lambda: run_logs(instance, asset_run),
        "run_detail (5,000-task DAG run, every step: the CLI)": lambda: run_detail(instance, dag_run),
        "run_detail (5,000-task DAG run, steps_limit=500: the web)": lambda: run_detail(
            instance, dag_run, snapshot, steps_limit=500
        ),
        "list_assets (first page of 100 of 10,000)": lambda: list_assets(instance, snapshot),
        "list_assets (page 50)": lambda: list_assets(instance, snapshot, cursor=assets_deep.next_cursor),
        "list_assets search=group_7": lambda: list_assets(instance, snapshot, search="group_7"),
        "asset_states (10,000: the lineage's colours)": lambda: asset_states(instance, snapshot),
        "asset_detail": lambda: asset_detail(instance, snapshot, asset_key(15)),
        "list_dags": lambda: list_dags(instance, snapshot),
        "dag_grid (5,000 tasks x 25 runs)": lambda: dag_grid(instance, snapshot, BIG_DAG),
        "list_schedules (20 + the DAG)": lambda: list_schedules(instance, snapshot),
        "list_sensors (10)": lambda: list_sensors(instance, snapshot),
        "tick_history": lambda: tick_history(instance, "schedule:schedule_0"),
        "list_backfills": lambda: list_backfills(instance),
        "backfill_detail (100 partitions)": lambda: backfill_detail(instance, backfill),
        "daemon_health": lambda: daemon_health(instance),
        "overview": lambda: overview(instance, snapshot),
        "metrics": lambda: metrics(instance, snapshot),
    }


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="the seeded SQLite file or database URL")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=5_000)
    parser.add_argument("--only", default=None, help="measure only the views whose name contains this")
    args = parser.parse_args(argv)
    url = args.target if "://" in args.target else f"sqlite:///{args.target}"
    home = Path(tempfile.mkdtemp(prefix="deras-views-"))
    instance = DerasInstance(Settings(home, url))
    snapshot = seeded_snapshot(args.assets, args.tasks)
    try:
        measured = views(instance, snapshot)
        print(f"| view ({url.split('://')[0]}) | p95, median of {args.rounds} rounds | median call |")
        print("|---|---|---|")
        for name, call in measured.items():
            if args.only and args.only not in name:
                continue
            rounds, calls = [], []
            for _ in range(args.rounds):
                call()
                call()
                samples = []
                for _ in range(args.calls):
                    started = time.perf_counter()
                    call()
                    samples.append(time.perf_counter() - started)
                rounds.append(p95(samples))
                calls.extend(samples)
            p95_ms, median_ms = statistics.median(rounds) * 1000, statistics.median(calls) * 1000
            print(f"| {name} | {p95_ms:.1f} ms | {median_ms:.1f} ms |")
    finally:
        instance.dispose()


if __name__ == "__main__":
    main()
