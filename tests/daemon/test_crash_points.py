"""Exactly once through crashes: kill -9 the daemon right after each named step, restart it.

Each test starts ``deras daemon run`` with ``DERAS_CRASH_AFTER=<point>``, checks that it died by
SIGKILL, restarts it without the variable until the expected state is reached, and then checks
that every tick happened once, every run was created once and executed once, and nothing was
missed: each schedule tick owed, each sensor run_key, each backfill partition.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import deras as dg
from deras._core.status import BackfillStatus, RunStatus, TickStatus
from deras._daemon.launcher import worker_env
from deras._daemon.run_factory import RunFactory

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # daemon processes killed and restarted

CODE = """
import deras as dg

@dg.asset
def done():
    return 1

days = dg.DailyPartitionsDefinition("2025-01-01", end_date="2025-01-05")

@dg.asset(partitions_def=days)
def daily(context):
    return context.partition_key

job = dg.define_asset_job("job", selection=["done"])
retried_job = dg.define_asset_job(
    "retried_job", selection=["done"], run_retry_policy=dg.RunRetryPolicy(max_retries=1)
)
daily_job = dg.define_asset_job("daily_job", selection=["daily"], partitions_def=days)

every_minute = dg.ScheduleDefinition(name="every_minute", job=job, cron_schedule="* * * * *")

@dg.sensor(job=job, minimum_interval_seconds=1)
def keys(context):
    n = int(context.cursor or 0)
    if n >= 3:
        return dg.SkipReason("every key was requested")
    context.update_cursor(str(n + 1))
    return dg.RunRequest(run_key=f"k{n}")

