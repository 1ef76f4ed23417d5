"""Two daemons against one Postgres database: every tick and every run_key happens once.

Forty schedules each owe their five latest minute ticks at once (turned on five minutes ago,
``max_catchup_ticks: 5``) and ten sensors ask every second for a run_key that changes every few
seconds, while two ``deras daemon run`` processes race for all of it: 200 schedule ticks and
dozens of sensor evaluations within about ten seconds, and each run they create executed once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deras._core.status import RunStatus, TickStatus
from deras._daemon.launcher import worker_env

SCHEDULES = 40
SENSORS = 10
CATCHUP = 5
SENSOR_SECONDS = 4.0  # how long the sensors go on after the schedules' ticks are done

CODE = f"""
import time
import deras as dg

@dg.asset
def done():
    return 1

job = dg.define_asset_job("job", selection=["done"])
schedules = [
    dg.ScheduleDefinition(name=f"s{{i}}", job=job, cron_schedule="* * * * *") for i in range({SCHEDULES})
]

def make_sensor(i):
    @dg.sensor(name=f"watch{{i}}", job=job, minimum_interval_seconds=1)
    def watch(context):
        # The same run_key for three seconds: both daemons, and each second's tick, ask for it.
        return dg.RunRequest(run_key=f"watch{{i}}-{{int(time.time()) // 3}}")
    return watch

defs = dg.Definitions(
    assets=[done], jobs=[job], schedules=schedules, sensors=[make_sensor(i) for i in range({SENSORS})]
)
"""

# Two daemons at once need Postgres (SQLite serialises writers by design).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.parametrize("db_url", ["postgres"], indirect=True),
]

CONFIG = {
    "max_concurrent_runs": 50,
    "daemon": {"max_catchup_ticks": CATCHUP, "interval_seconds": 0.1, "workers": 3},
}


@pytest.fixture
def pg_instance(make_instance: Any, db_url: str) -> Any:
    return make_instance(CONFIG)


def _daemon(instance: Any, code: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "deras", "daemon", "run", "-f", code, "--max-seconds", "60"],
            env=worker_env(instance),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_two_daemons_create_and_execute_each_run_exactly_once(
    pg_instance: Any, write_code: Any, tmp_path: Path
) -> None:
    instance = pg_instance
    loaded = write_code(CODE)
    ticks = instance.store.ticks
    now = time.time()
    for i in range(SCHEDULES):
        ticks.set_status(f"schedule:s{i}", "running", now - 300)
    for i in range(SENSORS):
        ticks.set_status(f"sensor:watch{i}", "running", now)
    owed = [
        t.timestamp()
        for t in loaded.definitions.schedules[0].tick_times_between(
            datetime.fromtimestamp(now - 300, UTC), datetime.fromtimestamp(now, UTC), CATCHUP
        )
    ]
    assert len(owed) == CATCHUP

    logs = [tmp_path / "daemon_a.log", tmp_path / "daemon_b.log"]
    daemons = [_daemon(instance, loaded.location["file"], log) for log in logs]

    def log_text() -> str:
        return "\n".join(f"== {log.name}\n{log.read_text()[-3000:]}" for log in logs)

    def schedule_ticks() -> list[Any]:
        return [t for i in range(SCHEDULES) for t in ticks.get_ticks(f"schedule:s{i}")]

    def unfinished() -> list[Any]:
        return instance.get_runs(status=[RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTED])

    try:
        deadline = time.monotonic() + 400  # catches a hang only
        sensors_until = None  # once the schedules caught up, the sensors run SENSOR_SECONDS more
        while sensors_until is None or time.monotonic() < sensors_until:
            assert all(d.poll() is None for d in daemons), log_text()
            assert time.monotonic() < deadline, log_text()
            if (
                sensors_until is None
                and sum(t.status.is_finished for t in schedule_ticks()) >= SCHEDULES * CATCHUP
            ):
                sensors_until = time.monotonic() + SENSOR_SECONDS
            time.sleep(0.2)
        for i in range(SENSORS):  # no new runs from here on: let the daemons finish the others
            ticks.set_status(f"sensor:watch{i}", "stopped", time.time())
        while unfinished():
            assert all(d.poll() is None for d in daemons), log_text()
            assert time.monotonic() < deadline, log_text()
            time.sleep(0.2)
    finally:
        for d in daemons:
            d.send_signal(signal.SIGTERM)
    for d in daemons:
        assert d.wait(120) == 0, log_text()

    # Schedules: one tick row per (schedule, tick time), every owed one done, one run each.
    sticks = schedule_ticks()
    assert not [k for k, n in Counter((t.instigator, t.tick_time) for t in sticks).items() if n > 1]
    for i in range(SCHEDULES):
        done = {
            t.tick_time for t in sticks if t.instigator == f"schedule:s{i}" and t.status == TickStatus.SUCCESS
        }
        assert set(owed) <= done, (i, sorted(done))
    assert all(len(t.run_ids) == 1 for t in sticks if t.status == TickStatus.SUCCESS)
    runs = instance.get_runs()
    scheduled = [r for r in runs if "deras/schedule" in r.tags]
    by_tick = Counter((r.tags["deras/schedule"], r.tags["deras/tick_time"]) for r in scheduled)
    assert not [k for k, n in by_tick.items() if n > 1]
    assert len(by_tick) == len([t for t in sticks if t.status == TickStatus.SUCCESS]) >= SCHEDULES * CATCHUP
    assert sorted(r for t in sticks for r in t.run_ids) == sorted(r.run_id for r in scheduled)

    # Sensors: many evaluations, one run per run_key however often it was asked for.
    evaluations = [t for i in range(SENSORS) for t in ticks.get_ticks(f"sensor:watch{i}")]
    assert not [k for k, n in Counter((t.instigator, t.tick_time) for t in evaluations).items() if n > 1]
    assert len(sticks) + len(evaluations) >= 200 + SENSORS * 3
    sensed = [r for r in runs if "deras/sensor" in r.tags]
    by_key = Counter(r.tags["deras/run_key"] for r in sensed)
    assert not [k for k, n in by_key.items() if n > 1]
    assert len(by_key) >= SENSORS * 2
    assert any(t.status == TickStatus.SKIPPED for t in evaluations)  # a run_key asked for again

    # Both daemons did part of the work, and every run executed once, in one attempt.
    owners = Counter(t.owner.rsplit(":", 1)[0] for t in [*sticks, *evaluations] if t.owner)
    assert len(owners) == 2, owners
    assert len(runs) == len(scheduled) + len(sensed)
    assert {r.status for r in runs} == {RunStatus.SUCCESS}, Counter(r.status for r in runs)
    attempts = Counter(len(instance.get_attempts(r.run_id)) for r in runs)
    assert attempts == {1: len(runs)}, attempts
