"""The read model's DAGs: the list with last and next runs, and the runs x tasks grid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from view_snapshots import snapshot

import deras as dg
from deras._core.errors import DerasError
from deras._instance.views.dags import dag_grid, list_dags

DAY = datetime(2025, 3, 1, tzinfo=UTC)


def _etl() -> Any:
    @dg.dag(dag_id="etl", schedule="@daily", start_date=datetime(2025, 1, 1))
    def etl() -> None:
        @dg.task
        def extract(**context: Any) -> list[int]:
            if context["params"].get("fail"):
                raise ValueError("no rows")
            return [1, 2, 3]

        @dg.task
        def double(x: int) -> int:
            return x * 2

        @dg.task(trigger_rule="all_done")
        def report() -> None:
            return None

        double.expand(x=extract()) >> report()

    return etl()


def test_the_grid_has_the_latest_runs_first_and_each_task_state(instance: Any) -> None:
    etl = _etl()
    ok = etl.test(logical_date=DAY, instance=instance)
    bad = etl.test(logical_date=DAY + timedelta(days=1), instance=instance, conf={"fail": True})
    snap = snapshot(dg.Definitions(dags=[etl]))
    grid = dag_grid(instance, snap, "etl")
    assert grid.tasks == ["extract", "double", "report"]
    assert [r.run_id for r in grid.runs] == [bad.run_id, ok.run_id]
    assert grid.states == [
        ["failed", "upstream_failed", "success"],
        ["success", "success", "success"],  # the mapped task: one cell for its 3 instances
    ]
    assert grid.next_cursor is None and grid.to_json()["states"] == grid.states


def test_grid_pages_go_back_in_logical_dates(instance: Any) -> None:
    etl = _etl()
    runs = [etl.test(logical_date=DAY + timedelta(days=i), instance=instance) for i in range(5)]
    snap = snapshot(dg.Definitions(dags=[etl]))
    seen, cursor = [], None
    while True:
        grid = dag_grid(instance, snap, "etl", limit=2, before=cursor)
        seen.append([r.run_id for r in grid.runs])
        cursor = grid.next_cursor
        if cursor is None:
            break
    newest_first = [r.run_id for r in runs][::-1]
    assert seen == [newest_first[:2], newest_first[2:4], newest_first[4:]]


def test_a_grid_without_a_snapshot_shows_the_tasks_the_runs_have(instance: Any) -> None:
    etl = _etl()
    etl.test(logical_date=DAY, instance=instance)
    assert dag_grid(instance, None, "etl").tasks == ["double", "extract", "report"]


def test_a_dag_unknown_to_the_snapshot_or_a_bad_cursor_is_refused(instance: Any) -> None:
    snap = snapshot(dg.Definitions(dags=[_etl()]))
    with pytest.raises(DerasError, match="'nope'"):
        dag_grid(instance, snap, "nope")
    with pytest.raises(DerasError, match="cursor"):
        dag_grid(instance, snap, "etl", before="bogus")


def test_the_dag_list_has_the_last_run_and_the_next_logical_date(instance: Any) -> None:
    etl = _etl()

    @dg.dag(dag_id="adhoc", schedule=None, start_date=datetime(2025, 1, 1))
    def adhoc() -> None:
        dg.EmptyOperator(task_id="nothing")

    etl.test(logical_date=DAY, instance=instance)
    last = etl.test(logical_date=DAY + timedelta(days=3), instance=instance)
    etl.test(logical_date=DAY + timedelta(days=1), instance=instance)  # later, but an older date
    snap = snapshot(dg.Definitions(dags=[etl, adhoc()]))
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    found = {d.dag_id: d for d in list_dags(instance, snap, now=now)}
    assert list(found) == ["adhoc", "etl"]
    assert found["etl"].last_run is not None and found["etl"].last_run.run_id == last.run_id
    assert found["etl"].next_run == "2025-06-02T00:00:00+00:00" and found["etl"].tasks == 3
    assert found["adhoc"].last_run is None and found["adhoc"].next_run is None
