"""The schedule ticker: one tick and one run per cron time, whoever ticks, whatever the user code does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import deras as dg
from deras._core.status import RunStatus, TickStatus
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.schedule_ticker import ScheduleTicker

HOUR = 3600.0
T0 = datetime(2025, 1, 6, tzinfo=UTC).timestamp()  # a Monday, midnight UTC


@dg.asset
def numbers() -> int:
    return 1


numbers_job = dg.define_asset_job("numbers_job", selection=[numbers])


def _defs(*schedules: dg.ScheduleDefinition, dags: tuple = ()) -> dg.Definitions:
    return dg.Definitions(assets=[numbers], jobs=[numbers_job], schedules=list(schedules), dags=list(dags))


def _hourly(name: str = "hourly", **kwargs) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(name=name, job=numbers_job, cron_schedule="0 * * * *", **kwargs)


def _ticker(instance, defs) -> ScheduleTicker:
    return ScheduleTicker(DaemonContext(instance, defs, None))


def _start(instance, name: str, at: float) -> None:
    instance.store.ticks.set_status(name, "running", at)


def _ticks(instance, name: str) -> list:
    return list(reversed(instance.store.ticks.get_ticks(name)))  # oldest first


def _runs(instance) -> list:
    return list(reversed(instance.get_runs()))


# ============================================================================================
# one tick, one run
# ============================================================================================


def test_each_cron_time_gets_one_tick_and_one_run(make_instance):
    instance = make_instance()
    ticker = _ticker(instance, _defs(_hourly()))
    _start(instance, "schedule:hourly", T0)
    ticker.tick(T0 + 0.5 * HOUR)
    assert _ticks(instance, "schedule:hourly") == []
    for now in (T0 + HOUR + 1, T0 + HOUR + 1, T0 + HOUR + 2, T0 + 3 * HOUR + 1, T0 + 3 * HOUR + 1):
        ticker.tick(now)
    ticks = _ticks(instance, "schedule:hourly")
    assert [t.tick_time for t in ticks] == [T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR]
    assert {t.status for t in ticks} == {TickStatus.SUCCESS}
    runs = _runs(instance)
    assert [r.run_id for r in runs] == [rid for t in ticks for rid in t.run_ids]
    assert [r.tags["deras/tick_time"] for r in runs] == [
        "2025-01-06T01:00:00+00:00",
        "2025-01-06T02:00:00+00:00",
        "2025-01-06T03:00:00+00:00",
    ]
    assert {(r.status, r.job_name, r.tags["deras/schedule"]) for r in runs} == {
        (RunStatus.QUEUED, "numbers_job", "hourly")
    }


def test_a_fresh_ticker_at_the_same_time_creates_nothing_more(make_instance):
    """The in-memory "next due" of a ticker is an optimisation: the database decides."""
    instance = make_instance()
    defs = _defs(_hourly())
    _start(instance, "schedule:hourly", T0)
    for _ in range(3):
        _ticker(instance, defs).tick(T0 + 2 * HOUR)
    assert len(_ticks(instance, "schedule:hourly")) == 2
    assert len(_runs(instance)) == 2


def test_two_daemons_on_one_database_create_one_run_per_tick(make_instance):
    first = make_instance()
    second = make_instance()  # its own engine and connections, as another process would have
    defs = _defs(_hourly())
    _start(first, "schedule:hourly", T0)
    tickers = [_ticker(first, defs), _ticker(second, defs)]
    assert tickers[0].ctx.owner != tickers[1].ctx.owner
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def daemon(ticker: ScheduleTicker) -> None:
        try:
            for hour in range(1, 21):
                barrier.wait(timeout=10)
                ticker.tick(T0 + hour * HOUR + 1)
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=daemon, args=(t,)) for t in tickers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    ticks = _ticks(first, "schedule:hourly")
    assert [t.tick_time for t in ticks] == [T0 + h * HOUR for h in range(1, 21)]
    assert all(len(t.run_ids) == 1 for t in ticks)
    runs = _runs(first)
    assert len(runs) == 20
    assert len({r.tags["deras/tick_time"] for r in runs}) == 20


# ============================================================================================
# on and off
# ============================================================================================


def test_a_schedule_stopped_by_default_makes_no_ticks(make_instance):
    instance = make_instance()
    ticker = _ticker(instance, _defs(_hourly()))  # default_status is STOPPED
    for hour in range(1, 5):
        ticker.tick(T0 + hour * HOUR + 1)
    assert _ticks(instance, "schedule:hourly") == []
    assert _runs(instance) == []


def test_a_stopped_schedule_makes_no_ticks_even_if_running_by_default(make_instance):
    instance = make_instance()
    ticker = _ticker(instance, _defs(_hourly(default_status=dg.DefaultScheduleStatus.RUNNING)))
    instance.store.ticks.set_status("schedule:hourly", "stopped", T0)
    for hour in range(1, 5):
        ticker.tick(T0 + hour * HOUR + 1)
    assert _ticks(instance, "schedule:hourly") == []


def test_a_schedule_started_later_owes_ticks_only_from_its_start(make_instance):
    instance = make_instance({"daemon": {"max_catchup_ticks": 100}})
    ticker = _ticker(instance, _defs(_hourly()))
    ticker.tick(T0 + 5 * HOUR + 1)  # stopped: nothing
    _start(instance, "schedule:hourly", T0 + 5 * HOUR + 30)
    ticker.tick(T0 + 7 * HOUR + 1)
    assert [t.tick_time for t in _ticks(instance, "schedule:hourly")] == [T0 + 6 * HOUR, T0 + 7 * HOUR]


def test_stopping_then_starting_skips_the_ticks_while_stopped(make_instance):
    instance = make_instance({"daemon": {"max_catchup_ticks": 100}})
    ticker = _ticker(instance, _defs(_hourly()))
    _start(instance, "schedule:hourly", T0)
    ticker.tick(T0 + HOUR + 1)
    instance.store.ticks.set_status("schedule:hourly", "stopped", T0 + HOUR + 2)
    ticker.tick(T0 + 3 * HOUR + 1)
    _start(instance, "schedule:hourly", T0 + 4 * HOUR + 30)
    ticker.tick(T0 + 5 * HOUR + 1)
    assert [t.tick_time for t in _ticks(instance, "schedule:hourly")] == [T0 + HOUR, T0 + 5 * HOUR]


def test_a_schedule_running_by_default_owes_nothing_before_it_was_first_seen(make_instance):
    instance = make_instance({"daemon": {"max_catchup_ticks": 100}})
    ticker = _ticker(instance, _defs(_hourly(default_status="running")))
    ticker.tick(T0 + 10 * HOUR + 1)
    assert _ticks(instance, "schedule:hourly") == []
    ticker.tick(T0 + 11 * HOUR + 1)
    assert [t.tick_time for t in _ticks(instance, "schedule:hourly")] == [T0 + 11 * HOUR]


def test_after_downtime_only_the_latest_max_catchup_ticks_run(make_instance):
    instance = make_instance({"daemon": {"max_catchup_ticks": 2}})
    ticker = _ticker(instance, _defs(_hourly()))
    _start(instance, "schedule:hourly", T0)
    ticker.tick(T0 + HOUR + 1)
    _ticker(instance, _defs(_hourly())).tick(T0 + 10 * HOUR + 1)  # a daemon restarted after 9 hours
    times = [t.tick_time for t in _ticks(instance, "schedule:hourly")]
    assert times == [T0 + HOUR, T0 + 9 * HOUR, T0 + 10 * HOUR]
    assert len(_runs(instance)) == 3


def test_catchup_after_years_of_downtime_evaluates_only_the_last_ticks(make_instance, no_hang):
    instance = make_instance({"daemon": {"max_catchup_ticks": 3}})
    every_minute = dg.ScheduleDefinition(name="minutely", job=numbers_job, cron_schedule="* * * * *")
    ticker = _ticker(instance, _defs(every_minute))
    _start(instance, "schedule:minutely", T0)
    with no_hang(30):  # walking 1.5 million missed minutes one by one would hang here
        ticker.tick(T0 + 3 * 365 * 24 * HOUR + 1)
    assert len(_ticks(instance, "schedule:minutely")) == 3


# ============================================================================================
# what a tick records
# ============================================================================================


def _fn_schedule(name: str, fn, cron: str = "0 * * * *") -> dg.ScheduleDefinition:
    return dg.schedule(cron, job=numbers_job, name=name)(fn)


def test_a_skip_reason_is_recorded_on_the_tick(make_instance):
    instance = make_instance()
    holiday = _fn_schedule("holiday", lambda context: dg.SkipReason("it is a holiday"))
    nothing = _fn_schedule("nothing", lambda context: None)
    ticker = _ticker(instance, _defs(holiday, nothing))
    _start(instance, "schedule:holiday", T0)
    _start(instance, "schedule:nothing", T0)
    ticker.tick(T0 + HOUR + 1)
    (skipped,) = _ticks(instance, "schedule:holiday")
    assert (skipped.status, skipped.skip_reason, skipped.run_ids) == (
        TickStatus.SKIPPED,
        "it is a holiday",
        [],
    )
    (empty,) = _ticks(instance, "schedule:nothing")
    assert empty.status == TickStatus.SKIPPED and "no run" in empty.skip_reason
    assert _runs(instance) == []


def test_run_requests_of_a_tick_become_runs_with_their_tags_and_config(make_instance):
    instance = make_instance()

    def two(context):
        stamp = context.scheduled_execution_time.strftime("%H")
        return [
            dg.RunRequest(run_key=f"a-{stamp}", tags={"part": "a"}),
            dg.RunRequest(run_key=f"b-{stamp}", tags={"part": "b"}, run_config={"ops": {}}),
        ]

    ticker = _ticker(instance, _defs(_fn_schedule("two", two)))
    _start(instance, "schedule:two", T0)
    ticker.tick(T0 + HOUR + 1)
    ticker.tick(T0 + HOUR + 1)
    (tick,) = _ticks(instance, "schedule:two")
    runs = [instance.get_run(r) for r in tick.run_ids]
    assert [(r.tags["part"], r.tags["deras/run_key"]) for r in runs] == [("a", "a-01"), ("b", "b-01")]
    assert runs[1].run_config == {"ops": {}}
    assert len(_runs(instance)) == 2


def test_a_raising_schedule_fails_its_tick_and_the_others_go_on(make_instance):
    instance = make_instance()

    def broken(context):
        raise ValueError("the calendar service is down")

    ticker = _ticker(instance, _defs(_fn_schedule("broken", broken), _hourly("healthy")))
    _start(instance, "schedule:broken", T0)
    _start(instance, "schedule:healthy", T0)
    ticker.tick(T0 + HOUR + 1)
    (failed,) = _ticks(instance, "schedule:broken")
    assert failed.status == TickStatus.FAILURE and failed.run_ids == []
    assert "ValueError: the calendar service is down" in failed.error
    assert "Traceback" in failed.error and "in broken" in failed.error
    (ok,) = _ticks(instance, "schedule:healthy")
    assert ok.status == TickStatus.SUCCESS and len(ok.run_ids) == 1
    ticker.tick(T0 + 2 * HOUR + 1)  # a failed tick is not retried; the next one happens
    assert [t.status for t in _ticks(instance, "schedule:broken")] == [TickStatus.FAILURE] * 2


@pytest.mark.parametrize(
    ("returned", "named"), [(42, "int"), ("tomorrow", "str"), ([dg.RunRequest(), 3.5], "float")]
)
def test_a_schedule_returning_garbage_fails_its_tick_naming_the_type(make_instance, returned, named):
    instance = make_instance()
    ticker = _ticker(instance, _defs(_fn_schedule("garbage", lambda context: returned)))
    _start(instance, "schedule:garbage", T0)
    ticker.tick(T0 + HOUR + 1)
    (tick,) = _ticks(instance, "schedule:garbage")
    assert tick.status == TickStatus.FAILURE
    assert f"returned {named}" in tick.error or f"holding {named}" in tick.error
    assert "schedule 'garbage'" in tick.error
    assert _runs(instance) == []


def test_a_schedule_calling_sys_exit_fails_its_tick_and_the_daemon_goes_on(make_instance):
    import sys

    instance = make_instance()
    quitter = _fn_schedule("quitter", lambda context: sys.exit(3))
    ticker = _ticker(instance, _defs(quitter, _hourly("healthy")))
    _start(instance, "schedule:quitter", T0)
    _start(instance, "schedule:healthy", T0)
    ticker.tick(T0 + HOUR + 1)
    (tick,) = _ticks(instance, "schedule:quitter")
    assert tick.status == TickStatus.FAILURE and "SystemExit" in tick.error
    assert _ticks(instance, "schedule:healthy")[0].status == TickStatus.SUCCESS


def test_a_schedules_own_timeout_error_is_not_mistaken_for_hanging(make_instance):
    instance = make_instance({"daemon": {"evaluation_timeout_seconds": 5}})

    def network(context):
        raise TimeoutError("the API did not answer")

    ticker = _ticker(instance, _defs(_fn_schedule("network", network)))
    _start(instance, "schedule:network", T0)
    ticker.tick(T0 + HOUR + 1)
    (tick,) = _ticks(instance, "schedule:network")
    assert "the API did not answer" in tick.error and "did not return within" not in tick.error


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown, so a "hanging" schedule's abandoned thread ends with the test."""
    event = threading.Event()
    yield event
    event.set()


