"""Code servers in real processes: the web side gets snapshots and launches, never user code."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from deras._code_server import CodeLocation, CodeLocations, CodeServerError, LaunchRejected
from deras._core.status import RunStatus
from deras._snapshot import CodeSnapshot, LoadErrorSnap, LocationRef

pytestmark = pytest.mark.slow  # each test starts Python processes

SHARE_PRICES = Path(__file__).parents[2] / "examples" / "share_prices" / "definitions.py"

CODE = """
import deras as dg

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")

@dg.asset(partitions_def=daily, group_name="prices")
def prices(context):
    return 1

@dg.asset
def report():
    return 2
"""


@pytest.fixture
def location(tmp_path: Path):  # type: ignore[no-untyped-def]
    made: list[CodeLocation] = []

    def make(source: str | None = None, *, path: Path | None = None, **kwargs) -> CodeLocation:  # type: ignore[no-untyped-def]
        if path is None:
            path = tmp_path / "my_defs_module.py"
            path.write_text(textwrap.dedent(source or CODE))
        loc = CodeLocation(LocationRef(file=str(path)), **kwargs)
        made.append(loc)
        return loc

    yield make
    for loc in made:
        loc.stop()


def _user_modules() -> list[str]:
    return [m for m in sys.modules if m.startswith("deras_code_") or "share_prices" in m or "my_defs" in m]


def test_snapshot_of_the_example_comes_from_another_process(location, no_hang) -> None:  # type: ignore[no-untyped-def]
    loc = location(path=SHARE_PRICES)
    before = _user_modules()  # other tests of this session may have loaded the example here
    with no_hang(60):
        snap = loc.snapshot()
    assert isinstance(snap, CodeSnapshot)
    assert [a.key for a in snap.assets] == ["import_file", "duckdb_table"]
    assert [c.name for c in snap.checks] == ["not_empty"]
    assert loc.pid is not None and loc.pid != os.getpid()
    assert _user_modules() == before  # the definitions were not imported here
    assert loc.snapshot() is snap  # cached until reload


def test_a_syntax_error_is_a_load_error_and_the_server_stays_up(location, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loc = location("import deras as dg\n\n@dg.asset\ndef broken(:\n    return 1\n")
    snap = loc.snapshot()
    assert isinstance(snap, LoadErrorSnap)
    assert snap.file == str(tmp_path / "my_defs_module.py") and snap.line == 4
    assert "SyntaxError" in snap.message and "def broken(:" in snap.traceback
    assert loc.ping()["loaded"] is False  # up, and answering
    with pytest.raises(LaunchRejected, match="did not load"):
        loc.launch({"selection": "broken"})

    (tmp_path / "my_defs_module.py").write_text(textwrap.dedent(CODE))
    fixed = loc.reload()
    assert isinstance(fixed, CodeSnapshot) and [a.key for a in fixed.assets] == ["prices", "report"]


def test_an_exception_at_import_names_the_users_line(location, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    snap = location("import deras as dg\n\nx = 1\nraise RuntimeError('no config')\n").snapshot()
    assert isinstance(snap, LoadErrorSnap)
    assert (snap.message, snap.line) == ("RuntimeError: no config", 4)
    assert "raise RuntimeError('no config')" in snap.traceback


def test_a_module_that_exits_is_a_load_error_too(location) -> None:  # type: ignore[no-untyped-def]
    snap = location("import sys\nsys.exit(3)\n").snapshot()
    assert isinstance(snap, LoadErrorSnap) and "SystemExit" in snap.message


def test_a_definition_error_is_reported_with_its_message(location) -> None:  # type: ignore[no-untyped-def]
    snap = location("import deras as dg\n\n@dg.asset\ndef b(missing):\n    return 1\n").snapshot()
    assert isinstance(snap, LoadErrorSnap) and "missing" in snap.message


def test_a_server_killed_from_outside_is_started_again_on_the_next_call(location) -> None:  # type: ignore[no-untyped-def]
    loc = location()
    assert isinstance(loc.snapshot(), CodeSnapshot)
    first = loc.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    assert loc.ping()["pid"] not in (None, first)
    assert isinstance(loc.snapshot(), CodeSnapshot)


def test_reload_keeps_the_old_server_when_the_new_one_cannot_start(location, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loc = location()
    loc.start()  # with the default time limit: a loaded machine may need more than 3 s
    old = loc.pid
    loc.start_timeout = 3  # the new server's code sleeps 60 s: it never comes up
    (tmp_path / "my_defs_module.py").write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(CodeServerError, match="did not come up within 3 s"):
        loc.reload()
    assert loc.pid == old and isinstance(loc.snapshot(), CodeSnapshot)


def test_code_that_hangs_while_loading_shows_as_a_load_error(location) -> None:  # type: ignore[no-untyped-def]
    loc = location("import time\ntime.sleep(60)\n", start_timeout=2)
    snap = loc.snapshot()
    assert isinstance(snap, LoadErrorSnap) and "did not come up within 2 s" in snap.message
    assert loc.snapshot() is snap  # not tried again on every call: reload() does


def test_launch_queues_a_run_that_the_daemon_then_runs(location, make_instance) -> None:  # type: ignore[no-untyped-def]
    from deras._daemon.run_worker import execute_stored_run

    instance = make_instance()
    loc = location(instance=instance)
    run_id = loc.launch({"selection": "prices", "partition": "2024-01-05"})
    run = instance.get_run(run_id)
    assert (run.status, run.selection, run.partition_key) == (RunStatus.QUEUED, ["prices"], "2024-01-05")
    assert run.code_location == {"file": loc.location.file}
    assert execute_stored_run(instance, run_id) == RunStatus.SUCCESS


def test_a_bad_partition_is_rejected_naming_it(location, make_instance) -> None:  # type: ignore[no-untyped-def]
    instance = make_instance()
    loc = location(instance=instance)
    with pytest.raises(LaunchRejected, match="'2031-01-01'"):
        loc.launch({"selection": "prices", "partition": "2031-01-01"})
    assert instance.get_runs() == []
    assert loc.ping()["loaded"] is True


def test_concurrent_callers_each_get_their_answer(location, make_instance) -> None:  # type: ignore[no-untyped-def]
    instance = make_instance()
    loc = location(instance=instance)
    loc.start()
    results: list[object] = []

    def call(i: int) -> None:
        try:
            results.append(loc.launch({"selection": "prices", "partition": f"2024-01-{i + 1:02d}"}))
        except Exception as err:
            results.append(err)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r for r in results if not isinstance(r, str)] == []
    assert len(set(results)) == 8
    assert len(instance.get_runs()) == 8


def test_code_locations_find_a_runs_location(location) -> None:  # type: ignore[no-untyped-def]
    loc = location()
    locations = CodeLocations([loc])
    assert locations.get("my_defs_module") is loc
    assert locations.for_code_location({"file": loc.location.file}) is loc
    assert locations.for_code_location({"module": "other"}) is None
    with pytest.raises(Exception, match="no code location named 'x'"):
        locations.get("x")


def test_the_calling_process_imports_neither_user_code_nor_the_definition_layers(tmp_path: Path) -> None:
    import subprocess

    script = textwrap.dedent(f"""
        import json, sys
        from deras._code_server import CodeLocation
        from deras._snapshot import LocationRef, CodeSnapshot
        loc = CodeLocation(LocationRef(file={str(SHARE_PRICES)!r}))
        assert isinstance(loc.snapshot(), CodeSnapshot)
        loc.stop()
        print(json.dumps(sorted(sys.modules)))
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    modules = __import__("json").loads(out.stdout)
    assert [m for m in modules if "share_prices" in m or m.startswith("deras_code_")] == []
    assert [
        m for m in modules if m.split(".")[:2] in (["deras", "_defs"], ["deras", "_dags"], ["deras", "_exec"])
    ] == []


