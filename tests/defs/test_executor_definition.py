"""``dg.in_process_executor`` / ``dg.multiprocess_executor``, configured like Dagster's."""

from __future__ import annotations

import pytest

import deras as dg


@dg.asset
def one() -> int:
    return 1


def test_definitions_executor_builds_the_configured_executor() -> None:
    defs = dg.Definitions(assets=[one], executor=dg.multiprocess_executor.configured({"max_concurrent": 4}))
    assert isinstance(defs.executor, dg.MultiprocessExecutor)
    assert defs.executor.max_concurrent == 4
    assert isinstance(dg.Definitions(executor=dg.in_process_executor).executor, dg.InProcessExecutor)


def test_configured_merges_and_leaves_the_original_alone() -> None:
    base = dg.multiprocess_executor.configured({"max_concurrent": 2})
    more = base.configured({"tag_concurrency_limits": [{"key": "db", "limit": 1}]})
    assert more.config == {"max_concurrent": 2, "tag_concurrency_limits": [{"key": "db", "limit": 1}]}
    assert dg.multiprocess_executor.config == {}


def test_define_asset_job_takes_executor_def() -> None:
    job = dg.define_asset_job("all", executor_def=dg.multiprocess_executor.configured({"max_concurrent": 3}))
    assert job.executor.max_concurrent == 3


def test_executor_and_executor_def_together_are_an_error() -> None:
    with pytest.raises(dg.ConfigError, match="not both"):
        dg.define_asset_job("all", executor="in_process", executor_def=dg.in_process_executor)


def test_bad_executor_config_is_a_clear_error() -> None:
    with pytest.raises(dg.ConfigError, match="max_concurrent=0"):
        dg.Definitions(executor=dg.multiprocess_executor.configured({"max_concurrent": 0}))
    with pytest.raises(dg.ConfigError, match="start_method"):
        dg.Definitions(executor=dg.multiprocess_executor.configured({"start_method": "spawn"}))
    with pytest.raises(dg.ConfigError, match="takes a dict"):
        dg.in_process_executor.configured(4)  # type: ignore[arg-type]


def test_materialize_runs_on_a_configured_executor() -> None:
    result = dg.materialize([one], executor=dg.multiprocess_executor.configured({"max_concurrent": 1}))
    assert result.asset_value("one") == 1


def test_dagster_instance_is_deras_instance() -> None:
    assert dg.DagsterInstance is dg.DerasInstance
    assert dg.DagsterInstance.ephemeral().is_ephemeral