def test_a_schedule_that_hangs_fails_its_tick_and_others_still_tick(make_instance, release, no_hang):
    instance = make_instance({"daemon": {"evaluation_timeout_seconds": 0.5}})
    hanging = _fn_schedule("hanging", lambda context: release.wait(120))
    ticker = _ticker(instance, _defs(hanging, _hourly("after_it")))
    _start(instance, "schedule:hanging", T0)
    _start(instance, "schedule:after_it", T0)
    with no_hang(30):  # two evaluations that time out after 0.5 s each, not 120 s
        ticker.tick(T0 + HOUR + 1)
        ticker.tick(T0 + 2 * HOUR + 1)
    hung = _ticks(instance, "schedule:hanging")
    assert [t.status for t in hung] == [TickStatus.FAILURE] * 2
    assert "did not return within 0.5 s" in hung[0].error
    assert [t.status for t in _ticks(instance, "schedule:after_it")] == [TickStatus.SUCCESS] * 2


# ============================================================================================
# daylight saving time, through the daemon
# ============================================================================================

DST_CASES = [
    # zone, cron, a day's noon before and after (local), the one tick expected (local ISO)
    ("Europe/Berlin", "30 2 * * *", "2025-03-29", "2025-03-30T03:00:00+02:00"),  # 02:30 does not exist
    ("Europe/Berlin", "30 2 * * *", "2025-10-25", "2025-10-26T02:30:00+02:00"),  # 02:30 twice: first
    ("America/New_York", "30 2 * * *", "2025-03-08", "2025-03-09T03:00:00-04:00"),
    ("America/New_York", "30 1 * * *", "2025-11-01", "2025-11-02T01:30:00-04:00"),
    ("Asia/Jakarta", "30 2 * * *", "2025-03-29", "2025-03-30T02:30:00+07:00"),  # no DST: 19:30 UTC
]


