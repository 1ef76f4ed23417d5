"""The instance's Python API on a persistent database (SQLite and Postgres)."""

from __future__ import annotations

from typing import Any

import pytest

import deras as dg

DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-03-01")


@dg.asset
def extract() -> list[int]:
    return [1, 2, 3]


@dg.asset
def transform(context: dg.AssetExecutionContext, extract: list[int]) -> list[int]:
    context.log.warning("transforming %d rows", len(extract))
    if context.run_config.get("break"):
        raise ValueError("broken on purpose")
    return [x * 2 for x in extract]


@dg.asset
def load(transform: list[int]) -> int:
    return sum(transform)


@dg.asset_check(asset=load)
def load_positive(load: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=load > 0, metadata={"total": load})


ASSETS = [extract, transform, load, load_positive]


def test_runs_are_recorded_and_filtered(instance: Any) -> None:
    ok = dg.materialize(ASSETS, instance=instance, tags={"team": "ops"})
    bad = dg.materialize(ASSETS, instance=instance, run_config={"break": True}, raise_on_error=False)
    assert [r.run_id for r in instance.get_runs()] == [bad.run_id, ok.run_id]
    assert [r.run_id for r in instance.get_runs(status=dg.RunStatus.FAILURE)] == [bad.run_id]
    assert [r.run_id for r in instance.get_runs(tags={"team": "ops"})] == [ok.run_id]
    assert [r.run_id for r in instance.get_runs(limit=1)] == [bad.run_id]
    run = instance.get_run(ok.run_id)
    assert run.status == dg.RunStatus.SUCCESS and run.start_time <= run.end_time
    assert run.selection == ["extract", "transform", "load", "load:load_positive"]


def test_events_are_ordered_with_types_nodes_and_metadata(instance: Any) -> None:
    result = dg.materialize(ASSETS, instance=instance)
    events = instance.get_events(result.run_id)
    assert [e.id for e in events] == sorted(e.id for e in events)
    types = [e.event_type for e in events]
    assert types[0] == dg.EventType.RUN_START and types[-1] == dg.EventType.RUN_SUCCESS
    check = next(e for e in events if e.event_type == dg.EventType.ASSET_CHECK_EVALUATION)
    assert check.node == "load:load_positive" and check.metadata == {"total": 12}
    assert all(e.timestamp > 0 for e in events)


def test_logs_text_per_run_and_node(instance: Any) -> None:
    result = dg.materialize(ASSETS, instance=instance)
    text = instance.get_logs(result.run_id)
    assert "transforming 3 rows" in text and "WARNING" in text
    assert "[extract]" in text
    only = instance.get_logs(result.run_id, node="extract")
    assert "transforming" not in only and "[extract]" in only


def test_latest_materialization_and_check_results(instance: Any) -> None:
    first = dg.materialize(ASSETS, instance=instance)
    second = dg.materialize(ASSETS, instance=instance)
    assert instance.get_latest_materialization("load").run_id == second.run_id
    assert [m.run_id for m in instance.get_materializations("load")] == [second.run_id, first.run_id]
    results = instance.get_check_results("load")
    assert [(r.check_name, r.passed) for r in results] == [("load_positive", True)] * 2


def test_values_persist_in_storage_dir_across_instances(instance: Any) -> None:
    dg.materialize(ASSETS, instance=instance)
    result = dg.materialize(ASSETS, instance=instance, selection="load")
    assert result.asset_value("load") == 12
    assert (instance.storage_dir / "transform").is_file()


def test_reexecute_from_failure_loads_succeeded_outputs(instance: Any) -> None:
    calls = {"extract": 0}

    @dg.asset(name="extract")
    def counted_extract() -> list[int]:
        calls["extract"] += 1
        return [5]

    assets = [counted_extract, transform, load]
    failed = dg.materialize(assets, instance=instance, run_config={"break": True}, raise_on_error=False)
    assert not failed.success
    # the re-execution keeps the run's run_config, so the fix is a new version of the code
    fixed_transform = dg.asset(name="transform")(lambda extract: [x * 2 for x in extract])
    fixed = dg.Definitions(assets=[counted_extract, fixed_transform, load])
    again = instance.reexecute(failed.run_id, definitions=fixed)
    assert again.success and calls["extract"] == 1
    assert again.asset_value("load") == 10
    assert set(again.node_statuses) == {"transform", "load"}
    run = instance.get_run(again.run_id)
    assert run.parent_run_id == failed.run_id and run.root_run_id == failed.run_id


