"""Run the BENCHMARKS.md workloads in fresh processes and print a table of medians.

python benchmarks/run.py            # all workloads, 5 runs each after 1 warm-up
python benchmarks/run.py -k chain   # only those whose name contains "chain"
python benchmarks/run.py daemon     # the daemon's workloads (benchmarks/daemon_workloads.py)
python benchmarks/run.py daemon --postgres -k backfill   # also on a fresh local Postgres database
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "workloads.py"

# name, workload, size, target seconds, anchors (from BENCHMARKS.md)
CASES = [
    ("W0 import deras", "import", 0, 0.10, "Luigi 0.15 · Prefect 1.36 · Dagster 0.85 · Airflow 1.53"),
    ("W1 chain-100", "chain", 100, None, "Luigi 0.24 · Prefect 9.45 · Dagster 4.19 · Airflow 18.1"),
    ("W1 chain-1000", "chain", 1000, 0.5, "Luigi 2.66 · Prefect 13.0 · Dagster 21.5 · Airflow ≈100"),
    ("W2 fan-100", "fan", 100, None, "Luigi 0.30 · Prefect 9.25 · Dagster 3.88 · Airflow 14.6"),
    ("W2 fan-1000", "fan", 1000, 0.5, "Luigi 3.16 · Prefect 16.3 · Dagster 22.8"),
    ("W3 load-10k", "load", 10000, 0.7, "Luigi 3.14 · Dagster 18.9 · Airflow 11.0"),
    (
        "W1 DAG chain-1000 (TaskFlow)",
        "dag_chain",
        1000,
        0.5,
        "Luigi 2.66 · Airflow dag.test() ≈100 (18.1 at 100)",
    ),
    ("W2 DAG fan-1000 (TaskFlow)", "dag_fan", 1000, 0.5, "Luigi 3.16 · Airflow 14.6 at 100"),
    ("W3 DAG load-10k (tasks)", "dag_load", 10000, 0.7, "Luigi 3.14 · Airflow 11.0"),
    ("W4 365 partitions, 365 runs", "backfill", 365, 0.6, "Luigi 0.66 · Dagster 88.9 · Airflow 87.8"),
    ("W4 365 partitions, single run", "backfill_single", 365, None, "Dagster 7.5 (single-run)"),
    (
        "W5 parallel-16, 1 s each, multiprocess max_concurrent=8 (ideal 2 s)",
        "parallel",
        16,
        2.1,
        "Luigi 2.23 · Prefect 10.6 · Dagster 20.0 · Airflow 6.63",
    ),
    (
        "W1 chain-1000, multiprocess (2 workers)",
        "pool_chain",
        1000,
        None,
        "Dagster multiprocess 217 s at 100",
    ),
    ("W2 fan-1000, multiprocess (2 workers)", "pool_fan", 1000, None, ""),
]


def run_once(workload: str, size: int, home: str) -> tuple[float, float, str]:
    env = {**os.environ, "DERAS_HOME": home}
    env.pop("DERAS_DATABASE_URL", None)
    # Measure as an installed package runs: with bytecode cached (the warm-up writes it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(WORKLOADS), workload, str(size)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{workload} {size} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024, out


def measure(workload: str, size: int, repeats: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory(prefix="deras-bench-") as home:
        run_once(workload, size, home)  # warm-up: creates the persistent instance
        samples = [run_once(workload, size, home) for _ in range(repeats)]
    walls = [s[0] for s in samples]
    return statistics.median(walls), min(walls), max(s[1] for s in samples)


def partition_status(repeats: int) -> float:
    with tempfile.TemporaryDirectory(prefix="deras-bench-") as home:
        run_once("setup_partition_status", 1_000_000, home)
        values = []
        for _ in range(repeats):
            _, _, out = run_once("partition_status", 1_000_000, home)
            values.append(float(out.strip().split("=")[1]))
    return statistics.median(values)


# The daemon's workloads: name, daemon_workloads.py arguments, the measure and its unit,
# target (value, "max" or "min"), default runs, anchors (from the design's BENCHMARKS.md).
DAEMON_WORKLOADS = HERE / "daemon_workloads.py"
DAEMON_CASES: list[tuple[str, list[str], str, str, tuple[float, str] | None, int, str]] = [
    (
        "tick → first node, p95 (sensor every 1 s, warm pool, 25 ticks)",
        ["latency", "--ticks", "25"],
        "p95",
        "s",
        (0.5, "max"),
        3,
        "Airflow ~1.0 s trigger → first task; Dagster 30 s tick interval",
    ),
    ("tick → first node, p50", ["latency", "--ticks", "25"], "p50", "s", None, 3, ""),
    (
        "burst: 25 schedules due at the same minute, cron instant → first node, p95",
        ["burst", "--window", "8"],
        "p95",
        "s",
        (0.5, "max"),
        3,
        "",
    ),
    ("burst, p50", ["burst", "--window", "8"], "p50", "s", None, 3, ""),
    (
        "burst, daemon.interval_seconds=0.01, p95",
        ["burst", "--window", "8", "--set", "daemon.interval_seconds=0.01"],
        "p95",
        "s",
        None,
        3,
        "",
    ),
    (
        "backfill 10,000 hourly partitions: launch + one runner pass, all queued",
        ["backfill10k"],
        "total",
        "s",
        (2.0, "max"),
        5,
        "Dagster daemon ~1 run/s (≈2.8 h)",
    ),
    (
        "run queue dispatch, 2,000 queued, accepting launcher double",
        ["dispatch"],
        "runs_per_s",
        "runs/s",
        (200, "min"),
        5,
        "Dagster ~1 run/s (backfill daemon)",
    ),
    (
        "end-to-end, 200 one-asset runs through `deras daemon run` + warm pool (defaults)",
        ["dispatch_pool"],
        "runs_per_s",
        "runs/s",
        (200, "min"),
        3,
        "Airflow queued → running ~1.6 s",
    ),
    (
        "end-to-end, same, daemon.interval_seconds=0.01",
        ["dispatch_pool", "--set", "daemon.interval_seconds=0.01"],
        "runs_per_s",
        "runs/s",
        None,
        3,
        "",
    ),
    (
        "idle CPU, 100 schedules + 100 sensors, 60 s",
        ["idle"],
        "daemon_cpu_pct",
        "%",
        (2.0, "max"),
        3,
        "",
    ),
    ("idle CPU, nothing defined, 60 s", ["idle", "-n", "0"], "daemon_cpu_pct", "%", None, 2, ""),
    (
        "W4 via the daemon: 365 daily partitions, 365 runs (defaults)",
        ["w4"],
        "wall",
        "s",
        (3.0, "max"),
        3,
        "Dagster daemon ~2.2 s/partition; Airflow 87.8 s",
    ),
    (
        "W4 via the daemon, daemon.interval_seconds=0.01",
        ["w4", "--set", "daemon.interval_seconds=0.01"],
        "wall",
        "s",
        None,
        3,
        "",
    ),
    (
        "W4 via the daemon, single-run policy (1 run)",
        ["w4", "--single"],
        "wall",
        "s",
        (3.0, "max"),
        5,
        "Dagster 7.5 s single run (in-process)",
    ),
]
POSTGRES_CASES = ("backfill", "dispatch", "end-to-end, 200", "W4 via the daemon: 365", "single-run")


def daemon_once(arguments: list[str]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("DERAS_DATABASE_URL", "PYTHONDONTWRITEBYTECODE")}
    proc = subprocess.run(
        [sys.executable, str(DAEMON_WORKLOADS), *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"daemon_workloads.py {' '.join(arguments)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def daemon_suite(args: argparse.Namespace) -> None:
    print("| workload | db | deras median (min-max, runs) | target | anchors |")
    print("|---|---|---|---|---|")
    cache: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for name, arguments, key, unit, target, repeats, anchors in DAEMON_CASES:
        if args.k and args.k not in name and args.k not in arguments[0]:
            continue
        dbs = ["sqlite"] + (["postgres"] if args.postgres and any(p in name for p in POSTGRES_CASES) else [])
        for db in dbs:
            full = [*arguments, "--db", db]
            n = args.n if args.n_given else repeats
            if tuple(full) not in cache:
                cache[tuple(full)] = [daemon_once(full) for _ in range(n)]
            values = [r[key] for r in cache[tuple(full)]]
            median = statistics.median(values)
            if target is None:
                tgt, mark = "—", ""
            else:
                bound, kind = target
                ok = median <= bound if kind == "max" else median >= bound
                tgt, mark = f"{'≤' if kind == 'max' else '≥'} {bound:g} {unit}", " ✓" if ok else " ✗"
            spread = f"{_fmt(min(values))}-{_fmt(max(values))}, {len(values)}"
            print(
                f"| {name} | {db} | **{_fmt(median)} {unit}**{mark} ({spread}) | {tgt} | {anchors} |",
                flush=True,
            )
            if args.verbose:
                for r in cache[tuple(full)]:
                    print(f"<!-- {json.dumps(r)} -->")


def _fmt(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("suite", nargs="?", default="workloads", choices=("workloads", "daemon"))
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    parser.add_argument("-n", type=int, default=None, help="measured runs per case")
    parser.add_argument("--postgres", action="store_true", help="daemon: also on Postgres (fresh database)")
    parser.add_argument("-v", "--verbose", action="store_true", help="daemon: every run's measurements")
    args = parser.parse_args()
    args.n_given = args.n is not None
    args.n = 5 if args.n is None else args.n
    print(
        f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print()
    if args.suite == "daemon":
        daemon_suite(args)
        return
    print("| workload | deras median (min) | target | peak RSS | per node | anchors (s) |")
    print("|---|---|---|---|---|---|")
    for name, workload, size, target, anchors in CASES:
        if args.k and args.k not in name and args.k not in workload:
            continue
        median, best, rss = measure(workload, size, args.n)
        per = f"{median / (size + (2 if 'fan' in workload else 0)) * 1e3:.2f} ms" if size else "—"
        tgt = f"≤ {target} s" if target else "—"
        mark = "" if target is None else (" ✓" if median <= target else " ✗")
        print(
            f"| {name} | {median:.3f} s ({best:.3f}){mark} | {tgt} | {rss:.0f} MB | {per} | {anchors} |",
            flush=True,
        )
    if not args.k or args.k in "partition status":
        ms = partition_status(args.n)
        mark = " ✓" if ms <= 50 else " ✗"
        print(
            f"| partition status, 1,000,000 partitions | {ms:.2f} ms{mark} | ≤ 50 ms | — | — | "
            "Dagster advises ≤ 100k/asset |"
        )


if __name__ == "__main__":
    main()
