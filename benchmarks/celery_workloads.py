"""The Celery executor's costs: nodes per second and per-node latency, two real workers.

python benchmarks/celery_workloads.py [--broker redis://127.0.0.1:6379/0] [-n 3]

Starts two ``deras worker`` processes (concurrency 2 each) on a fresh Postgres database, then
times, from the coordinating process: fan-200 (200 independent trivial nodes: throughput) and
chain-50 (50 nodes in a line: the latency from one node's end to the next one's start, which
is what a step costs on Celery). Prints medians; the machine is noted by benchmarks/run.py's
conventions.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

CODE = """
import deras as dg

def fan_node(i):
    @dg.asset(name=f"f{i}", group_name="fan")
    def body() -> int:
        return i
    return body

def chain_node(i):
    deps = [f"c{i - 1}"] if i else []
    @dg.asset(name=f"c{i}", deps=deps, group_name="chain")
    def body() -> int:
        return i
    return body

defs = dg.Definitions(assets=[fan_node(i) for i in range(200)] + [chain_node(i) for i in range(50)])
"""

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("-n", type=int, default=3, help="measured runs per workload")
    args = parser.parse_args()
    import psycopg

    name = f"deras_bench_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="deras-celery-bench-") as tmp:
            code = Path(tmp) / "defs.py"
            code.write_text(textwrap.dedent(CODE))
            os.environ.update({"DERAS_HOME": str(Path(tmp) / "home"), "DERAS_DATABASE_URL": url})
            queue = f"bench-{secrets.token_hex(3)}"
            for i in range(2):
                log = (Path(tmp) / f"worker{i}.log").open("wb")
                command = [sys.executable, "-m", "deras", "worker", "-f", str(code), "--broker", args.broker]
                command += ["-Q", queue, "-c", "2", "--loglevel", "WARNING"]
                workers.append(
                    subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                )
            time.sleep(3)  # both workers connected and forked
            print(f"broker {args.broker.split('://')[0]} · 2 workers, concurrency 2 each · Postgres metadata")
            for label, group, nodes in (("fan-200", "fan", 200), ("chain-50", "chain", 50)):
                walls = [_run(code, group, args.broker, queue) for _ in range(args.n + 1)][1:]
                wall = statistics.median(walls)
                print(
                    f"{label}: {wall:.3f} s median of {args.n} (min {min(walls):.3f}) · "
                    f"{nodes / wall:.0f} nodes/s · {wall / nodes * 1e3:.1f} ms per node"
                )
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(code: Path, group: str, broker: str, queue: str) -> float:
    import deras as dg
    from deras._defs.loader import load_definitions
    from deras.celery import CeleryExecutor

    defs = load_definitions(file=str(code)).definitions
    executor = CeleryExecutor(broker, queue=queue)
    instance = dg.DerasInstance.get()
    started = time.perf_counter()
    result = dg.materialize(defs.assets, selection=f"group:{group}", instance=instance, executor=executor)
    wall = time.perf_counter() - started
    assert result.success
    return wall


if __name__ == "__main__":
    main()