def test_reexecute_of_an_asset_run_tagged_with_a_dag_id_runs_its_assets(instance: Any) -> None:
    first = dg.materialize(ASSETS, instance=instance, tags={"deras/dag_id": "etl"})
    again = instance.reexecute(first.run_id, from_failure=False, definitions=dg.Definitions(assets=ASSETS))
    assert again.success and again.asset_value("load") == 12


def test_partition_status_on_persistent_store(instance: Any) -> None:
    @dg.asset(partitions_def=DAILY)
    def daily(context: dg.AssetExecutionContext) -> str:
        if context.partition_key == "2025-01-05":
            raise RuntimeError("bad day")
        return context.partition_key

    for day in DAILY.get_partition_keys_in_range("2025-01-01", "2025-01-10"):
        dg.materialize([daily], partition_key=day, instance=instance, raise_on_error=False)
    status = instance.get_partition_status("daily", DAILY)
    assert status.counts() == {"materialized": 9, "failed": 1, "in_progress": 0, "missing": 49, "total": 59}
    assert status.materialized.key_ranges == [("2025-01-01", "2025-01-04"), ("2025-01-06", "2025-01-10")]
    assert list(status.failed) == ["2025-01-05"]


def test_get_logs_of_unknown_run_is_a_clear_error(instance: Any) -> None:
    with pytest.raises(dg.DerasError, match="no run with id nope"):
        instance.get_logs("nope")


def test_dynamic_partitions_round_trip(instance: Any) -> None:
    instance.add_dynamic_partitions("files", ["a", "b"])
    instance.add_dynamic_partitions("files", ["b", "c"])
    assert instance.get_dynamic_partitions("files") == ["a", "b", "c"]
    instance.delete_dynamic_partition("files", "b")
    assert instance.get_dynamic_partitions("files") == ["a", "c"]


def test_value_that_cannot_be_stored_fails_its_node_and_records_no_materialization(instance: Any) -> None:
    @dg.asset(key_prefix="blocked")
    def value() -> int:
        return 1

    @dg.asset
    def fine() -> int:
        return 2

    instance.storage_dir.mkdir(parents=True)
    (instance.storage_dir / "blocked").write_text("a file where a folder must go")
    result = dg.materialize([value, fine], instance=instance, raise_on_error=False)
    assert not result.success
    assert instance.get_latest_materialization("blocked/value") is None
    assert instance.get_latest_materialization("fine") is not None
    outcomes = instance.store.get_node_outcomes(result.run_id)
    assert outcomes["blocked/value"] == dg.NodeStatus.FAILED
    [failure] = [e for e in instance.get_events(result.run_id) if e.event_type == dg.EventType.STEP_FAILURE]
    assert failure.data["error"].startswith("ValueNotStoredError: storing blocked/value failed: FileExists")


def test_cancel_ends_at_once_a_running_run_that_recorded_no_process(instance: Any) -> None:
    """Left `started` by a deras that did not record owners: no process would hear the cancel,
    and it would hold a place in the run queue for ever."""
    from deras._core.records import RunRecord
    from deras._core.status import RunStatus

    instance.store.create_run(RunRecord("legacy", "assets:extract", status=RunStatus.STARTED))
    assert instance.cancel_run("legacy") == RunStatus.CANCELED
    assert instance.get_run("legacy").status == RunStatus.CANCELED
    assert instance.get_events("legacy")[-1].message == (
        "canceled: the run recorded no process executing it (an older deras started it): "
        "none would hear the cancel"
    )