@pytest.mark.parametrize(("zone", "cron", "day_before", "expected"), DST_CASES)
def test_dst_days_run_once_by_the_policy(make_instance, zone, cron, day_before, expected):
    from zoneinfo import ZoneInfo

    instance = make_instance()
    nightly = dg.ScheduleDefinition(
        name="nightly", job=numbers_job, cron_schedule=cron, execution_timezone=zone
    )
    ticker = _ticker(instance, _defs(nightly))
    noon = datetime.fromisoformat(day_before).replace(hour=12, tzinfo=ZoneInfo(zone))
    _start(instance, "schedule:nightly", noon.timestamp())
    now = noon.timestamp()
    while now <= noon.timestamp() + 24 * HOUR:  # the daemon passes every 10 minutes for a day
        ticker.tick(now)
        now += 600
    (tick,) = _ticks(instance, "schedule:nightly")
    assert tick.tick_time == datetime.fromisoformat(expected).timestamp()
    (run,) = _runs(instance)
    assert run.tags["deras/tick_time"] == expected
    assert tick.run_ids == [run.run_id]


def test_jakarta_0230_is_1930_utc_the_day_before(make_instance):
    instance = make_instance()
    nightly = dg.ScheduleDefinition(
        name="nightly", job=numbers_job, cron_schedule="30 2 * * *", execution_timezone="Asia/Jakarta"
    )
    ticker = _ticker(instance, _defs(nightly))
    _start(instance, "schedule:nightly", datetime(2025, 6, 14, 12, tzinfo=UTC).timestamp())
    ticker.tick(datetime(2025, 6, 14, 19, 29, tzinfo=UTC).timestamp())
    assert _ticks(instance, "schedule:nightly") == []
    ticker.tick(datetime(2025, 6, 14, 19, 30, 1, tzinfo=UTC).timestamp())
    (tick,) = _ticks(instance, "schedule:nightly")
    assert tick.tick_time == datetime(2025, 6, 14, 19, 30, tzinfo=UTC).timestamp()
    assert _runs(instance)[0].tags["deras/tick_time"] == "2025-06-15T02:30:00+07:00"


