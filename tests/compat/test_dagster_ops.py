"""A file written for Dagster's op API loads and runs unchanged under ``--compat dagster``."""

from __future__ import annotations

from pathlib import Path

import pytest

from deras._defs.loader import load_definitions

OPS = """
import pytest
from dagster import Config, DagsterInvalidConfigError, Definitions, In, Nothing, OpExecutionContext
from dagster import RunConfig, job, op


class Greeting(Config):
    name: str


@op
def hello(context: OpExecutionContext, config: Greeting) -> str:
    return f"hello {config.name}"


@op(ins={"after": In(Nothing)})
def done() -> str:
    return "done"


@job
def greet():
    done(after=hello())


def check() -> None:
    result = greet.execute_in_process(run_config=RunConfig(ops={"hello": Greeting(name="ana")}))
    assert result.success and result.output_for_node("hello") == "hello ana"
    with pytest.raises(DagsterInvalidConfigError, match="missing required field 'name'"):
        greet.execute_in_process()


defs = Definitions(jobs=[greet])
"""


def test_a_dagster_op_job_file_runs_under_compat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "ops_job.py"
    code.write_text(OPS)
    monkeypatch.setenv("DERAS_COMPAT", "dagster")
    loaded = load_definitions(file=code)
    assert loaded.definitions.get_job("greet").node_ids == {"greet.hello", "greet.done"}
    loaded.module.check()  # the file's own assertions, Dagster's exception names included
