"""The daemon's benchmark workloads (issue 4 item 9), each run as
``python daemon_workloads.py NAME [--db sqlite|postgres] [--set key=value ...]``.

Each run makes a fresh persistent instance (a temporary ``$DERAS_HOME`` with SQLite in it, or
a fresh Postgres database ``deras_bench_*`` dropped afterwards) and prints one JSON line of
measurements on stdout. ``python benchmarks/run.py daemon`` runs them several times and
prints medians.

- ``latency``: a real ``deras daemon run`` (warm pool) with a sensor due every second whose
  every tick requests a run with a fresh run_key; for each tick, the time from the tick's
  scheduled instant (its slot) to the first node's STEP_START event.
- ``backfill10k``: ``instance.launch_backfill`` over 10,000 hourly partitions, then one
  ``BackfillRunner.tick`` until all 10,000 runs are queued (in-process, store already open).
- ``dispatch``: 2,000 queued runs, ``RunQueue.tick`` with a launcher double that accepts
  everything, until all are claimed and "launched".
- ``dispatch_pool``: 200 queued one-asset runs, a running ``deras daemon run`` with the warm
  pool executes them all: runs/s end to end.
- ``idle``: ``deras daemon run`` with 100 running schedules (``0 3 * * *``) and 100 running
  sensors (30 s, SkipReason): CPU of the daemon (and of its warm worker) over 60 s.
- ``w4``: W4 through the daemon's backfill path: the 365 daily partitions of 2025, launched
  while ``deras daemon run`` is up, until the backfill is completed (``--single`` for the
  single-run policy).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DAILY = HERE / "daily_asset.py"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

ONE_ASSET = """
import uuid
import deras as dg

@dg.asset
def one():
    return 1

one_job = dg.define_asset_job("one_job", selection=["one"])

@dg.sensor(job=one_job, minimum_interval_seconds=1, default_status=STATUS)
def every_second(context):
    return dg.RunRequest(run_key=uuid.uuid4().hex)

defs = dg.Definitions(assets=[one], jobs=[one_job], sensors=[every_second] if SENSOR else [])
"""

BURST = """
import deras as dg

@dg.asset
def one():
    return 1

one_job = dg.define_asset_job("one_job", selection=["one"])

def _schedule(i):
    @dg.schedule("* * * * *", job=one_job, name=f"every_minute_{i}",
                 default_status=dg.DefaultScheduleStatus.RUNNING)
    def every_minute(context):
        return dg.RunRequest()
    return every_minute

defs = dg.Definitions(assets=[one], jobs=[one_job], schedules=[_schedule(i) for i in range(COUNT)])
"""

HOURLY = """
import deras as dg

hours = dg.HourlyPartitionsDefinition(start_date="2024-01-01-00:00")

@dg.asset(partitions_def=hours)
def hourly(context):
    return 1

defs = dg.Definitions(assets=[hourly])
"""

IDLE = """
import deras as dg

@dg.asset
def one():
    return 1

one_job = dg.define_asset_job("one_job", selection=["one"])

def _schedule(i):
    @dg.schedule("0 3 * * *", job=one_job, name=f"nightly_{i}",
                 default_status=dg.DefaultScheduleStatus.RUNNING)
    def nightly(context):
        return dg.RunRequest()
    return nightly

def _sensor(i):
    @dg.sensor(job=one_job, name=f"watch_{i}", minimum_interval_seconds=30,
               default_status=dg.DefaultSensorStatus.RUNNING)
    def watch(context):
        return dg.SkipReason("nothing new")
    return watch

defs = dg.Definitions(assets=[one], jobs=[one_job],
                      schedules=[_schedule(i) for i in range(COUNT)],
                      sensors=[_sensor(i) for i in range(COUNT)])