defs = dg.Definitions(
    assets=[done, daily], jobs=[job, daily_job, retried_job], schedules=[every_minute], sensors=[keys]
)
"""

CONFIG = {
    "max_concurrent_runs": 20,
    "run_monitoring": {"heartbeat_interval_seconds": 0.5, "heartbeat_timeout_seconds": 2},
    "daemon": {"interval_seconds": 0.1, "workers": 2},
}
SCHEDULE = "schedule:every_minute"
SENSOR = "sensor:keys"
PARTITIONS = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]
WAIT = 90.0  # catches a hang only: a loaded machine may need many times the usual few seconds
SETTLE = 1.5


class Scenario:
    """An instance whose code has one instigator (or a backfill) with work due at once."""

    def __init__(self, instance: Any, loaded: Any, tmp_path: Path) -> None:
        self.instance = instance
        self.loaded = loaded
        self.code = loaded.location["file"]
        self.logs = tmp_path / "daemon.log"
        self.owed: list[float] = []
        self.backfill_id: str | None = None

    # -- setting up ---------------------------------------------------------------------------
    def start_schedule(self) -> None:
        """Turned on 150 s ago: it owes the two or three minute ticks since then, right now."""
        now = time.time()
        self.instance.store.ticks.set_status(SCHEDULE, "running", now - 150)
        schedule = self.loaded.definitions.schedules[0]
        self.owed = [t.timestamp() for t in schedule.tick_times_between(_at(now - 150), _at(now))]
        assert len(self.owed) >= 2

    def start_sensor(self) -> None:
        self.instance.store.ticks.set_status(SENSOR, "running", time.time())

    def launch_backfill(self) -> None:
        self.backfill_id = self.instance.launch_backfill(
            "daily_job",
            partition_range=(PARTITIONS[0], PARTITIONS[-1]),
            definitions=self.loaded.definitions,
            code_location=self.loaded.location,
        )

    # -- the daemon ---------------------------------------------------------------------------
    def daemon(self, crash: str | None = None, max_seconds: float = 20) -> subprocess.Popen[bytes]:
        env = worker_env(self.instance)
        if crash:
            env["DERAS_CRASH_AFTER"] = crash
        with self.logs.open("ab") as log:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "deras",
                    "daemon",
                    "run",
                    "-f",
                    self.code,
                    "--max-seconds",
                    str(max_seconds),
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def crash_at(self, point: str) -> None:
        proc = self.daemon(crash=point)
        try:
            code = proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"the daemon never reached {point!r}:\n{self.log_text()}") from None
        assert code == -signal.SIGKILL, f"exit code {code}:\n{self.log_text()}"

    def restart_until(self, done: Callable[[], bool]) -> None:
        """Run the daemon again until ``done()``, then stop it with SIGTERM.

        It also stops once nothing has changed for ``SETTLE`` seconds of its running, with no
        run left to finish: a state that will not become ``done`` any more, which the test's
        assertions then describe.
        """
        starts = self.daemons_started()
        proc = self.daemon(max_seconds=2 * WAIT)
        deadline = time.monotonic() + WAIT
        last, quiet_since = None, time.monotonic()
        try:
            while not done():
                assert proc.poll() is None, f"the daemon exited ({proc.returncode}):\n{self.describe()}"
                assert time.monotonic() < deadline, f"not done after {WAIT} s:\n{self.describe()}"
                snapshot = self.snapshot()
                if snapshot != last or self.daemons_started() == starts:
                    last, quiet_since = snapshot, time.monotonic()
                elif time.monotonic() - quiet_since > SETTLE and all(s.is_finished for _, s in snapshot[1]):
                    break
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
        assert proc.returncode == 0, self.log_text()

    def snapshot(self) -> tuple[Any, ...]:
        ticks = [
            (t.instigator, t.tick_time, t.status)
            for name in (SCHEDULE, SENSOR)
            for t in self.ticks(name)
            if t.status != TickStatus.SKIPPED
        ]
        return tuple(ticks), tuple((r.run_id, r.status) for r in self.runs())

    def describe(self) -> str:
        """The ticks and runs so far, and the daemon's log: what a failed test shows."""
        lines = [
            f"tick {t.instigator} {_at(t.tick_time):%H:%M:%S} {t.status} {len(t.run_ids)} runs {t.owner}"
            for name in (SCHEDULE, SENSOR)
            for t in reversed(self.ticks(name))
        ]
        lines += [f"run {r.run_id[:8]} {r.status} {r.tags}" for r in reversed(self.runs())]
        return "\n".join([*lines, self.log_text()[-4000:]])

    def daemons_started(self) -> int:
        """How many daemons have logged their start (just before their first pass)."""
        return sum(
            1
            for line in self.log_text().splitlines()
            if "deras.daemon: deras daemon" in line and line.endswith(" started")
        )

    def log_text(self) -> str:
        return self.logs.read_text() if self.logs.exists() else ""

    # -- what happened ------------------------------------------------------------------------
    def runs(self, **tags: str) -> list[Any]:
        return self.instance.get_runs(tags=tags or None)

    def ticks(self, instigator: str) -> list[Any]:
        return self.instance.store.ticks.get_ticks(instigator)

    def all_runs_succeeded(self, runs: list[Any]) -> bool:
        return bool(runs) and all(r.status == RunStatus.SUCCESS for r in runs)

    def executed_once(self, runs: list[Any]) -> None:
        """Each run ended success with exactly one attempt of each of its nodes."""
        for run in runs:
            assert run.status == RunStatus.SUCCESS, (
                run.run_id,
                run.status,
                self.instance.get_logs(run.run_id),
            )
            attempts = Counter(a.node for a in self.instance.get_attempts(run.run_id))
            assert attempts and set(attempts.values()) == {1}, (run.run_id, attempts)


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@pytest.fixture
def scenario(make_instance: Any, write_code: Any, tmp_path: Path) -> Scenario:
    return Scenario(make_instance(CONFIG), write_code(CODE), tmp_path)


# -- schedules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "point",
    [
        "tick created",
        "run created",
        "run launched",
    ],
)
def test_schedule_ticks_run_once_each_after_a_crash(scenario: Scenario, point: str, db_url: str) -> None:
    scenario.start_schedule()
    scenario.crash_at(point)

    def done() -> bool:
        finished = {t.tick_time for t in scenario.ticks(SCHEDULE) if t.status.is_finished}
        return set(scenario.owed) <= finished and scenario.all_runs_succeeded(scenario.runs())

    scenario.restart_until(done)
    ticks = scenario.ticks(SCHEDULE)
    assert set(Counter(t.tick_time for t in ticks).values()) == {1}
    runs = scenario.runs(**{"deras/schedule": "every_minute"})
    per_tick = Counter(datetime.fromisoformat(r.tags["deras/tick_time"]).timestamp() for r in runs)
    assert set(per_tick.values()) == {1}, per_tick
    assert set(scenario.owed) <= set(per_tick) == {t.tick_time for t in ticks}, scenario.describe()
    scenario.executed_once(runs)

    assert {t.status for t in ticks} == {TickStatus.SUCCESS}, scenario.describe()  # none left started
    assert sorted(r for t in ticks for r in t.run_ids) == sorted(r.run_id for r in runs)


