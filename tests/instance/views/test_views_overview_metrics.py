"""The read model's overview (one call for the overview page) and its numbers for monitoring."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from view_snapshots import snapshot

import deras as dg
from deras._core.events import EventRecord, EventType
from deras._core.records import RunRecord
from deras._core.status import RunStatus, TickStatus
from deras._instance.views.metrics import STEP_BUCKETS, metrics
from deras._instance.views.overview import overview

NOW = datetime(2025, 6, 1, 12, 0, 30, tzinfo=UTC).timestamp()


@dg.asset
def prices() -> int:
    return -1


@dg.asset_check(asset=prices)
def positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False)


@dg.asset
def plain() -> int:
    return 1


prices_job = dg.define_asset_job("prices_job", selection=["prices", "plain"])
minutely = dg.ScheduleDefinition(
    name="minutely",
    job=prices_job,
    cron_schedule="* * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
hourly = dg.ScheduleDefinition(
    name="hourly", job=prices_job, cron_schedule="0 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)
off = dg.ScheduleDefinition(name="off", job=prices_job, cron_schedule="0 0 * * *")


@dg.sensor(job=prices_job, minimum_interval_seconds=30)
def watch(context: Any) -> Any:
    return dg.SkipReason("no")


DEFS = dg.Definitions(
    assets=[prices, plain],
    asset_checks=[positive],
    jobs=[prices_job],
    schedules=[minutely, hourly, off],
    sensors=[watch],
)


def _timed_run(instance: Any, run_id: str, steps: list[tuple[str, float]], end: float) -> None:
    """A finished run whose steps took the given seconds."""
    instance.store.create_runs(
        [RunRecord(run_id, "assets:a", status=RunStatus.QUEUED, create_time=end - 100)]
    )
    events = [EventRecord(run_id, EventType.RUN_START, timestamp=end - 100)]
    for node, seconds in steps:
        events.append(EventRecord(run_id, EventType.STEP_START, node=node, attempt=0, timestamp=end - 50))
        events.append(
            EventRecord(run_id, EventType.STEP_SUCCESS, node=node, attempt=0, timestamp=end - 50 + seconds)
        )
    events.append(EventRecord(run_id, EventType.RUN_SUCCESS, timestamp=end))
    instance.store.store_events(events)


def test_step_durations_are_a_histogram_of_the_runs_that_ended_in_the_window(instance: Any) -> None:
    _timed_run(instance, "recent", [("a", 0.05), ("b", 0.7), ("c", 20.0)], end=NOW - 60)
    _timed_run(instance, "old", [("a", 5000.0)], end=NOW - 7200)  # ended before the hour
    steps = metrics(instance, None, now=NOW).step_durations
    assert steps.count == 3 and abs(steps.sum - 20.75) < 1e-6
    counted = dict(steps.buckets)
    assert (counted[0.1], counted[0.5], counted[1.0], counted[10.0], counted[30.0]) == (1, 1, 2, 2, 3)
    assert counted["+Inf"] == 3 and len(steps.buckets) == len(STEP_BUCKETS) + 1
    assert steps.to_json()["buckets"][-1] == ["+Inf", 3]


def test_runs_by_status_and_queue_depth(instance: Any) -> None:
    instance.store.create_runs(
        [RunRecord(f"q{i}", "assets:a", status=RunStatus.QUEUED, create_time=float(i)) for i in range(4)]
    )
    _timed_run(instance, "done", [("a", 1.0)], end=NOW)
    numbers = metrics(instance, None, now=NOW)
    assert numbers.queue_depth == 4
    assert numbers.runs_by_status["queued"] == 4 and numbers.runs_by_status["success"] == 1
    assert numbers.runs_by_status["failure"] == 0  # every status, zeros included
    assert numbers.tick_lag_seconds == {}


def test_tick_lag_is_how_late_each_running_instigators_next_tick_is(instance: Any) -> None:
    snap = snapshot(DEFS)
    ticks = instance.store.ticks

    def tick(name: str, at: float) -> None:
        claimed = ticks.claim_tick(name, at, "t:1:x", at, 60)
        ticks.finish_tick(claimed.id, TickStatus.SKIPPED, now=at)

    tick("schedule:minutely", NOW - 30 - 180)  # 12:57:00; 12:58:00 is owed since 150 s
    tick("schedule:hourly", NOW - 30)  # 12:00:00: up to date
    ticks.set_status("sensor:watch", "running", NOW - 1000)
    tick("sensor:watch", NOW - 40)  # due again 10 s ago
    lags = metrics(instance, snap, now=NOW).tick_lag_seconds
    assert lags == {"schedule:minutely": 150.0, "schedule:hourly": 0.0, "sensor:watch": 10.0}


def test_overview_has_recent_runs_failing_checks_next_ticks_and_health(instance: Any) -> None:
    result = dg.materialize([prices, plain, positive], instance=instance)
    assert result.success
    snap = snapshot(DEFS)
    at = NOW
    view = overview(instance, snap, now=at)
    assert [r.run_id for r in view.recent_runs] == [result.run_id]
    assert view.run_counts["success"] == 1
    (check,) = view.failing_checks
    assert (check.asset_key, check.name, check.run_id) == ("prices", "positive", result.run_id)
    assert [(t.key, t.next_tick) for t in view.next_ticks] == [
        ("schedule:minutely", "2025-06-01T12:01:00+00:00"),
        ("schedule:hourly", "2025-06-01T13:00:00+00:00"),
    ]
    assert not view.daemon.healthy
    data = view.to_json()
    assert set(data) == {
        "recent_runs",
        "run_counts",
        "counts_since",
        "failing_checks",
        "next_ticks",
        "daemon",
    }
    assert data["daemon"]["queue_depth"] == 0


def test_overview_without_definitions_shows_the_stores_checks_and_no_ticks(instance: Any) -> None:
    dg.materialize([prices, positive], instance=instance)
    view = overview(instance, None)
    assert [c.name for c in view.failing_checks] == ["positive"] and view.next_ticks == []


def test_overview_counts_runs_in_progress_and_the_last_days_finished_runs(instance: Any) -> None:
    def run(run_id: str, status: RunStatus, age: float) -> RunRecord:
        return RunRecord(run_id, "assets:a", status=status, create_time=NOW - age)

    day = 86_400.0
    instance.store.create_runs(
        [
            run("old_failure", RunStatus.FAILURE, 2 * day),
            run("old_queued", RunStatus.QUEUED, 2 * day),
            run("old_started", RunStatus.STARTED, 2 * day),
            run("new_failure", RunStatus.FAILURE, 60.0),
            run("new_success", RunStatus.SUCCESS, 60.0),
        ]
    )
    view = overview(instance, None, now=NOW)
    assert view.counts_since == NOW - day
    assert view.run_counts == {
        "queued": 1,
        "starting": 0,
        "started": 1,
        "success": 1,
        "failure": 1,  # the one of two days ago is left out
        "canceling": 0,
        "canceled": 0,
    }
    assert overview(instance, None, now=NOW, finished_within=3 * day).run_counts["failure"] == 2