"""


# -- instances -------------------------------------------------------------------------------
@contextlib.contextmanager
def database(kind: str) -> Iterator[str | None]:
    """None for SQLite under $DERAS_HOME; else the URL of a fresh Postgres database."""
    if kind == "sqlite":
        yield None
        return
    import psycopg

    name = f"deras_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = PG_ADMIN.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def home(kind: str, config: dict[str, Any]) -> Iterator[Path]:
    """A temporary $DERAS_HOME whose deras.yaml holds ``config`` (and the database URL)."""
    import yaml

    with tempfile.TemporaryDirectory(prefix="deras-dbench-") as tmp, database(kind) as url:
        path = Path(tmp)
        full = dict(config)
        if url:
            full["database_url"] = url
        (path / "deras.yaml").write_text(yaml.safe_dump(full))
        os.environ["DERAS_HOME"] = str(path)
        os.environ.pop("DERAS_DATABASE_URL", None)
        yield path


def write_code(where: Path, source: str, name: str = "code.py", **consts: Any) -> Path:
    prelude = "".join(f"{k} = {v!r}\n" for k, v in consts.items())
    path = where / name
    path.write_text(prelude + textwrap.dedent(source))
    return path


def open_instance(where: Path) -> Any:
    import deras as dg

    instance = dg.DerasInstance.get(where)
    instance.get_runs(limit=1)  # import SQLAlchemy, create the schema: not what is measured
    return instance


PROFILE_TO: str | None = None  # --profile: the daemon subprocess runs under pyinstrument, text here


def start_daemon(code: Path, max_seconds: float) -> subprocess.Popen[bytes]:
    log = open(Path(os.environ["DERAS_HOME"]) / "daemon.log", "wb")  # noqa: SIM115
    prefix = [sys.executable, "-m"]
    if PROFILE_TO:
        prefix += ["pyinstrument", "-r", "text", "--show-all", "-o", PROFILE_TO, "-m"]
    return subprocess.Popen(
        [*prefix, "deras", "daemon", "run", "-f", str(code), "--max-seconds", str(max_seconds)],
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_daemon(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        out += kids
        todo += kids
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` itself."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_warm(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> float:
    """Wait until the daemon's first warm worker has imported the code (it then idles)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        workers = children(proc.pid)
        if workers:
            # warm once the worker has stopped burning CPU on its imports
            a = sum(cpu_seconds(w) for w in workers)
            time.sleep(0.3)
            b = sum(cpu_seconds(w) for w in children(proc.pid))
            if b - a < 0.02:
                return time.perf_counter() - start
        else:
            time.sleep(0.1)
    return time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# -- workloads --------------------------------------------------------------------------------