# -- sensors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["tick created", "run created", "cursor saved", "run launched"])
def test_sensor_run_keys_run_once_each_after_a_crash(scenario: Scenario, point: str, db_url: str) -> None:
    """One run per pass here, so "run launched" strands nothing (see the schedule's case)."""
    scenario.start_sensor()
    scenario.crash_at(point)

    def done() -> bool:
        state = scenario.instance.store.ticks.get_state(SENSOR)
        return state.cursor == "3" and scenario.all_runs_succeeded(scenario.runs())

    scenario.restart_until(done)
    assert scenario.instance.store.ticks.get_state(SENSOR).cursor == "3"
    runs = scenario.runs(**{"deras/sensor": "keys"})
    assert sorted(r.tags["deras/run_key"] for r in runs) == ["k0", "k1", "k2"]
    scenario.executed_once(runs)
    ticks = scenario.ticks(SENSOR)
    assert set(Counter(t.tick_time for t in ticks).values()) == {1}

    assert TickStatus.STARTED not in {t.status for t in ticks}, scenario.describe()
    assert sorted(r for t in ticks for r in t.run_ids) == sorted(r.run_id for r in runs)


# -- backfills ----------------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["backfill batch written", "run launched"])
def test_backfill_partitions_run_once_each_after_a_crash(scenario: Scenario, point: str, db_url: str) -> None:
    scenario.launch_backfill()
    scenario.crash_at(point)
    bid = scenario.backfill_id
    assert bid is not None

    def done() -> bool:
        return bool(scenario.instance.get_backfill(bid).status.is_finished)

    scenario.restart_until(done)
    view = scenario.instance.get_backfill(bid)
    assert view.status == BackfillStatus.COMPLETED, (view.status, view.partition_status)
    assert view.partition_status == dict.fromkeys(PARTITIONS, "success")
    runs = scenario.instance.store.get_runs(backfill_id=bid)
    assert sorted(r.partition_key for r in runs) == PARTITIONS
    scenario.executed_once(runs)


# -- the run worker -----------------------------------------------------------------------------


def test_run_worker_killed_after_start_is_failed_then_retried_once(scenario: Scenario, db_url: str) -> None:
    """A worker that dies once it has started a run: the monitor fails the run, its retry runs."""
    loaded, instance = scenario.loaded, scenario.instance
    run = RunFactory(loaded.definitions, loaded.location, instance).for_request(
        dg.RunRequest(), default_job="retried_job", key="by-hand", origin={}
    )
    instance.store.create_runs([run])
    env = {**worker_env(instance), "DERAS_CRASH_AFTER": "run worker started"}
    worker = subprocess.run(
        [sys.executable, "-m", "deras", "run-worker", run.run_id],
        env=env,
        capture_output=True,
        timeout=WAIT,
        check=False,
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    assert instance.get_run(run.run_id).status == RunStatus.STARTING

    def done() -> bool:
        return scenario.all_runs_succeeded([r for r in scenario.runs() if r.run_id != run.run_id])

    scenario.restart_until(done)
    failed = instance.get_run(run.run_id)
    assert failed.status == RunStatus.FAILURE
    # Its pid is gone: failed at its first look, not after the heartbeat timeout.
    assert "is gone: it was killed or crashed before the run ended" in instance.get_logs(run.run_id)
    retries = [r for r in scenario.runs() if r.run_id != run.run_id]
    assert [(r.root_run_id, r.tags["deras/retry_number"]) for r in retries] == [(run.run_id, "1")]
    scenario.executed_once(retries)
