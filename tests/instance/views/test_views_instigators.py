"""The read model's schedules and sensors: state, next ticks (DST policy), last tick, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from view_snapshots import snapshot

import deras as dg
from deras._core.errors import DerasError
from deras._core.status import TickStatus
from deras._instance.views.instigators import list_schedules, list_sensors, tick_history


@dg.asset
def prices() -> int:
    return 1


prices_job = dg.define_asset_job("prices_job", selection=["prices"])
berlin = dg.ScheduleDefinition(
    name="berlin", job=prices_job, cron_schedule="30 2 * * *", execution_timezone="Europe/Berlin"
)
hourly = dg.ScheduleDefinition(
    name="hourly", job=prices_job, cron_schedule="0 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)


@dg.sensor(job=prices_job, minimum_interval_seconds=60)
def new_files(context: Any) -> Any:
    return dg.SkipReason("nothing new")


@dg.dag(dag_id="etl", schedule="@daily", start_date=datetime(2025, 1, 1), end_date=datetime(2025, 3, 30))
def etl() -> None:
    @dg.task
    def extract() -> None:
        return None

    extract()


def _snap() -> Any:
    return snapshot(
        dg.Definitions(
            assets=[prices], jobs=[prices_job], schedules=[berlin, hourly], sensors=[new_files], dags=[etl()]
        )
    )


def _tick(instance: Any, name: str, at: float, status: TickStatus, **outcome: Any) -> None:
    tick = instance.store.ticks.claim_tick(name, at, "test:1:x", at, 60)
    instance.store.ticks.finish_tick(tick.id, status, now=at, **outcome)


def test_a_schedule_is_as_its_definition_says_until_started_or_stopped(instance: Any) -> None:
    snap = _snap()
    shown = {s.key: s for s in list_schedules(instance, snap)}
    assert shown["schedule:berlin"].status == "stopped" and not shown["schedule:berlin"].status_stored
    assert shown["schedule:hourly"].status == "running"
    assert shown["dag:etl"].status == "running" and shown["dag:etl"].kind == "dag"
    instance.store.ticks.set_status("schedule:berlin", "running", 1.0)
    instance.store.ticks.set_status("schedule:hourly", "stopped", 1.0)
    shown = {s.key: s for s in list_schedules(instance, snap)}
    assert shown["schedule:berlin"].status == "running" and shown["schedule:berlin"].status_stored
    assert shown["schedule:hourly"].status == "stopped"
    assert [s.kind for s in shown.values()] == ["schedule", "schedule", "dag"]


def test_next_ticks_keep_the_dst_policy_of_the_daemon(instance: Any) -> None:
    # Berlin springs forward at 02:00 on 30 March 2025: 02:30 does not exist that day, and the
    # tick moves to the end of the gap (docs/dst.md), as the daemon fires it.
    before = datetime(2025, 3, 29, 12, tzinfo=UTC)
    shown = {s.key: s for s in list_schedules(instance, _snap(), now=before, ticks=3)}
    assert shown["schedule:berlin"].next_ticks == [
        "2025-03-30T03:00:00+02:00",
        "2025-03-31T02:30:00+02:00",
        "2025-04-01T02:30:00+02:00",
    ]
    assert berlin.next_tick_times(before, 3) == [
        datetime.fromisoformat(t) for t in shown["schedule:berlin"].next_ticks
    ]


def test_a_dags_next_ticks_stop_at_its_end_date(instance: Any) -> None:
    shown = {s.key: s for s in list_schedules(instance, _snap(), now=datetime(2025, 3, 28, 12, tzinfo=UTC))}
    assert shown["dag:etl"].next_ticks == ["2025-03-29T00:00:00+00:00", "2025-03-30T00:00:00+00:00"]
    shown = {s.key: s for s in list_schedules(instance, _snap(), now=datetime(2025, 4, 2, tzinfo=UTC))}
    assert shown["dag:etl"].next_ticks == [] and shown["dag:etl"].next_tick is None


def test_the_last_tick_is_shown_with_its_outcome(instance: Any) -> None:
    _tick(instance, "schedule:hourly", 3600.0, TickStatus.SUCCESS, run_ids=["r1"])
    _tick(instance, "schedule:hourly", 7200.0, TickStatus.FAILURE, error="Traceback...\nValueError: boom")
    _tick(instance, "sensor:new_files", 100.0, TickStatus.SKIPPED, skip_reason="nothing new")
    instance.store.ticks.set_status("sensor:new_files", "running", 1.0)
    snap = _snap()
    hourly_view = next(s for s in list_schedules(instance, snap) if s.name == "hourly")
    assert hourly_view.last_tick is not None
    assert (hourly_view.last_tick.tick_time, hourly_view.last_tick.status) == (7200.0, "failure")
    assert hourly_view.to_json()["last_tick"]["error_message"] == "ValueError: boom"
    (sensor,) = [s for s in list_sensors(instance, snap) if s.name == "new_files"]
    assert sensor.status == "running" and sensor.kind == "sensor" and sensor.minimum_interval == 60
    assert sensor.last_tick is not None and sensor.last_tick.skip_reason == "nothing new"
    assert sensor.next_tick == 160.0


def test_tick_history_pages_newest_first_with_reasons_errors_and_runs(instance: Any) -> None:
    for i in range(7):
        status = [TickStatus.SUCCESS, TickStatus.SKIPPED, TickStatus.FAILURE][i % 3]
        _tick(
            instance,
            "schedule:hourly",
            float(i),
            status,
            run_ids=[f"run{i}"] if status is TickStatus.SUCCESS else (),
            skip_reason="too soon" if status is TickStatus.SKIPPED else None,
            error="boom" if status is TickStatus.FAILURE else None,
        )
    _tick(instance, "schedule:berlin", 3.5, TickStatus.SUCCESS)  # another instigator's
    seen, cursor = [], None
    while True:
        page = tick_history(instance, "schedule:hourly", limit=3, cursor=cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [t.tick_time for t in seen] == [6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0]
    assert seen[0].run_ids == ["run6"] and seen[1].error == "boom" and seen[2].skip_reason == "too soon"
    failed = tick_history(instance, "schedule:hourly", status="failure").items
    assert [t.tick_time for t in failed] == [5.0, 2.0]


def test_tick_history_refuses_a_cursor_that_is_not_its_own(instance: Any) -> None:
    with pytest.raises(DerasError, match="not a cursor of this tick history"):
        tick_history(instance, "schedule:hourly", cursor="bm9wZQ")
    with pytest.raises(DerasError, match="unknown tick status 'late'"):
        tick_history(instance, "schedule:hourly", status="late")


def test_timedelta_dags_tick_from_their_start_date(instance: Any) -> None:
    @dg.dag(dag_id="every6", schedule=timedelta(hours=6), start_date=datetime(2025, 1, 1, 1, tzinfo=UTC))
    def every6() -> None:
        @dg.task
        def t() -> None:
            return None

        t()

    snap = snapshot(dg.Definitions(dags=[every6()]))
    (view,) = list_schedules(instance, snap, now=datetime(2025, 1, 2, 2, tzinfo=UTC), ticks=2)
    assert view.cron == "every 6:00:00"
    assert view.next_ticks == ["2025-01-02T07:00:00+00:00", "2025-01-02T13:00:00+00:00"]
