"""The sensor runner: cursors kept with their ticks, intervals respected, a run_key launched once, ever."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import deras as dg
from deras._core.records import RunTarget
from deras._core.status import RunStatus, TickStatus
from deras._daemon.daemon_context import DaemonContext
from deras._daemon.sensor_runner import SensorRunner

T0 = 1_750_000_020.0  # a multiple of 30 and 60: the start of an interval slot


@dg.asset
def numbers() -> int:
    return 1


@dg.asset
def report() -> str:
    return "report"


@dg.asset
def boom() -> None:
    raise ValueError("boom went the asset")


numbers_job = dg.define_asset_job("numbers_job", selection=[numbers])
report_job = dg.define_asset_job("report_job", selection=[report])
files = dg.DynamicPartitionsDefinition(name="files")
days = dg.StaticPartitionsDefinition(["mon", "tue"])


@dg.asset(partitions_def=files)
def file_rows(context) -> str:
    return context.partition_key


@dg.asset(partitions_def=days)
def per_day(context) -> str:
    return context.partition_key


files_job = dg.define_asset_job("files_job", selection=[file_rows], partitions_def=files)
days_job = dg.define_asset_job("days_job", selection=[per_day], partitions_def=days)


def _defs(*sensors) -> dg.Definitions:
    return dg.Definitions(
        assets=[numbers, report, boom, file_rows, per_day],
        jobs=[numbers_job, report_job, files_job, days_job],
        sensors=list(sensors),
    )


def _runner(instance, defs) -> SensorRunner:
    return SensorRunner(DaemonContext(instance, defs, None))


def _ticks(instance, name: str) -> list:
    return list(reversed(instance.store.ticks.get_ticks(f"sensor:{name}")))  # oldest first


def _runs(instance) -> list:
    return list(reversed(instance.get_runs()))


def _run_job(instance, defs, job_name: str) -> str:
    """Run the job ``job_name`` in this process, as a worker would; returns the run id."""
    from deras._exec.launch import execute_run
    from deras._plan.plan import plan_run

    job = next(j for j in defs.jobs if j.name == job_name)
    plan = plan_run(defs.asset_graph, node_ids=sorted(job.node_ids))
    result = execute_run(instance, plan, defs.resources, target=RunTarget.job(job_name))
    return result.run_id


def _running(**kwargs):
    return dg.sensor(default_status=dg.DefaultSensorStatus.RUNNING, **kwargs)


# ============================================================================================
# cursor and interval
# ============================================================================================


def test_the_cursor_is_kept_between_ticks(make_instance):
    instance = make_instance()
    seen: list[str | None] = []

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def counter(context):
        seen.append(context.cursor)
        context.update_cursor(str(int(context.cursor or 0) + 1))
        return dg.SkipReason("counting")

    runner = _runner(instance, _defs(counter))
    for k in range(3):
        runner.tick(T0 + 30 * k)
    assert seen == [None, "1", "2"]
    assert instance.store.ticks.get_state("sensor:counter").cursor == "3"
    assert [t.cursor for t in _ticks(instance, "counter")] == ["1", "2", "3"]
    _runner(instance, _defs(counter)).tick(T0 + 90)  # a restarted daemon reads it back
    assert seen[-1] == "3"


def test_the_cursor_of_a_failed_tick_is_not_saved(make_instance):
    instance = make_instance()

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def flaky(context):
        n = int(context.cursor or 0) + 1
        context.update_cursor(str(n))
        if n == 2:
            raise RuntimeError("lost the connection")
        return dg.SkipReason("ok")

    runner = _runner(instance, _defs(flaky))
    runner.tick(T0)
    runner.tick(T0 + 30)
    ticks = _ticks(instance, "flaky")
    assert [t.status for t in ticks] == [TickStatus.SKIPPED, TickStatus.FAILURE]
    assert "RuntimeError: lost the connection" in ticks[1].error
    assert instance.store.ticks.get_state("sensor:flaky").cursor == "1"
    runner.tick(T0 + 60)  # evaluated again from the cursor of the last good tick: fails again
    assert _ticks(instance, "flaky")[-1].status == TickStatus.FAILURE


def test_a_sensor_is_evaluated_at_most_once_per_minimum_interval(make_instance):
    instance = make_instance()
    calls: list[int] = []

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def watcher(context):
        calls.append(1)

    runner = _runner(instance, _defs(watcher))
    for offset in (0, 1, 10, 29.9):
        runner.tick(T0 + offset)
    assert len(calls) == 1
    runner.tick(T0 + 30)
    assert len(calls) == 2
    assert _runner(instance, _defs(watcher)).next_due() is None
    _runner(instance, _defs(watcher)).tick(T0 + 45)  # another daemon, within the same interval
    assert len(calls) == 2
    assert len(_ticks(instance, "watcher")) == 2


def test_the_minimum_interval_holds_across_interval_boundaries(make_instance):
    """Evaluated at 29 s, a sensor with a 30 s interval is not evaluated again at 31 s."""
    instance = make_instance()
    calls: list[float] = []

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def watcher(context):
        calls.append(1)

    runner = _runner(instance, _defs(watcher))
    runner.tick(T0 + 29)
    runner.tick(T0 + 31)
    _runner(instance, _defs(watcher)).tick(T0 + 32)  # nor by another daemon
    assert len(calls) == 1
    runner.tick(T0 + 59)
    assert len(calls) == 2


def test_a_stopped_sensor_is_not_evaluated(make_instance):
    instance = make_instance()
    calls: list[int] = []

    @dg.sensor(job=numbers_job, minimum_interval_seconds=30)  # stopped by default
    def quiet(context):
        calls.append(1)

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def stopped(context):
        calls.append(2)

    instance.store.ticks.set_status("sensor:stopped", "stopped", T0)
    _runner(instance, _defs(quiet, stopped)).tick(T0)
    assert calls == [] and _ticks(instance, "quiet") == [] and _ticks(instance, "stopped") == []


# ============================================================================================
# run keys
# ============================================================================================


def test_a_run_key_launches_at_most_once_ever(make_instance):
    instance = make_instance()
    keys = [["file-1"], ["file-1"], ["file-1", "file-2"]]
    last_keys: list[str | None] = []

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def new_files(context):
        last_keys.append(context.last_run_key)
        return [dg.RunRequest(run_key=k) for k in keys.pop(0)]

    runner = _runner(instance, _defs(new_files))
    for k in range(3):
        runner.tick(T0 + 30 * k)
    ticks = _ticks(instance, "new_files")
    assert [t.status for t in ticks] == [TickStatus.SUCCESS, TickStatus.SKIPPED, TickStatus.SUCCESS]
    assert "has run before" in ticks[1].skip_reason
    runs = _runs(instance)
    assert [r.tags["deras/run_key"] for r in runs] == ["file-1", "file-2"]
    assert [len(t.run_ids) for t in ticks] == [1, 0, 1]
    assert ticks[2].run_ids == [runs[1].run_id]
    assert last_keys == [None, "file-1", "file-1"]
    assert {(r.status, r.job_name, r.tags["deras/sensor"]) for r in runs} == {
        (RunStatus.QUEUED, "numbers_job", "new_files")
    }


def test_two_daemons_evaluate_a_sensor_once_per_interval(make_instance):
    first, second = make_instance(), make_instance()
    calls: list[int] = []
    lock = threading.Lock()

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def shared(context):
        with lock:
            calls.append(1)
        return dg.RunRequest(run_key=f"k{len(calls)}")

    runners = [_runner(first, _defs(shared)), _runner(second, _defs(shared))]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def daemon(runner: SensorRunner) -> None:
        try:
            for k in range(10):
                barrier.wait(timeout=10)
                runner.tick(T0 + 30 * k + 1)
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=daemon, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(calls) == 10
    assert len(_ticks(first, "shared")) == 10
    assert len(_runs(first)) == 10


# ============================================================================================
# errors
# ============================================================================================


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_a_hanging_or_garbage_returning_sensor_fails_its_tick(make_instance, release, no_hang):
    instance = make_instance({"daemon": {"evaluation_timeout_seconds": 0.5}})

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def hangs(context):
        release.wait(60)

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def garbage(context):
        return {"not": "a run request"}

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def healthy(context):
        return dg.RunRequest(run_key="x")

    with no_hang(30):  # the hanging sensor waits 60 s unless its evaluation times out
        _runner(instance, _defs(hangs, garbage, healthy)).tick(T0)
    (hung,) = _ticks(instance, "hangs")
    assert hung.status == TickStatus.FAILURE and "did not return within 0.5 s" in hung.error
    (bad,) = _ticks(instance, "garbage")
    assert bad.status == TickStatus.FAILURE and "returned dict" in bad.error
    (ok,) = _ticks(instance, "healthy")
    assert ok.status == TickStatus.SUCCESS


def test_a_bad_partition_key_fails_the_tick_and_creates_nothing(make_instance):
    instance = make_instance()

    @_running(job=days_job, minimum_interval_seconds=30)
    def some_days(context):
        return [
            dg.RunRequest(run_key="a", partition_key="mon"),
            dg.RunRequest(run_key="b", partition_key="sun"),
        ]

    _runner(instance, _defs(some_days)).tick(T0)
    (tick,) = _ticks(instance, "some_days")
    assert tick.status == TickStatus.FAILURE
    assert "sun" in tick.error
    assert _runs(instance) == []


# ============================================================================================
# kinds of sensors
# ============================================================================================


def test_an_asset_sensor_fires_on_each_new_materialization(make_instance):
    instance = make_instance()

    @dg.asset_sensor(
        asset_key=dg.AssetKey("numbers"),
        job=report_job,
        minimum_interval_seconds=30,
        default_status="running",
    )
    def numbers_updated(context, asset_event):
        return dg.RunRequest(run_key=asset_event.run_id)

    runner = _runner(instance, _defs(numbers_updated))
    runner.tick(T0)
    assert _ticks(instance, "numbers_updated")[0].skip_reason == "no new materialization of numbers"
    first = dg.materialize([numbers], instance=instance).run_id
    runner.tick(T0 + 30)
    runner.tick(T0 + 60)
    second = dg.materialize([numbers], instance=instance).run_id
    runner.tick(T0 + 90)
    ticks = _ticks(instance, "numbers_updated")
    assert [t.status for t in ticks] == [
        TickStatus.SKIPPED,
        TickStatus.SUCCESS,
        TickStatus.SKIPPED,
        TickStatus.SUCCESS,
    ]
    runs = [r for r in _runs(instance) if r.job_name == "report_job"]
    assert [r.tags["deras/run_key"] for r in runs] == [first, second]


def test_a_run_failure_sensor_sees_runs_that_failed_after_it_started(make_instance):
    instance = make_instance()
    failed: list[str] = []
    before = dg.materialize([boom], instance=instance, raise_on_error=False).run_id  # history

    @dg.run_failure_sensor(minimum_interval_seconds=30, default_status="running")
    def on_failure(context):
        failed.append(context.run.run_id)
        assert "boom went the asset" in (context.failure_event.message or "") + str(
            context.failure_event.data
        )

    runner = _runner(instance, _defs(on_failure))
    now = time.time()
    runner.tick(now)
    ok = dg.materialize([numbers], instance=instance).run_id
    bad = dg.materialize([boom], instance=instance, raise_on_error=False).run_id
    runner.tick(now + 30)
    runner.tick(now + 60)
    assert failed == [bad]
    assert before not in failed and ok not in failed
    ticks = _ticks(instance, "on_failure")
    assert len(ticks) == 3 and {t.status for t in ticks} == {TickStatus.SKIPPED}  # it requested no run
    assert "no run ended with status failure" in ticks[2].skip_reason


def test_a_run_status_sensor_requests_runs_for_succeeded_runs(make_instance):
    instance = make_instance()

    @dg.run_status_sensor(
        run_status=dg.RunStatus.SUCCESS,
        monitored_jobs=["numbers_job"],
        request_job=report_job,
        minimum_interval_seconds=30,
        default_status="running",
    )
    def after_numbers(context):
        return dg.RunRequest(run_key=context.run.run_id)

    runner = _runner(instance, _defs(after_numbers))
    now = time.time()
    runner.tick(now)
    done = _run_job(instance, runner.ctx.definitions, "numbers_job")
    dg.materialize([report], instance=instance)  # not a monitored job
    runner.tick(now + 30)
    runs = [r for r in _runs(instance) if r.job_name == "report_job" and r.status == RunStatus.QUEUED]
    assert [r.tags["deras/run_key"] for r in runs] == [done]


def test_dynamic_partitions_requests_add_keys_and_runs_use_them(make_instance):
    instance = make_instance()

    @_running(job=files_job, minimum_interval_seconds=30)
    def new_files(context):
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key="a.csv", partition_key="a.csv")],
            dynamic_partitions_requests=[files.build_add_request(["a.csv"])],
        )

    _runner(instance, _defs(new_files)).tick(T0)
    assert instance.get_dynamic_partitions("files") == ["a.csv"]
    (tick,) = _ticks(instance, "new_files")
    assert tick.status == TickStatus.SUCCESS
    (run,) = _runs(instance)
    assert (run.partition_key, run.job_name, run.run_id) == ("a.csv", "files_job", tick.run_ids[0])


def test_a_run_request_for_an_unknown_dynamic_partition_fails_the_tick(make_instance):
    instance = make_instance()

    @_running(job=files_job, minimum_interval_seconds=30)
    def forgot_to_add(context):
        return dg.RunRequest(run_key="b.csv", partition_key="b.csv")

    _runner(instance, _defs(forgot_to_add)).tick(T0)
    (tick,) = _ticks(instance, "forgot_to_add")
    assert tick.status == TickStatus.FAILURE and "b.csv" in tick.error
    assert _runs(instance) == []


def test_manual_tick_evaluates_a_stopped_sensor_once(make_instance):
    instance = make_instance()

    @dg.sensor(job=numbers_job)
    def manual(context):
        return dg.RunRequest(run_key="only")

    runner = _runner(instance, _defs(manual))
    first = runner.tick_sensor("manual", T0)
    second = runner.tick_sensor("manual", T0 + 1)
    assert first.status == TickStatus.SUCCESS and len(first.run_ids) == 1
    assert second.status == TickStatus.SKIPPED and "has run before" in second.skip_reason


# ============================================================================================
# a daemon that died mid-tick
# ============================================================================================


class Died(BaseException):
    """Stands in for SIGKILL at a crash point: nothing after it runs, no handler catches it."""


def _dead_owner() -> str:
    import socket
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}:dead00"


@pytest.mark.parametrize("point", ["tick created", "run created"])
def test_a_sensor_tick_left_started_by_a_dead_daemon_is_finished_from_its_cursor(
    make_instance, monkeypatch, point
):
    import deras._daemon.sensor_runner as module

    instance = make_instance()
    cursors: list[str | None] = []

    @_running(job=numbers_job, minimum_interval_seconds=30)
    def files_seen(context):
        cursors.append(context.cursor)
        n = int(context.cursor or 0)
        context.update_cursor(str(n + 1))
        return dg.RunRequest(run_key=f"file-{n}")

    def crash(name: str) -> None:
        if name == point:
            raise Died(name)

    dead = SensorRunner(DaemonContext(instance, _defs(files_seen), None, owner=_dead_owner()))
    monkeypatch.setattr(module, "crash_point", crash)
    with pytest.raises(Died):
        dead.tick(T0)
    monkeypatch.undo()
    runner = _runner(instance, _defs(files_seen))
    runner.tick(T0 + 30)
    runner.tick(T0 + 60)
    ticks = _ticks(instance, "files_seen")
    assert [(t.tick_time, t.status) for t in ticks] == [
        (T0, TickStatus.SUCCESS),
        (T0 + 60, TickStatus.SUCCESS),
    ]
    runs = _runs(instance)
    assert [r.tags["deras/run_key"] for r in runs] == ["file-0", "file-1"]
    assert [t.run_ids for t in ticks] == [[runs[0].run_id], [runs[1].run_id]]
    evaluated_before_dying = [None] if point == "run created" else []
    assert cursors == [*evaluated_before_dying, None, "1"]
    assert instance.store.ticks.get_state("sensor:files_seen").cursor == "2"