DAG_CODE = """
from datetime import datetime
import deras as dg

with dg.DAG("etl", schedule="@daily", start_date=datetime(2024, 1, 1)) as etl:
    first = dg.EmptyOperator(task_id="first")
    second = dg.EmptyOperator(task_id="second")
    first >> second
"""


def test_clearing_a_task_runs_it_again_in_the_same_dag_run(location, make_instance, no_hang) -> None:  # type: ignore[no-untyped-def]
    import time

    from deras._daemon.run_worker import execute_stored_run

    instance = make_instance()
    loc = location(DAG_CODE, instance=instance)
    run_id = loc.launch({"dag_id": "etl", "logical_date": "2024-01-10"})
    assert execute_stored_run(instance, run_id) == RunStatus.SUCCESS
    assert loc.launch({"clear": {"run_id": run_id, "task_ids": ["second"]}}) == run_id
    with no_hang(90):
        while len([a for a in instance.get_attempts(run_id) if a.node == "etl.second"]) < 2:
            time.sleep(0.1)
        while not instance.get_run(run_id).status.is_finished:
            time.sleep(0.1)
    assert instance.get_run(run_id).status == RunStatus.SUCCESS
    assert len([a for a in instance.get_attempts(run_id) if a.node == "etl.first"]) == 1


SLOW_CODE = """
import time
import deras as dg

class SlowToCheck(dg.StaticPartitionsDefinition):
    def has_partition_key(self, key, current_time=None, dynamic_partitions_store=None):
        if key == "slow":
            time.sleep(30)
        return super().has_partition_key(key, current_time, dynamic_partitions_store)

@dg.asset(partitions_def=SlowToCheck(["fast", "slow"]))
def p(context):
    return 1
"""


def test_a_call_past_its_time_limit_fails_and_others_still_get_answers(location, make_instance) -> None:  # type: ignore[no-untyped-def]
    instance = make_instance()
    loc = location(SLOW_CODE, instance=instance)
    assert instance.get_run(loc.launch({"selection": "p", "partition": "fast"})).partition_key == "fast"
    loc.call_timeout = 1
    with pytest.raises(CodeServerError, match="did not answer 'launch' within 1 s"):
        loc.launch({"selection": "p", "partition": "slow"})
    loc.call_timeout = 30
    assert loc.ping()["loaded"] is True  # the stuck request holds one thread, not the server
    assert len(instance.get_runs()) == 1
