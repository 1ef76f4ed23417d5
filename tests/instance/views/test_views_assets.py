"""The read model's assets: the list with each asset's latest facts, and one asset's page."""

from __future__ import annotations

from typing import Any

import pytest
from view_snapshots import snapshot

import deras as dg
from deras._core.errors import DerasError
from deras._core.events import EventRecord, EventType
from deras._instance.views.assets import asset_detail, list_assets

COLOURS = dg.StaticPartitionsDefinition(["red", "green", "blue", "cyan"])


@dg.asset(group_name="raw", tags={"deras/kind/python": ""})
def rows(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    n = int(context.run_config.get("n", 3))
    return dg.MaterializeResult(metadata={"rows": n, "note": "text is not a series"})


@dg.asset_check(asset=rows)
def rows_not_empty(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=int(context.run_config.get("n", 3)) > 0)


@dg.asset_check(asset=rows)
def rows_never_run() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(partitions_def=COLOURS)
def paint(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


@dg.asset
def untouched() -> int:
    return 0


DEFS = dg.Definitions(assets=[rows, paint, untouched], asset_checks=[rows_not_empty, rows_never_run])


def _materialize_rows(instance: Any, n: int) -> str:
    result = dg.materialize(
        [rows, rows_not_empty], instance=instance, run_config={"n": n}, raise_on_error=False
    )
    return result.run_id


def test_the_list_has_every_asset_with_its_latest_facts(instance: Any) -> None:
    _materialize_rows(instance, 3)
    last = _materialize_rows(instance, 0)
    for colour in ("red", "green", "cyan"):
        dg.materialize([paint], instance=instance, partition_key=colour)
    page = list_assets(instance, snapshot(DEFS))
    assert page.next_cursor is None
    found = {a.key: a for a in page.items}
    assert list(found) == ["paint", "rows", "untouched"]  # by key
    rows_view = found["rows"]
    assert rows_view.group == "raw" and rows_view.kinds == ["python"] and not rows_view.partitioned
    assert rows_view.last_materialization is not None and rows_view.last_materialization.run_id == last
    checks = {c.name: c for c in rows_view.checks}
    assert checks["rows_not_empty"].passed is False and checks["rows_not_empty"].run_id == last
    assert checks["rows_never_run"].passed is None
    paint_view = found["paint"]
    assert paint_view.partitions is not None
    assert paint_view.partitions.to_json() == {
        "materialized": 3,
        "failed": 0,
        "in_progress": 0,
        "total": 4,
        "missing": 1,
    }
    assert found["untouched"].last_materialization is None and found["untouched"].checks == []


def test_without_a_snapshot_the_list_is_what_the_store_has(instance: Any) -> None:
    _materialize_rows(instance, 1)
    (only,) = list_assets(instance).items
    assert only.key == "rows" and only.group is None
    assert [c.name for c in only.checks] == ["rows_not_empty"]


def _all_pages(instance: Any, snap: Any, **filters: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = list_assets(instance, snap, cursor=cursor, **filters)
        pages.append([a.key for a in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


MANY = [dg.AssetSpec(f"many_{i:02d}", group_name="odd" if i % 2 else "even") for i in range(7)]
MANY_DEFS = dg.Definitions(assets=[*MANY, paint])


def test_the_list_pages_by_key_and_every_asset_comes_once(instance: Any) -> None:
    assert _all_pages(instance, snapshot(MANY_DEFS), limit=3) == [
        ["many_00", "many_01", "many_02"],
        ["many_03", "many_04", "many_05"],
        ["many_06", "paint"],
    ]


def test_the_list_filters_by_text_in_the_key_or_group_and_by_partitions(instance: Any) -> None:
    snap = snapshot(MANY_DEFS)
    assert _all_pages(instance, snap, limit=2, search="ODD") == [["many_01", "many_03"], ["many_05"]]
    assert _all_pages(instance, snap, search="y_0") == [[f"many_{i:02d}" for i in range(7)]]
    assert _all_pages(instance, snap, partitioned=True) == [["paint"]]
    assert _all_pages(instance, snap, search="nothing like it") == [[]]


def test_without_a_snapshot_the_list_pages_the_stored_assets_by_key(instance: Any) -> None:
    keys = ["b_50%", "a_x", "c_1", "b_5x"]
    instance.store.store_events([_materialization(key) for key in keys])
    dg.materialize([paint], instance=instance, partition_key="red")
    assert _all_pages(instance, None, limit=2) == [["a_x", "b_50%"], ["b_5x", "c_1"], ["paint"]]
    assert _all_pages(instance, None, search="50%") == [["b_50%"]]  # % is a character, not a wildcard
    assert _all_pages(instance, None, search="B_5") == [["b_50%", "b_5x"]]
    assert _all_pages(instance, None, partitioned=True) == [["paint"]]


def _materialization(key: str) -> EventRecord:
    data = {"asset_key": key, "metadata": {}}
    return EventRecord("r1", EventType.ASSET_MATERIALIZATION, node=key, timestamp=1.0, data=data)


@pytest.mark.parametrize("cursor", ["xx", "WzFd", "WyJhIiwiYiJd"])  # not base64 JSON; [1]; ["a","b"]
def test_a_cursor_that_is_not_of_the_asset_listing_is_refused(instance: Any, cursor: str) -> None:
    with pytest.raises(DerasError, match="not a cursor of this asset listing"):
        list_assets(instance, snapshot(DEFS), cursor=cursor)


@pytest.mark.parametrize("limit", [0, 1001, -5])
def test_a_limit_out_of_range_is_refused(instance: Any, limit: int) -> None:
    with pytest.raises(DerasError, match="limit"):
        list_assets(instance, None, limit=limit)


def test_an_asset_page_has_materializations_in_pages_series_and_check_history(instance: Any) -> None:
    runs = [_materialize_rows(instance, n) for n in (1, 2, 3, 0)]
    snap = snapshot(DEFS)
    detail = asset_detail(instance, snap, "rows", limit=3)
    assert detail is not None
    assert [m.run_id for m in detail.materializations] == runs[::-1][:3]
    oldest_first = detail.materializations[::-1]
    assert detail.metadata_series == {
        "rows": [[m.timestamp, float(n)] for m, n in zip(oldest_first, (2, 3, 0), strict=True)]
    }
    older = asset_detail(instance, snap, "rows", limit=3, cursor=detail.next_cursor)
    assert older is not None and [m.run_id for m in older.materializations] == [runs[0]]
    assert older.next_cursor is None
    assert older.summary.last_materialization == detail.materializations[0]
    assert [c.passed for c in detail.check_history] == [False, True, True]
    assert detail.partition_status is None and detail.to_json()["key"] == "rows"


def test_an_asset_page_shows_partition_status_as_ranges_of_keys(instance: Any) -> None:
    for colour in ("red", "green", "cyan"):
        dg.materialize([paint], instance=instance, partition_key=colour)
    detail = asset_detail(instance, snapshot(DEFS), "paint")
    assert detail is not None and detail.partition_status is not None
    assert detail.partition_status.ranges["materialized"] == [[0, 2], [3, 4]]
    assert detail.partition_status.key_ranges is not None
    assert detail.partition_status.key_ranges["materialized"] == [["red", "green"], ["cyan", "cyan"]]


def test_an_unknown_asset_has_no_page_and_a_bad_cursor_is_refused(instance: Any) -> None:
    assert asset_detail(instance, snapshot(DEFS), "nope") is None
    assert asset_detail(instance, None, "nope") is None
    with pytest.raises(DerasError, match="cursor"):
        asset_detail(instance, None, "rows", cursor="xx")


def test_a_check_result_reads_the_same_on_its_asset_page_and_its_run_page(instance: Any) -> None:
    from deras._instance.views.runs import run_detail

    run_id = _materialize_rows(instance, 0)
    asset = asset_detail(instance, snapshot(DEFS), "rows")
    run = run_detail(instance, run_id)
    assert asset is not None and run is not None
    (on_asset,) = asset.check_history
    (on_run,) = run.checks
    assert on_asset.event_id is not None and on_run.event_id is None  # a run's read has no event id
    assert {**on_asset.to_json(), "event_id": None} == on_run.to_json()
    assert on_run.to_json()["asset_key"] == "rows" and on_run.run_id == run_id and not on_run.passed


@dg.asset
def flaky(context: dg.AssetExecutionContext) -> int:
    if context.run_config.get("fail"):
        raise ValueError("flaky failed")
    return 1


def test_an_asset_whose_latest_run_failed_reads_as_failed_until_it_materializes(instance: Any) -> None:
    defs = dg.Definitions(assets=[flaky])
    failed = dg.materialize([flaky], instance=instance, run_config={"fail": True}, raise_on_error=False)
    (summary,) = list_assets(instance, snapshot(defs)).items
    assert summary.failed_last and summary.last_materialization is None
    assert summary.last_failure is not None and summary.last_failure.run_id == failed.run_id
    dg.materialize([flaky], instance=instance)
    (summary,) = list_assets(instance, snapshot(defs)).items
    assert not summary.failed_last and summary.to_json()["failed_last"] is False
    dg.materialize([flaky], instance=instance, run_config={"fail": True}, raise_on_error=False)
    detail = asset_detail(instance, snapshot(defs), "flaky")
    assert detail is not None and detail.summary.failed_last  # failed after a materialization
