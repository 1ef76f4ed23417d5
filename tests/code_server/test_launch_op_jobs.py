"""Launching an op job through the code server (what the web's POST /api/v1/runs does)."""

from __future__ import annotations

import pytest

from deras._code_server.launch import launch
from deras._code_server.request import LaunchRejected, LaunchRequest
from deras._core.status import RunStatus
from deras._daemon.run_worker import execute_stored_run

CODE = """
import deras as dg

class Size(dg.Config):
    n: int

@dg.op
def count(config: Size) -> int:
    return config.n

@dg.job
def counting():
    count()

defs = dg.Definitions(jobs=[counting])
"""


@pytest.fixture
def submit(make_instance, write_code):  # type: ignore[no-untyped-def]
    instance = make_instance()
    loaded = write_code(CODE)

    def run(data: dict) -> str:  # type: ignore[type-arg]
        request = LaunchRequest.from_json(data)
        return launch(
            request, definitions=loaded.definitions, location=loaded.location, instance=instance
        ).run_id

    run.instance = instance  # type: ignore[attr-defined]
    return run


def test_an_op_job_launch_records_its_config_and_runs(submit) -> None:  # type: ignore[no-untyped-def]
    run_id = submit({"job": "counting", "config": {"ops": {"count": {"config": {"n": 3}}}}})
    run = submit.instance.get_run(run_id)
    assert (run.status, run.job_name, run.selection) == (RunStatus.QUEUED, "counting", ["counting.count"])
    assert run.run_config == {"ops": {"count": {"config": {"n": 3}}}}
    assert execute_stored_run(submit.instance, run_id) == RunStatus.SUCCESS


def test_an_op_job_launch_with_bad_config_is_rejected_and_writes_nothing(submit) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaunchRejected, match="op 'count': config: missing required field 'n'"):
        submit({"job": "counting"})
    assert submit.instance.get_runs() == []