# ============================================================================================
# DAGs and partitioned jobs
# ============================================================================================


def _daily_dag(catchup: bool, max_active_runs: int = 16, end_date: datetime | None = None) -> dg.DAG:
    with dg.DAG(
        f"daily_{catchup}",
        schedule="@daily",
        start_date=datetime(2025, 1, 1),
        end_date=end_date,
        catchup=catchup,
        max_active_runs=max_active_runs,
    ) as dag:
        dg.EmptyOperator(task_id="noop")
    return dag


def _dag_runs(instance, dag_id: str) -> list:
    runs = instance.get_runs(tags={"deras/dag_id": dag_id})
    return sorted(runs, key=lambda r: r.tags["deras/logical_date"])


NOW_JAN_6 = datetime(2025, 1, 6, 0, 30, tzinfo=UTC).timestamp()


def test_a_dag_with_catchup_queues_every_missed_interval(make_instance):
    instance = make_instance()
    ticker = _ticker(instance, _defs(dags=(_daily_dag(catchup=True),)))
    ticker.tick(NOW_JAN_6)
    ticker.tick(NOW_JAN_6 + 5)
    runs = _dag_runs(instance, "daily_True")
    assert [r.tags["deras/logical_date"][:10] for r in runs] == [f"2025-01-0{d}" for d in range(1, 6)]
    assert {(r.status, r.tags["deras/run_type"]) for r in runs} == {(RunStatus.QUEUED, "scheduled")}
    assert len(_ticks(instance, "dag:daily_True")) == 5


