"""A DAG's runs and pages of runs: index lookups by (dag_id, logical_date) and by create time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from deras._core import tags
from deras._core.errors import DerasError
from deras._core.new_runs import new_run
from deras._core.records import RunRecord, RunTarget
from deras._core.status import RunStatus
from deras._storage import MetadataStore

DAY = datetime(2025, 1, 1, tzinfo=UTC)


def _dag_run(dag_id: str, day: int, *, create_time: float = 1.0, **fields: Any) -> RunRecord:
    return new_run(
        RunTarget.dag(dag_id),
        selection=[f"{dag_id}.t"],
        logical_date=DAY + timedelta(days=day),
        run_type="scheduled",
        create_time=create_time,
        **fields,
    )


def _ids(runs: list[RunRecord]) -> list[str]:
    return [r.run_id for r in runs]


def _pages(store: MetadataStore, size: int, **filters: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    before = None
    while page := store.get_runs(limit=size, before=before, **filters):
        pages.append(_ids(page))
        before = page[-1].run_id
    return pages


def test_a_dag_run_reads_back_with_its_dag_fields(store: MetadataStore) -> None:
    run = new_run(
        RunTarget.dag("etl"),
        selection=["etl.t"],
        logical_date=datetime(2025, 3, 30, tzinfo=ZoneInfo("Europe/Berlin")),
        run_type="backfill",
    )
    store.create_run(run)
    loaded = store.get_run(run.run_id)
    assert loaded == run
    assert loaded.logical_date == datetime(2025, 3, 29, 23, tzinfo=UTC) and loaded.logical_date.tzinfo is UTC
    assert loaded.tags[tags.LOGICAL_DATE] == "2025-03-30T00:00:00+01:00"


def test_runs_of_a_dag_come_by_logical_date_latest_first(store: MetadataStore) -> None:
    runs = [_dag_run("etl", day, create_time=10.0 - day) for day in (2, 0, 1)]
    store.create_runs([*runs, _dag_run("other", 5), RunRecord("assets", "assets:a", create_time=20.0)])
    assert [r.logical_date for r in store.get_runs(dag_id="etl")] == [
        DAY + timedelta(days=d) for d in (2, 1, 0)
    ]


def test_runs_of_a_dag_are_found_by_its_column_not_by_a_tag(store: MetadataStore) -> None:
    dag_run = _dag_run("etl", 0)
    store.create_runs([dag_run, RunRecord("tagged", "assets:a", tags={tags.DAG_ID: "etl"}, create_time=2.0)])
    assert _ids(store.get_runs(dag_id="etl")) == [dag_run.run_id]


def test_runs_of_a_dag_filter_by_status(store: MetadataStore) -> None:
    done = _dag_run("etl", 0, status=RunStatus.SUCCESS)
    queued = _dag_run("etl", 1)
    store.create_runs([done, queued])
    active = store.get_runs(dag_id="etl", status=[RunStatus.QUEUED, RunStatus.STARTED])
    assert _ids(active) == [queued.run_id]


def test_pages_of_runs_follow_create_time_then_creation_order(store: MetadataStore) -> None:
    store.create_runs([RunRecord(f"r{i}", "assets:a", create_time=1.0 + i // 2) for i in range(7)])
    assert _pages(store, 3) == [["r6", "r5", "r4"], ["r3", "r2", "r1"], ["r0"]]


def test_a_page_is_not_shifted_by_runs_created_after_the_one_before_it(store: MetadataStore) -> None:
    store.create_runs([RunRecord(f"r{i}", "assets:a", create_time=1.0 + i) for i in range(4)])
    first = store.get_runs(limit=2)
    store.create_runs([RunRecord("newer", "assets:a", create_time=10.0)])
    assert _ids(store.get_runs(limit=2, before=first[-1].run_id)) == ["r1", "r0"]


def test_pages_of_a_dags_runs_follow_logical_date_then_creation_order(store: MetadataStore) -> None:
    runs = [_dag_run("etl", i // 2) for i in range(5)] + [_dag_run("other", 9)]
    store.create_runs(runs)
    ids = _ids(runs)
    assert _pages(store, 2, dag_id="etl") == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]


def test_a_page_after_an_unknown_run_or_a_run_of_another_dag_is_refused(store: MetadataStore) -> None:
    other = _dag_run("other", 0)
    store.create_runs([other, RunRecord("plain", "assets:a", create_time=1.0)])
    with pytest.raises(DerasError, match="runs before run 'gone': no such run"):
        store.get_runs(before="gone")
    with pytest.raises(DerasError, match="not a run of that DAG"):
        store.get_runs(dag_id="etl", before=other.run_id)
    with pytest.raises(DerasError, match="not a run of that DAG"):
        store.get_runs(dag_id="etl", before="plain")


# -- query plans ------------------------------------------------------------------------------


@contextmanager
def _statements(store: MetadataStore) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their parameters) the store sends while the block runs."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: Any, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = store._db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _plan(store: MetadataStore, statement: str, parameters: Any) -> str:
    """The database's plan for ``statement``; on Postgres with sequential scans priced out, so
    a scan in the plan means no index can serve the query (the table here is small)."""
    engine = store._db.engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))


def _plans_of(store: MetadataStore, call: Callable[[], object]) -> list[str]:
    with _statements(store) as seen:
        call()
    assert seen, "the call sent no query"
    return [_plan(store, statement, parameters) for statement, parameters in seen]


def _is_index_lookup(plan: str) -> bool:
    """No scan of the table (nor of a whole index)."""
    return not any(word in plan for word in ("SCAN ", "Seq Scan"))


def _is_index_range(plan: str) -> bool:
    """Rows read through an index range in the index's order: no scan, and no sort for a page."""
    return _is_index_lookup(plan) and not any(word in plan for word in ("TEMP B-TREE", "Sort"))