def latency(args: argparse.Namespace) -> dict[str, Any]:
    """A sensor's tick becoming due -> the first node's STEP_START, through a real daemon.

    The sensor (``minimum_interval_seconds=1``) is due one interval after its previous
    evaluation started (the SensorRunner spaces evaluations so), so each tick after the first
    is measured from ``previous tick's start_time + 1 s``: that includes how late the daemon
    woke. The first tick (the sensor turned on mid-interval, and the warm worker's first run)
    is reported apart, from its own start. The sensor is turned on once the daemon's first
    warm worker is up, as in a daemon that has been running.
    """
    interval = 1.0
    with home(args.db, args.config) as where:
        code = write_code(where, ONE_ASSET, SENSOR=True, STATUS="stopped")
        instance = open_instance(where)
        proc = start_daemon(code, 600)
        try:
            warm = wait_warm(proc)
            instance.store.ticks.set_status("sensor:every_second", "running", time.time())
            time.sleep(args.ticks + 0.5)
            instance.store.ticks.set_status("sensor:every_second", "stopped", time.time())
            time.sleep(1.0)  # the last run finishes in its worker
        finally:
            stop_daemon(proc)
        ticks = sorted(instance.store.ticks.get_ticks("sensor:every_second"), key=lambda t: t.tick_time)
        rows: list[dict[str, Any]] = []
        previous: Any = None
        for tick in ticks:
            due = None if previous is None else (previous.start_time or 0) + interval
            previous = tick
            if not tick.run_ids:
                continue
            events = instance.get_events(tick.run_ids[0])
            step = next((e for e in events if e.event_type == "step_start"), None)
            start = next((e for e in events if e.event_type == "run_start"), None)
            if step is None or tick.start_time is None:
                continue
            rows.append(
                {
                    "due": due,
                    "woke_late": None if due is None else tick.start_time - due,
                    "step_from_due": None if due is None else step.timestamp - due,
                    "run_start_from_tick_start": (start.timestamp if start else 0) - tick.start_time,
                    "step_from_tick_start": step.timestamp - tick.start_time,
                    "step_from_slot": step.timestamp - tick.tick_time,
                }
            )
    first = [r for r in rows if r["due"] is None][:1]
    rows = [r for r in rows if r["due"] is not None]
    lat = [r["step_from_due"] for r in rows]
    out = {
        "ticks": len(rows),
        "p50": pct(lat, 0.5),
        "p95": pct(lat, 0.95),
        "max": max(lat, default=float("nan")),
        "first_from_tick_start": first[0]["step_from_tick_start"] if first else None,
        "daemon_start_to_warm": warm,
        "all": [round(x, 4) for x in lat],
    }
    for part in ("woke_late", "run_start_from_tick_start", "step_from_tick_start", "step_from_slot"):
        out[f"p50_{part}"] = pct([r[part] for r in rows], 0.5)
    return out


