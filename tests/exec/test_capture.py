"""What a node says: its stdout and stderr captured at the fd level, masked, capped, paged."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import deras as dg
from deras._exec.record_cap import MAX_TEXT_CHARS
from deras._exec.secret_mask import MaskedStream

SECRET = "tok-5e5ame-0pen"


def _logs(result: Any, level: str) -> list[str]:
    return [e.message for e in result.events if e.event_type == dg.EventType.LOG and e.level == level]


class Api(dg.ConfigurableResource):
    token: str


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("CAPTURE_TOKEN", SECRET)
    return {"api": Api(token=dg.EnvVar("CAPTURE_TOKEN"))}


def test_sys_stdout_of_a_node_is_a_real_stream_with_buffer_and_fileno() -> None:
    @dg.asset
    def binary() -> tuple[int, int]:
        sys.stdout.buffer.write(b"raw bytes\n")
        sys.stderr.buffer.write(b"raw error bytes\n")
        return sys.stdout.fileno(), sys.stderr.fileno()

    result = dg.materialize([binary])
    assert result.success
    assert result.asset_value("binary") == (1, 2)
    assert _logs(result, "STDOUT") == ["raw bytes"]
    assert _logs(result, "STDERR") == ["raw error bytes"]


def test_os_write_and_child_processes_are_captured_in_order() -> None:
    @dg.asset
    def below_python() -> None:
        print("from print")
        os.write(1, b"from os.write\n")
        subprocess.run(["echo", "from a child"], check=True)
        subprocess.run(["sh", "-c", "echo child error >&2"], check=True)
        os.write(2, b"fd two\n")

    result = dg.materialize([below_python])
    assert result.success
    assert _logs(result, "STDOUT") == ["from print\nfrom os.write\nfrom a child"]
    assert _logs(result, "STDERR") == ["child error\nfd two"]


def test_secrets_are_masked_in_every_kind_of_captured_output(secret_env: dict[str, Any]) -> None:
    @dg.asset
    def uses_secret(api: Api) -> None:
        print("printed", api.token)
        print("stderr", api.token, file=sys.stderr)
        os.write(1, f"fd {api.token}\n".encode())
        subprocess.run(["echo", "child", api.token], check=True)

    result = dg.materialize([uses_secret], resources=secret_env)
    assert result.success
    [out] = _logs(result, "STDOUT")
    [err] = _logs(result, "STDERR")
    assert out.splitlines() == ["printed *****", "fd *****", "child *****"]
    assert err.splitlines() == ["stderr *****"]


def test_a_file_name_with_an_undecodable_byte_prints_and_is_stored_escaped() -> None:
    @dg.asset
    def lists_files() -> str:
        name = os.fsdecode(b"caf\xe9.csv")  # what os.listdir returns for such a name
        print(name)
        print(name, file=sys.stderr)
        return name

    result = dg.materialize([lists_files])
    assert result.success
    assert _logs(result, "STDOUT") == ["caf\\udce9.csv"]
    assert _logs(result, "STDERR") == ["caf\\udce9.csv"]


def test_fds_and_sys_streams_are_restored_after_a_failing_attempt() -> None:
    before = (os.fstat(1).st_ino, os.fstat(2).st_ino, sys.stdout, sys.stderr)

    @dg.asset
    def fails() -> None:
        os.write(1, b"about to fail\n")
        raise ValueError("broken")

    result = dg.materialize([fails], raise_on_error=False)
    assert not result.success
    assert _logs(result, "STDOUT") == ["about to fail"]
    assert (os.fstat(1).st_ino, os.fstat(2).st_ino, sys.stdout, sys.stderr) == before


def test_a_child_that_keeps_the_fd_open_does_not_hang_the_run(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    @dg.asset
    def daemonizes() -> None:
        child = subprocess.Popen(["sleep", "120"], start_new_session=True)  # inherits fds 1 and 2
        pid_file.write_text(str(child.pid))
        print("left a child behind")

    results: list[Any] = []
    runner = threading.Thread(target=lambda: results.append(dg.materialize([daemonizes])))
    runner.start()
    try:
        runner.join(60)  # the child lives 120 s: a run that waited for it would still be here
        assert not runner.is_alive(), "the run waited for a child that keeps its fd open"
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), 9)
    assert results[0].success and _logs(results[0], "STDOUT") == ["left a child behind"]


def test_a_nested_run_keeps_its_output_to_itself() -> None:
    @dg.asset
    def inner() -> int:
        print("inner says")
        return 1

    @dg.asset
    def outer() -> int:
        print("outer before")
        nested = dg.materialize([inner])
        os.write(1, b"outer after\n")
        return nested.asset_value("inner") + 1

    result = dg.materialize([outer])
    assert result.success and result.asset_value("outer") == 2
    assert _logs(result, "STDOUT") == ["outer before\nouter after"]


def test_resource_teardown_output_is_the_runs_output_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTURE_TOKEN", SECRET)

    class Closing(dg.ConfigurableResource):
        token: str

        def teardown_after_execution(self, context: Any) -> None:
            os.write(1, f"closing {self.token}\n".encode())

    @dg.asset
    def uses(api: Closing) -> int:
        return 1

    result = dg.materialize([uses], resources={"api": Closing(token=dg.EnvVar("CAPTURE_TOKEN"))})
    assert result.success
    [teardown] = [e for e in result.events if e.level == "STDOUT"]
    assert (teardown.node, teardown.message) == (None, "closing *****")


def test_a_log_record_longer_than_the_cap_is_stored_cut_and_kept_whole_in_the_run_log(
    instance: Any,
) -> None:
    whole = "x" * (3 * MAX_TEXT_CHARS) + "END"

    @dg.asset
    def shouts() -> None:
        print(whole)

    result = dg.materialize([shouts], instance=instance)
    [stored] = [e for e in instance.get_events(result.run_id) if e.level == "STDOUT"]
    head, _, pointer = stored.message.partition("\n[... ")
    assert head == whole[:MAX_TEXT_CHARS]
    log_file = Path(instance.home) / "logs" / f"{result.run_id}.log"
    assert f"{len(whole) - MAX_TEXT_CHARS} more characters" in pointer and str(log_file) in pointer
    offset = int(pointer.rsplit("byte ", 1)[1].rstrip("]"))
    assert log_file.read_bytes()[offset : offset + len(whole)].decode() == whole


def test_an_in_memory_run_cuts_a_long_record_and_says_the_rest_is_not_stored() -> None:
    @dg.asset
    def shouts() -> None:
        print("y" * (MAX_TEXT_CHARS + 10))

    [message] = _logs(dg.materialize([shouts]), "STDOUT")
    assert message.startswith("y" * MAX_TEXT_CHARS + "\n[... 10 more characters not stored")


def test_get_logs_pages_records_from_the_start_and_from_the_end(instance: Any) -> None:
    @dg.asset
    def talks(context: dg.AssetExecutionContext) -> None:
        for i in range(5):
            context.log.info("line %d", i)

    run_id = dg.materialize([talks], instance=instance).run_id
    every = instance.get_logs(run_id).splitlines()
    assert [line for line in every if "line" in line] == every[2:7]
    assert instance.get_logs(run_id, limit=2, offset=2).splitlines() == every[2:4]
    assert instance.get_logs(run_id, offset=-3).splitlines() == every[-3:]
    assert instance.get_logs(run_id, offset=-3, limit=1).splitlines() == every[-3:-2]
    assert instance.get_logs(run_id, node="talks", limit=1, offset=1).splitlines() == every[2:3]
    with pytest.raises(dg.DerasError, match="limit=-1"):
        instance.get_logs(run_id, limit=-1)


def test_a_secret_split_between_two_pieces_of_echoed_output_is_masked() -> None:
    secrets = {SECRET}
    stream = MaskedStream(secrets)
    shown = [stream.feed("a tok-5e"), stream.feed("5ame-0pen and tok-"), stream.feed("x"), stream.finish()]
    assert "".join(shown) == "a ***** and tok-x"
    assert shown[0] == "a "  # the secret's start is held back until it is known not to be one


def test_a_task_callback_s_output_is_the_task_s_log() -> None:
    def on_success(*, context: dict[str, Any]) -> None:
        os.write(1, f"callback for {context['ti'].task_id}\n".encode())

    with dg.DAG("talking_callback") as dag:
        dg.EmptyOperator(task_id="quiet", on_success_callback=on_success)
    run = dag.test(logical_date=datetime(2025, 1, 1, tzinfo=UTC))
    assert [(e.node, e.message) for e in run.result.events if e.level == "STDOUT"] == [
        ("talking_callback.quiet", "callback for quiet")
    ]
