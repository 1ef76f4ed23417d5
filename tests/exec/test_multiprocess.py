"""The multiprocess executor: a warm pool of forked workers running the steps of one run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import deras as dg
from deras._core.errors import ConfigError

EventType = dg.EventType


def _wait_for_files(folder: Path, count: int, seconds: float = 30.0) -> None:
    """Wait until ``folder`` holds ``count`` files: the nodes that made them run at once."""
    give_up = time.monotonic() + seconds
    while len(list(folder.iterdir())) < count:
        if time.monotonic() > give_up:
            raise AssertionError(f"only {sorted(p.name for p in folder.iterdir())} started")
        time.sleep(0.01)


def test_independent_nodes_run_at_once_each_in_a_worker_process(tmp_path: Path) -> None:
    started = tmp_path / "started"
    started.mkdir()

    def node(name: str) -> dg.AssetsDefinition:
        @dg.asset(name=name)
        def body() -> int:
            (started / name).touch()
            _wait_for_files(started, 3)  # all three are running: none waits for another to end
            return os.getpid()

        return body

    assets = [node(n) for n in ("a", "b", "c")]
    result = dg.materialize(assets, executor=dg.MultiprocessExecutor(max_concurrent=3))
    pids = {result.asset_value(n) for n in ("a", "b", "c")}
    assert result.success
    assert len(pids) == 3 and os.getpid() not in pids


def test_values_pass_between_workers_and_back_to_the_caller() -> None:
    @dg.asset
    def numbers() -> list[int]:
        return [1, 2, 3]

    @dg.asset
    def doubled(numbers: list[int]) -> list[int]:
        return [n * 2 for n in numbers]

    @dg.asset
    def total(doubled: list[int], numbers: list[int]) -> int:
        return sum(doubled) + sum(numbers)

    result = dg.materialize([numbers, doubled, total], executor=dg.MultiprocessExecutor(2))
    assert result.success and result.asset_value("total") == 18
    kinds = [e.event_type for e in result.events if e.node == "doubled"]
    assert kinds == [EventType.STEP_START, EventType.ASSET_MATERIALIZATION, EventType.STEP_SUCCESS]


def test_assets_of_a_script_run_as_main_run_in_the_pool(tmp_path: Path) -> None:
    script = tmp_path / "pipeline.py"
    script.write_text(
        textwrap.dedent(
            """
            import os
            import deras as dg

            @dg.asset
            def where() -> int:
                return os.getpid()

            @dg.asset
            def check(where: int) -> bool:
                return where != os.getppid() or True

            if __name__ == "__main__":
                result = dg.materialize([where, check], executor=dg.MultiprocessExecutor(2))
                print(result.success, result.asset_value("where") != os.getpid())
            """
        )
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_a_node_that_kills_its_process_fails_that_attempt_and_is_retried() -> None:
    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def flaky(context: dg.AssetExecutionContext) -> int:
        if context.retry_number == 0:
            os._exit(3)
        return 7

    @dg.asset
    def other() -> int:
        return 1

    result = dg.materialize([flaky, other], executor=dg.MultiprocessExecutor(2))
    assert result.success and result.asset_value("flaky") == 7
    [retry] = [e for e in result.events if e.event_type == EventType.STEP_RETRY]
    assert retry.node == "flaky" and "exited with code 3" in retry.data["error"]
    successes = [e for e in result.events if e.event_type == EventType.STEP_SUCCESS and e.node == "flaky"]
    assert [e.attempt for e in successes] == [1]


def test_a_segfault_fails_only_that_node() -> None:
    @dg.asset
    def crashes() -> int:
        import ctypes

        ctypes.string_at(0)  # reads address 0: SIGSEGV
        return 1

    @dg.asset
    def after(crashes: int) -> int:
        return crashes

    @dg.asset
    def unrelated() -> int:
        return 2

    result = dg.materialize(
        [crashes, after, unrelated], executor=dg.MultiprocessExecutor(2), raise_on_error=False
    )
    statuses = result.node_statuses
    assert not result.success
    assert statuses == {
        "crashes": dg.NodeStatus.FAILED,
        "after": dg.NodeStatus.UPSTREAM_FAILED,
        "unrelated": dg.NodeStatus.SUCCESS,
    }
    [failure] = [e for e in result.events if e.event_type == EventType.STEP_FAILURE]
    assert "signal 11 (SIGSEGV)" in failure.data["error"]


def test_a_node_past_its_timeout_has_its_process_killed_and_replaced() -> None:
    @dg.asset(timeout=0.5)
    def hangs() -> int:
        time.sleep(300)
        return 1

    @dg.asset(deps=[hangs])
    def waits() -> int:
        return os.getpid()

    @dg.asset
    def first() -> int:
        return os.getpid()

    result = dg.materialize([first, hangs, waits], executor=dg.MultiprocessExecutor(1), raise_on_error=False)
    [failure] = [e for e in result.events if e.event_type == EventType.STEP_FAILURE]
    assert failure.node == "hangs"
    assert "timed out after 0.5 s" in failure.data["error"] and "killed" in failure.data["error"]
    assert result.node_statuses["waits"] == dg.NodeStatus.UPSTREAM_FAILED


def test_the_pool_replaces_a_killed_worker_for_the_next_steps() -> None:
    @dg.asset(timeout=0.5, retry_policy=dg.RetryPolicy(max_retries=1))
    def slow_once(context: dg.AssetExecutionContext) -> int:
        if context.retry_number == 0:
            time.sleep(300)
        return os.getpid()

    @dg.asset
    def before() -> int:
        return os.getpid()

    @dg.asset(deps=[slow_once])
    def after() -> int:
        return os.getpid()

    result = dg.materialize([before, slow_once, after], executor=dg.MultiprocessExecutor(1))
    assert result.success
    assert result.asset_value("before") != result.asset_value("slow_once")  # a new worker
    assert result.asset_value("slow_once") == result.asset_value("after")  # which stays warm


def _concurrency_probe(folder: Path, name: str, tags: dict[str, str] | None = None) -> dg.AssetsDefinition:
    """An asset that records how many probes were running when it started."""

    @dg.asset(name=name, tags=tags or {})
    def probe() -> int:
        mark = folder / name
        mark.touch()
        running = len(list(folder.iterdir()))
        time.sleep(0.3)
        mark.unlink()
        return running

    return probe


def test_max_concurrent_bounds_how_many_nodes_run_at_once(tmp_path: Path) -> None:
    probes = [_concurrency_probe(tmp_path, f"p{i}") for i in range(6)]
    result = dg.materialize(probes, executor=dg.MultiprocessExecutor(max_concurrent=2))
    assert result.success
    assert max(result.asset_value(f"p{i}") for i in range(6)) <= 2


def test_tag_concurrency_limits_hold_inside_a_run(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    probes = [_concurrency_probe(warehouse, f"w{i}", {"db": "warehouse"}) for i in range(4)]
    limits = [{"key": "db", "value": "warehouse", "limit": 1}]
    executor = dg.MultiprocessExecutor(4, tag_concurrency_limits=limits)
    result = dg.materialize(probes, executor=executor)
    assert result.success
    assert [result.asset_value(f"w{i}") for i in range(4)] == [1, 1, 1, 1]


def test_a_malformed_tag_limit_is_a_clear_error() -> None:
    @dg.asset
    def a() -> int:
        return 1

    executor = dg.MultiprocessExecutor(2, tag_concurrency_limits=[{"key": "db", "limit": 0}])
    with pytest.raises(ConfigError, match=r"tag concurrency limit .*'limit': 0"):
        dg.materialize([a], executor=executor)


def test_output_of_nodes_running_at_once_never_mixes() -> None:
    def chatty(name: str) -> dg.AssetsDefinition:
        @dg.asset(name=name)
        def body(context: dg.AssetExecutionContext) -> None:
            for i in range(300):
                print(f"{name} {i}")
                context.log.info(f"{name} log {i}")

        return body

    result = dg.materialize([chatty("x"), chatty("y"), chatty("z")], executor=dg.MultiprocessExecutor(3))
    assert result.success
    for name in ("x", "y", "z"):
        logs = [e for e in result.events if e.event_type == EventType.LOG and e.node == name]
        stdout = "\n".join(e.message for e in logs if e.level == "STDOUT")
        assert stdout.splitlines() == [f"{name} {i}" for i in range(300)]
        assert [e.message for e in logs if e.level == "INFO"] == [f"{name} log {i}" for i in range(300)]


def test_an_unknown_executor_is_an_error_where_it_is_written() -> None:
    with pytest.raises(ConfigError, match=r"unknown executor 'gpu'.*in_process, multiprocess, celery"):
        dg.define_asset_job("j", executor="gpu")
    with pytest.raises(ConfigError, match=r"DAG 'd'.*not an executor"):
        dg.DAG("d", executor=42)
    with pytest.raises(ConfigError, match="max_concurrent=0"):
        dg.MultiprocessExecutor(max_concurrent=0)


def test_executors_may_be_named_or_described_by_a_dict() -> None:
    @dg.asset
    def a() -> int:
        return os.getpid()

    by_name = dg.materialize([a], executor="multiprocess")
    by_dict = dg.materialize([a], executor={"type": "multiprocess", "max_concurrent": 1})
    assert os.getpid() not in (by_name.asset_value("a"), by_dict.asset_value("a"))
    assert dg.materialize([a], executor="in_process").asset_value("a") == os.getpid()


def test_pool_slots_hold_inside_a_run_of_a_stored_instance(make_instance, tmp_path: Path) -> None:
    instance = make_instance({"pools": {"db": 1}})
    folder = tmp_path / "db"
    folder.mkdir()

    def pooled(name: str) -> dg.AssetsDefinition:
        @dg.asset(name=name, pool="db")
        def body() -> int:
            (folder / name).touch()
            running = len(list(folder.iterdir()))
            time.sleep(0.2)
            (folder / name).unlink()
            return running

        return body

    result = dg.materialize([pooled(f"q{i}") for i in range(3)], instance=instance, executor="multiprocess")
    assert result.success
    assert [result.asset_value(f"q{i}") for i in range(3)] == [1, 1, 1]
    assert instance.store.slots.holders("db") == []  # every slot given back


def test_a_worker_killed_from_outside_mid_node_has_the_node_retried_by_its_policy(tmp_path: Path) -> None:
    """kill -9 of a pool process (what the OOM killer does): only its attempt is lost."""
    import signal
    import threading

    mark = tmp_path / "pid"

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def victim(context: dg.AssetExecutionContext) -> int:
        if context.retry_number == 0:
            written = mark.with_suffix(".tmp")
            written.write_text(str(os.getpid()))
            written.replace(mark)  # whole: the killer never reads a half-written pid
            time.sleep(120)
        return 5

    @dg.asset
    def bystander() -> int:
        time.sleep(0.5)
        return 1

    def kill_when_started() -> None:
        give_up = time.monotonic() + 60
        while not mark.exists() and time.monotonic() < give_up:
            time.sleep(0.01)
        os.kill(int(mark.read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill_when_started)
    killer.start()
    result = dg.materialize([victim, bystander], executor=dg.MultiprocessExecutor(2))
    killer.join(60)
    assert result.success and result.asset_value("victim") == 5 and result.asset_value("bystander") == 1
    [retry] = [e for e in result.events if e.event_type == EventType.STEP_RETRY]
    assert "signal 9 (SIGKILL)" in retry.data["error"]
    assert len([e for e in result.events if e.event_type == EventType.ASSET_MATERIALIZATION]) == 2


def test_assets_defined_without_a_file_run_in_the_pool() -> None:
    """Code that lives nowhere on disk (``python -c``, a notebook cell) runs in the workers."""
    code = textwrap.dedent(
        """
        import os
        import deras as dg

        @dg.asset
        def where() -> int:
            return os.getpid()

        result = dg.materialize([where], executor=dg.MultiprocessExecutor(1))
        print(result.success, result.asset_value("where") != os.getpid())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]
