"""The lineage's colours: every asset's state at once, as columns, missing ones left out."""

from __future__ import annotations

from typing import Any

from view_snapshots import snapshot

import deras as dg
from deras._core.events import EventRecord, EventType, PartitionSpan
from deras._instance.views.asset_states import STATE_CODES, asset_states

COLOURS = dg.StaticPartitionsDefinition(["red", "green"])


@dg.asset
def rows(context: dg.AssetExecutionContext) -> int:
    return int(context.run_config.get("n", 3))


@dg.asset_check(asset=rows)
def rows_not_empty(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=int(context.run_config.get("n", 3)) > 0)


@dg.asset(partitions_def=COLOURS)
def paint(context: dg.AssetExecutionContext) -> str:
    if context.partition_key == "green":
        raise ValueError("no green paint")
    return context.partition_key


@dg.asset
def untouched() -> int:
    return 0


@dg.asset
def checked_only() -> int:
    return 0


@dg.asset_check(asset=checked_only)
def always_fails() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False)


DEFS = dg.Definitions(
    assets=[rows, paint, untouched, checked_only], asset_checks=[rows_not_empty, always_fails]
)


def _check_failed(instance: Any, key: str, name: str) -> None:
    """A failed result of the check, as a run that evaluated only the check would store it."""
    data = {"asset_key": key, "check_name": name, "passed": False, "severity": "ERROR"}
    node = f"{key}:{name}"
    instance.store.store_events(
        [EventRecord("r1", EventType.ASSET_CHECK_EVALUATION, node=node, timestamp=5.0, data=data)]
    )


def _by_key(states: Any) -> dict[str, tuple[str, int | None, int]]:
    data = states.to_json()
    assert data["state_codes"] == STATE_CODES
    columns = zip(data["states"], data["last_materialized"], data["failing_checks"], strict=True)
    return {key: (STATE_CODES[s], t, f) for key, (s, t, f) in zip(data["keys"], columns, strict=True)}


def test_each_asset_with_a_state_is_a_key_a_letter_a_time_and_its_failing_checks(instance: Any) -> None:
    dg.materialize([rows, rows_not_empty], instance=instance, run_config={"n": 0})
    dg.materialize([paint], instance=instance, partition_key="red")
    dg.materialize([paint], instance=instance, partition_key="green", raise_on_error=False)
    _check_failed(instance, "checked_only", "always_fails")
    snap = snapshot(DEFS)
    found = _by_key(asset_states(instance, snap))
    latest = instance.store.asset_reads.latest_materializations(["rows"])["rows"].timestamp
    assert found["rows"] == ("materialized", round(latest), 1)
    assert found["paint"][0] == "failed"  # a failed partition outweighs a materialized one
    assert found["checked_only"] == ("missing", None, 1)  # never materialized, but a check failed
    assert "untouched" not in found  # plainly missing: left out
    assert asset_states(instance, snap).version == snap.version


@dg.asset
def flaky(context: dg.AssetExecutionContext) -> int:
    if context.run_config.get("fail"):
        raise ValueError("flaky failed")
    return 1


def test_an_asset_whose_latest_run_failed_is_failed_until_it_materializes_again(instance: Any) -> None:
    snap = snapshot(dg.Definitions(assets=[flaky, untouched]))
    dg.materialize([flaky], instance=instance, run_config={"fail": True}, raise_on_error=False)
    assert _by_key(asset_states(instance, snap)) == {"flaky": ("failed", None, 0)}  # never materialized
    dg.materialize([flaky], instance=instance)
    assert _by_key(asset_states(instance, snap))["flaky"][0] == "materialized"
    dg.materialize([flaky], instance=instance, run_config={"fail": True}, raise_on_error=False)
    state, time, _ = _by_key(asset_states(instance, snap))["flaky"]
    assert state == "failed" and time is not None  # failed after its materialization: still dated
    assert _by_key(asset_states(instance, None))["flaky"][0] == "failed"


def test_a_check_or_an_asset_no_longer_defined_colours_nothing(instance: Any) -> None:
    dg.materialize([rows, rows_not_empty], instance=instance, run_config={"n": 0})
    _check_failed(instance, "checked_only", "always_fails")
    without_checks = snapshot(dg.Definitions(assets=[rows, untouched]))
    found = _by_key(asset_states(instance, without_checks))
    assert found == {"rows": ("materialized", found_time(instance), 0)}


def test_without_a_snapshot_every_asset_the_store_knows_is_listed(instance: Any) -> None:
    dg.materialize([rows, rows_not_empty], instance=instance, run_config={"n": 0})
    found = _by_key(asset_states(instance, None))
    assert found == {"rows": ("materialized", found_time(instance), 1)}
    assert asset_states(instance, None).version is None


def found_time(instance: Any) -> int:
    return round(instance.store.asset_reads.latest_materializations(["rows"])["rows"].timestamp)


def _planned(instance: Any, key: str, def_id: str) -> None:
    data = {"asset_key": key, "partitions": PartitionSpan(def_id, [(1, 2)]).to_json()}
    instance.store.store_events([EventRecord("r1", EventType.MATERIALIZATION_PLANNED, data=data)])


def test_partitions_in_progress_show_unless_recorded_under_another_definition(instance: Any) -> None:
    snap = snapshot(DEFS)
    (paint_snap,) = [a for a in snap.assets if a.key == "paint"]
    _planned(instance, "paint", "some:other:definition")
    assert "paint" not in _by_key(asset_states(instance, snap))
    _planned(instance, "paint", paint_snap.partitions.index_space_id)
    assert _by_key(asset_states(instance, snap))["paint"] == ("in_progress", None, 0)