def burst(args: argparse.Namespace) -> dict[str, Any]:
    """N schedules due at the same minute: each tick's cron instant -> its first node's STEP_START."""
    n = args.n if args.n > 0 else 25
    with home(args.db, args.config) as where:
        code = write_code(where, BURST, COUNT=n)
        instance = open_instance(where)
        proc = start_daemon(code, 600)
        try:
            wait_warm(proc)
            boundary = (time.time() // 60 + 1) * 60
            if boundary - time.time() < 3:
                boundary += 60  # the schedules must be seen running before the minute they tick
            time.sleep(max(0.0, boundary - time.time()) + args.window)
        finally:
            stop_daemon(proc)
        lat = []
        for i in range(n):
            for tick in instance.store.ticks.get_ticks(f"schedule:every_minute_{i}"):
                if tick.tick_time != boundary or not tick.run_ids:
                    continue
                events = instance.get_events(tick.run_ids[0])
                step = next((e for e in events if e.event_type == "step_start"), None)
                if step is not None:
                    lat.append(step.timestamp - boundary)
    return {
        "ticks": len(lat),
        "p50": pct(lat, 0.5),
        "p95": pct(lat, 0.95),
        "max": max(lat, default=float("nan")),
    }


def backfill10k(args: argparse.Namespace) -> dict[str, Any]:
    from deras._daemon.backfill_runner import BackfillRunner
    from deras._daemon.daemon_context import DaemonContext
    from deras._defs.loader import load_definitions

    n = args.n if args.n > 0 else 10_000
    with home(args.db, args.config) as where:
        code = write_code(where, HOURLY)
        instance = open_instance(where)
        loaded = load_definitions(file=str(code))
        pdef = loaded.definitions.asset_graph.nodes["hourly"].partitions_def
        keys = pdef.get_partition_keys()
        first, last = keys[0], keys[n - 1]
        ctx = DaemonContext(instance, loaded.definitions, loaded.location)
        runner = BackfillRunner(ctx)
        profile = _profiler(args)
        t0 = time.perf_counter()
        bid = instance.launch_backfill(
            "hourly",
            partition_range=(first, last),
            definitions=loaded.definitions,
            code_location=loaded.location,
        )
        t1 = time.perf_counter()
        runner.tick(time.time())
        t2 = time.perf_counter()
        _profile_done(profile, args)
        queued = len(instance.store.run_queue.queued_runs())
        view = instance.get_backfill(bid)
        assert queued == n, (queued, view.counts)
    return {"n": n, "total": t2 - t0, "launch": t1 - t0, "runner_tick": t2 - t1}


class _Accepting:
    """A launcher double that accepts every run at once."""

    def __init__(self) -> None:
        self.launched: list[str] = []

    def capacity(self) -> int:
        return 1_000_000

    def launch(self, run_id: str) -> None:
        self.launched.append(run_id)

    def poll(self) -> list[tuple[str, int | None]]:
        return []

    def shutdown(self) -> None:
        pass


def dispatch(args: argparse.Namespace) -> dict[str, Any]:
    from deras._daemon.daemon_context import DaemonContext
    from deras._daemon.run_factory import RunFactory
    from deras._daemon.run_queue import RunQueue
    from deras._defs.loader import load_definitions

    n = args.n if args.n > 0 else 2000
    config = {"max_concurrent_runs": 1_000_000, **args.config}
    with home(args.db, config) as where:
        code = write_code(where, ONE_ASSET, SENSOR=False, STATUS="stopped")
        instance = open_instance(where)
        loaded = load_definitions(file=str(code))
        factory = RunFactory(loaded.definitions, loaded.location, instance)
        t0 = time.perf_counter()
        runs = [factory.for_assets(["one"], key=f"r{i}", job_name="one_job") for i in range(n)]
        t1 = time.perf_counter()
        instance.store.create_runs(runs)
        t2 = time.perf_counter()
        launcher = _Accepting()
        queue = RunQueue(DaemonContext(instance, loaded.definitions, loaded.location), launcher)
        profile = _profiler(args)
        passes = 0
        t3 = time.perf_counter()
        while len(launcher.launched) < n:
            queue.tick(time.time())
            passes += 1
        t4 = time.perf_counter()
        _profile_done(profile, args)
    return {
        "n": n,
        "runs_per_s": n / (t4 - t3),
        "dispatch_s": t4 - t3,
        "passes": passes,
        "build_runs_s": t1 - t0,
        "create_runs_s": t2 - t1,
    }


def dispatch_pool(args: argparse.Namespace) -> dict[str, Any]:
    from deras._daemon.run_factory import RunFactory
    from deras._defs.loader import load_definitions

    n = args.n if args.n > 0 else 200
    with home(args.db, args.config) as where:
        code = write_code(where, ONE_ASSET, SENSOR=False, STATUS="stopped")
        instance = open_instance(where)
        loaded = load_definitions(file=str(code))
        factory = RunFactory(loaded.definitions, loaded.location, instance)
        runs = [factory.for_assets(["one"], key=f"r{i}", job_name="one_job") for i in range(n)]
        proc = start_daemon(code, 600)
        try:
            wait_warm(proc)
            t0 = time.time()
            instance.store.create_runs(runs)
            ids = {r.run_id for r in runs}
            deadline = time.time() + 300
            while time.time() < deadline:
                done = instance.get_runs(status=["success", "failure", "canceled"])
                if sum(1 for r in done if r.run_id in ids) == n:
                    break
                time.sleep(0.05)
            ended = [r for r in instance.get_runs() if r.run_id in ids]
        finally:
            stop_daemon(proc)
    ok = sum(1 for r in ended if str(r.status) == "success")
    last = max((r.end_time or 0) for r in ended)
    return {"n": n, "ok": ok, "wall": last - t0, "runs_per_s": n / (last - t0)}


def idle(args: argparse.Namespace) -> dict[str, Any]:
    warm, window = args.warm, args.window
    with home(args.db, args.config) as where:
        code = write_code(where, IDLE, COUNT=args.n if args.n >= 0 else 100)
        open_instance(where)
        proc = start_daemon(code, warm + window + 10)
        try:
            time.sleep(warm)
            tree0 = {p: cpu_seconds(p) for p in [proc.pid, *children(proc.pid)]}
            t0 = time.perf_counter()
            time.sleep(window)
            tree1 = {p: cpu_seconds(p) for p in [proc.pid, *children(proc.pid)]}
            t1 = time.perf_counter()
        finally:
            stop_daemon(proc)
        import deras as dg

        instance = dg.DerasInstance.get(where)
        ticks = instance.store.ticks.get_ticks("sensor:watch_0")
    wall = t1 - t0
    daemon = tree1.get(proc.pid, 0) - tree0.get(proc.pid, 0)
    workers = sum(v - tree0.get(p, 0) for p, v in tree1.items() if p != proc.pid)
    return {
        "wall": wall,
        "daemon_cpu_pct": 100 * daemon / wall,
        "workers_cpu_pct": 100 * workers / wall,
        "startup_cpu_s": tree0.get(proc.pid, 0),
        "sensor_ticks": len(ticks),
    }


def w4(args: argparse.Namespace) -> dict[str, Any]:
    from deras._defs.loader import load_definitions

    target = "daily_single" if args.single else "daily"
    with home(args.db, args.config) as where:
        code = where / "daily_asset.py"
        code.write_text(DAILY.read_text())
        instance = open_instance(where)
        loaded = load_definitions(file=str(code))
        proc = start_daemon(code, 600)
        try:
            wait_warm(proc)
            t0 = time.time()
            bid = instance.launch_backfill(
                target,
                partition_range=("2025-01-01", "2025-12-31"),
                definitions=loaded.definitions,
                code_location=loaded.location,
            )
            t_launch = time.time() - t0
            deadline = time.time() + 600
            while time.time() < deadline:
                record = instance.store.backfills.get_backfill(bid)
                if str(record.status) not in ("requested", "canceling"):
                    break
                time.sleep(0.05)
            seen = time.time() - t0
            view = instance.get_backfill(bid)
            runs = instance.store.get_runs(backfill_id=bid)
        finally:
            stop_daemon(proc)
    first_start = min((r.start_time or 1e20) for r in runs)
    last_end = max((r.end_time or 0) for r in runs)
    return {
        "status": str(view.status),
        "runs": len(runs),
        "wall": view.record.end_time - t0,
        "seen": seen,
        "launch": t_launch,
        "to_first_run_start": first_start - t0,
        "runs_span": last_end - first_start,
        "counts": {k: v for k, v in view.counts.items() if v},
    }


# -- profiling --------------------------------------------------------------------------------
def _profiler(args: argparse.Namespace) -> Any:
    if not args.profile:
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    return profiler


def _profile_done(profiler: Any, args: argparse.Namespace) -> None:
    if profiler is None:
        return
    profiler.stop()
    sys.stderr.write(profiler.output_text(unicode=True, color=False, show_all=False))


WORKLOADS = {
    "latency": latency,
    "burst": burst,
    "backfill10k": backfill10k,
    "dispatch": dispatch,
    "dispatch_pool": dispatch_pool,
    "idle": idle,
    "w4": w4,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "-n",
        type=int,
        default=-1,
        help="runs, partitions, or (idle) schedules and sensors each; default if < 0",
    )
    parser.add_argument("--ticks", type=int, default=25, help="latency: seconds of sensor ticks")
    parser.add_argument("--warm", type=float, default=8.0, help="idle: seconds before measuring")
    parser.add_argument("--window", type=float, default=60.0, help="idle: seconds measured")
    parser.add_argument("--single", action="store_true", help="w4: the single-run policy asset")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the measured part (stderr)")
    parser.add_argument(
        "--profile-daemon", default=None, help="run the daemon under pyinstrument, text to this file"
    )
    parser.add_argument(
        "--set", action="append", default=[], help="deras.yaml setting, e.g. daemon.interval_seconds=0.01"
    )
    args = parser.parse_args()
    config: dict[str, Any] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        node = config
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = json.loads(value)
    args.config = config
    global PROFILE_TO
    PROFILE_TO = args.profile_daemon
    result = WORKLOADS[args.workload](args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