@pytest.mark.parametrize("catchup", [True, False])
def test_a_dag_gets_no_scheduled_run_past_its_end_date(make_instance, catchup):
    instance = make_instance()
    ticker = _ticker(instance, _defs(dags=(_daily_dag(catchup, end_date=datetime(2025, 1, 3)),)))
    ticker.tick(NOW_JAN_6)
    dates = [r.tags["deras/logical_date"][:10] for r in _dag_runs(instance, f"daily_{catchup}")]
    assert dates == (["2025-01-01", "2025-01-02", "2025-01-03"] if catchup else [])


def test_a_schedule_of_a_dag_past_its_end_date_fails_its_tick_saying_why(make_instance):
    with dg.DAG(
        "ended", schedule=None, start_date=datetime(2025, 1, 1), end_date=datetime(2025, 1, 5)
    ) as dag:
        dg.EmptyOperator(task_id="noop")
    hourly_dag = dg.ScheduleDefinition(name="ended_hourly", job=dag, cron_schedule="0 * * * *")
    instance = make_instance()
    _start(instance, "schedule:ended_hourly", T0)
    _ticker(instance, _defs(hourly_dag, dags=(dag,))).tick(T0 + HOUR + 5)
    (tick,) = _ticks(instance, "schedule:ended_hourly")
    assert tick.status == TickStatus.FAILURE and "after its end_date 2025-01-05" in tick.error
    assert _dag_runs(instance, "ended") == []