@pytest.fixture
def many_runs(store: MetadataStore) -> list[RunRecord]:
    runs = [_dag_run(f"dag{i % 5}", i // 5, create_time=1.0 + i) for i in range(500)]
    runs += [RunRecord(f"a{i}", "assets:a", create_time=1.0 + i) for i in range(500)]
    store.create_runs(runs)
    with store._db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return runs


def test_runs_of_a_dag_and_their_pages_are_index_ranges(store: MetadataStore, many_runs: list) -> None:
    last = store.get_runs(dag_id="dag3", limit=10)[-1].run_id
    every = [  # a DAG's runs, all of them: read through the index (Postgres may sort them after)
        lambda: store.get_runs(dag_id="dag3"),
        lambda: store.get_runs(dag_id="dag3", status=[RunStatus.QUEUED, RunStatus.STARTED]),
    ]
    pages = [
        lambda: store.get_runs(dag_id="dag3", limit=10),
        lambda: store.get_runs(dag_id="dag3", limit=10, before=last),
    ]
    for call in every + pages:
        *lookups, listing = _plans_of(store, call)
        assert "ix_runs_dag" in listing, listing
        assert (_is_index_range if call in pages else _is_index_lookup)(listing), listing
        assert all(_is_index_range(plan) for plan in lookups), lookups


def test_pages_of_all_runs_are_index_ranges_by_create_time(store: MetadataStore, many_runs: list) -> None:
    last = store.get_runs(limit=10)[-1].run_id
    plans = _plans_of(store, lambda: store.get_runs(limit=10, before=last))
    assert "ix_runs_create_time" in plans[-1]
    assert all(_is_index_range(plan) for plan in plans), plans


def test_run_counts_since_count_unfinished_runs_all_and_finished_ones_since(store: MetadataStore) -> None:
    store.create_runs(
        [
            RunRecord("old_done", "assets:a", status=RunStatus.SUCCESS, create_time=1.0),
            RunRecord("old_queued", "assets:a", status=RunStatus.QUEUED, create_time=1.0),
            RunRecord("new_done", "assets:a", status=RunStatus.SUCCESS, create_time=100.0),
        ]
    )
    unfinished = [s for s in RunStatus if not s.is_finished]
    counts = store.run_reads.count_by_status_since(50.0, unfinished=unfinished)
    assert counts == {s.value: 0 for s in RunStatus} | {"success": 1, "queued": 1}


def test_run_counts_since_are_index_ranges(store: MetadataStore, many_runs: list) -> None:
    unfinished = [s for s in RunStatus if not s.is_finished]
    (plan,) = _plans_of(store, lambda: store.run_reads.count_by_status_since(100.0, unfinished=unfinished))
    reads = plan.replace("SCAN CONSTANT ROW", "")  # SQLite: the outer SELECT, of no table
    assert _is_index_lookup(reads) and "ix_runs_status" in plan, plan
