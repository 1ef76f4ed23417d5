"""Run the BENCHMARKS.md workloads in fresh processes and print a table of medians.

python benchmarks/run.py            # all workloads, 5 runs each after 1 warm-up
python benchmarks/run.py -k chain   # only those whose name contains "chain"
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    parser.add_argument("-n", type=int, default=5, help="measured runs per case")
    args = parser.parse_args()
    print(
        f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print()
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