def test_dag_catchup_is_limited_by_max_active_runs(make_instance):
    instance = make_instance()
    ticker = _ticker(instance, _defs(dags=(_daily_dag(catchup=True, max_active_runs=2),)))
    ticker.tick(NOW_JAN_6)
    ticker.tick(NOW_JAN_6 + 2)
    first = _dag_runs(instance, "daily_True")
    assert [r.tags["deras/logical_date"][:10] for r in first] == ["2025-01-01", "2025-01-02"]
    for run in first:
        instance.cancel_run(run.run_id)  # finished: room for two more
    ticker.tick(NOW_JAN_6 + 4)
    assert len(_dag_runs(instance, "daily_True")) == 4
    ticker.tick(NOW_JAN_6 + 6)
    assert len(_dag_runs(instance, "daily_True")) == 4


def test_a_dag_without_catchup_queues_only_the_latest_interval(make_instance):
    instance = make_instance()
    ticker = _ticker(instance, _defs(dags=(_daily_dag(catchup=False),)))
    ticker.tick(NOW_JAN_6)
    ticker.tick(NOW_JAN_6 + 5)
    (run,) = _dag_runs(instance, "daily_False")
    assert run.tags["deras/logical_date"].startswith("2025-01-05")
    ticker.tick(NOW_JAN_6 + 24 * HOUR)
    assert [r.tags["deras/logical_date"][:10] for r in _dag_runs(instance, "daily_False")] == [
        "2025-01-05",
        "2025-01-06",
    ]


def test_a_schedule_from_a_partitioned_job_runs_each_completed_partition(make_instance):
    daily = dg.DailyPartitionsDefinition("2025-01-01")

    @dg.asset(partitions_def=daily)
    def sales(context) -> str:
        return context.partition_key

    job = dg.define_asset_job("sales_job", selection=[sales], partitions_def=daily)
    schedule = dg.build_schedule_from_partitioned_job(job)
    instance = make_instance()
    ticker = _ticker(instance, dg.Definitions(assets=[sales], jobs=[job], schedules=[schedule]))
    _start(instance, f"schedule:{schedule.name}", datetime(2025, 1, 3, 12, tzinfo=UTC).timestamp())
    ticker.tick(datetime(2025, 1, 5, 0, 0, 1, tzinfo=UTC).timestamp())
    runs = _runs(instance)
    assert [r.partition_key for r in runs] == ["2025-01-03", "2025-01-04"]
    assert {r.job_name for r in runs} == {"sales_job"}
    assert [t.status for t in _ticks(instance, f"schedule:{schedule.name}")] == [TickStatus.SUCCESS] * 2


def test_next_due_is_the_next_cron_time(make_instance):
    instance = make_instance()
    ticker = _ticker(instance, _defs(_hourly()))
    _start(instance, "schedule:hourly", T0)
    ticker.tick(T0 + 10)
    assert ticker.next_due() == T0 + HOUR
    ticker.tick(T0 + HOUR + timedelta(minutes=1).total_seconds())
    assert ticker.next_due() == T0 + 2 * HOUR


def test_a_schedule_of_a_dag_gives_each_tick_its_own_logical_date(make_instance):
    with dg.DAG("by_hand", schedule=None) as dag:
        dg.EmptyOperator(task_id="noop")
    hourly_dag = dg.ScheduleDefinition(name="dag_hourly", job=dag, cron_schedule="0 * * * *")
    instance = make_instance()
    ticker = _ticker(instance, _defs(hourly_dag, dags=(dag,)))
    _start(instance, "schedule:dag_hourly", T0)
    ticker.tick(T0 + 3 * HOUR + 5)  # three ticks caught up in one pass
    runs = sorted(_dag_runs(instance, "by_hand"), key=lambda r: r.tags["deras/tick_time"])
    assert [r.tags["deras/logical_date"] for r in runs] == [r.tags["deras/tick_time"] for r in runs]
    assert len({r.tags["deras/logical_date"] for r in runs}) == 3
    assert {r.tags["deras/run_type"] for r in runs} == {"scheduled"}


# ============================================================================================
# a daemon that died mid-tick
# ============================================================================================


class Died(BaseException):
    """Stands in for SIGKILL at a crash point: nothing after it runs, no handler catches it."""


def _dead_owner() -> str:
    """The owner string of a daemon process on this host that has exited."""
    import socket
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}:dead00"


def _die_at(monkeypatch, point: str) -> None:
    import deras._daemon.schedule_ticker as module

    def crash(name: str) -> None:
        if name == point:
            raise Died(name)

    monkeypatch.setattr(module, "crash_point", crash)


@pytest.mark.parametrize("point", ["tick created", "run created"])
def test_a_tick_left_started_by_a_dead_daemon_is_finished_with_one_run(make_instance, monkeypatch, point):
    instance = make_instance()
    defs = _defs(_hourly())
    _start(instance, "schedule:hourly", T0)
    dead = ScheduleTicker(DaemonContext(instance, defs, None, owner=_dead_owner()))
    _die_at(monkeypatch, point)
    with pytest.raises(Died):
        dead.tick(T0 + HOUR + 1)
    monkeypatch.undo()
    (left,) = _ticks(instance, "schedule:hourly")
    assert left.status == TickStatus.STARTED
    _ticker(instance, defs).tick(T0 + HOUR + 5)  # its owner is gone: taken over at once
    (tick,) = _ticks(instance, "schedule:hourly")
    assert (tick.id, tick.status) == (left.id, TickStatus.SUCCESS)
    (run,) = _runs(instance)
    assert tick.run_ids == [run.run_id]


def test_a_tick_of_a_daemon_on_another_host_is_taken_over_when_its_lease_ends(make_instance):
    instance = make_instance({"daemon": {"evaluation_timeout_seconds": 10}})  # lease: 10 + 30 s
    defs = _defs(_hourly())
    _start(instance, "schedule:hourly", T0)
    claimed = instance.store.ticks.claim_tick("schedule:hourly", T0 + HOUR, "elsewhere:1:abc", T0 + HOUR, 40)
    assert claimed is not None
    ticker = _ticker(instance, defs)
    ticker.tick(T0 + HOUR + 10)
    assert _ticks(instance, "schedule:hourly")[0].status == TickStatus.STARTED
    assert ticker.next_due() == T0 + HOUR + 40  # looks again when the lease ends, not in an hour
    ticker.tick(T0 + HOUR + 41)
    (tick,) = _ticks(instance, "schedule:hourly")
    assert tick.status == TickStatus.SUCCESS and len(tick.run_ids) == 1
