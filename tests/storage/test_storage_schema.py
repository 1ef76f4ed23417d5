"""Creating, checking and migrating the schema; persistence across reopening."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from deras._core.errors import DerasError
from deras._core.events import EventRecord, EventType, PartitionSpan
from deras._core.records import RunRecord
from deras._core.status import NodeStatus, PartitionState, RunStatus
from deras._storage import MetadataStore
from deras._storage.schema import DERAS_TABLES, KNOWN_REVISIONS, SCHEMA_REVISION, VERSION_TABLE

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _set_revision(url: str, revision: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = :rev"), {"rev": revision})
    finally:
        engine.dispose()


def test_opening_an_empty_database_creates_the_schema(empty_db_url: str) -> None:
    if empty_db_url.startswith("sqlite"):
        assert not Path(sa.make_url(empty_db_url).database or "").exists()  # a new file
    else:
        assert not _tables(empty_db_url) & {t.name for t in DERAS_TABLES}
    store = MetadataStore(empty_db_url)
    try:
        assert store.get_runs() == []
    finally:
        store.dispose()
    assert _tables(empty_db_url) == {t.name for t in DERAS_TABLES} | {VERSION_TABLE}


def test_migrations_build_exactly_the_declared_schema(empty_db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from deras._storage.schema import metadata

    MetadataStore(empty_db_url).dispose()
    engine = sa.create_engine(empty_db_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_schema_revision_constant_is_the_alembic_head() -> None:
    from alembic.script import ScriptDirectory

    from deras._storage.migrations import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_current_head() == SCHEMA_REVISION
    assert [rev.revision for rev in reversed(list(scripts.walk_revisions()))] == list(KNOWN_REVISIONS)


def test_upgrade_is_idempotent(store: MetadataStore) -> None:
    store.create_run(RunRecord("kept", "assets:a", create_time=1.0))
    store.upgrade()
    store.upgrade()
    assert [r.run_id for r in store.get_runs()] == ["kept"]
    reopened = MetadataStore(store.url)
    try:
        assert reopened.get_run("kept") is not None
    finally:
        reopened.dispose()


def test_older_schema_revision_asks_for_deras_db_upgrade(store: MetadataStore) -> None:
    store.dispose()
    _set_revision(store.url, "0000_older")
    with pytest.raises(DerasError, match=r"run `deras db upgrade`") as info:
        MetadataStore(store.url)
    assert "0000_older" in str(info.value)


def test_unknown_schema_revision_asks_for_deras_db_upgrade(store: MetadataStore) -> None:
    store.dispose()
    _set_revision(store.url, "9999_from_the_future")
    with pytest.raises(DerasError, match=r"`deras db upgrade`") as info:
        MetadataStore(store.url)
    assert "9999_from_the_future" in str(info.value) and "newer" in str(info.value)


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    """Migrate the database at ``url`` to ``revision`` (up, or ``down``) like deras does."""
    from alembic import command

    from deras._storage.database import Database
    from deras._storage.engine import create_engine
    from deras._storage.migrations import alembic_config

    engine = create_engine(url)
    try:
        config = alembic_config()
        with Database(engine).write_core() as conn:
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def _fill_at_0001(url: str) -> None:
    """Rows of a database written by the deras of revision 0001 (its columns only)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO runs (run_id, target, status, tags, run_config, create_time, end_time) "
                    "VALUES (:run_id, 'assets:a', :status, '{\"k\":\"v\"}', '{}', :t, :end)"
                ),
                [
                    {"run_id": "old-1", "status": "success", "t": 1.0, "end": 5.0},
                    {"run_id": "old-2", "status": "queued", "t": 2.0, "end": None},
                ],
            )
            conn.execute(
                sa.text(
                    "INSERT INTO event_log (run_id, event_type, message, timestamp) "
                    "VALUES ('old-1', 'run_success', 'done', 5.0)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO attempts (run_id, node, attempt, status, start_time, end_time) "
                    "VALUES ('old-1', 'a', 0, 'success', 3.0, 4.0)"
                )
            )
    finally:
        engine.dispose()


def test_database_at_0001_asks_for_deras_db_upgrade(empty_db_url: str) -> None:
    _migrate(empty_db_url, "0001_initial")
    with pytest.raises(DerasError, match=r"run `deras db upgrade`") as info:
        MetadataStore(empty_db_url)
    assert "0001_initial" in str(info.value) and SCHEMA_REVISION in str(info.value)


def test_upgrading_from_0001_keeps_every_run_and_event(empty_db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from deras._storage.schema import metadata

    _migrate(empty_db_url, "0001_initial")
    _fill_at_0001(empty_db_url)
    _migrate(empty_db_url, "head")

    engine = sa.create_engine(empty_db_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            if conn.dialect.name == "sqlite":  # the copy of runs kept AUTOINCREMENT
                sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'runs'").scalar()
                assert sql is not None and "AUTOINCREMENT" in sql.upper()
    finally:
        engine.dispose()

    store = MetadataStore(empty_db_url)
    try:
        old = store.get_run("old-1")
        assert old is not None and old.status is RunStatus.SUCCESS and old.tags == {"k": "v"}
        assert (old.idempotency_key, old.priority, old.heartbeat, old.worker) == (None, 0, None, None)
        assert [e.message for e in store.get_events("old-1")] == ["done"]
        assert store.get_node_outcomes("old-1") == {"a": NodeStatus.SUCCESS}
        assert [r.run_id for r in store.run_queue.queued_runs()] == ["old-2"]
        assert [r.run_id for r in store.get_runs_finished_after(0.0)] == ["old-1"]
        # New runs come after the old ones, and the new tables work.
        store.create_runs([RunRecord("new", "assets:a", create_time=3.0, idempotency_key="k", priority=1)])
        assert [r.run_id for r in store.run_queue.queued_runs()] == ["new", "old-2"]
        assert store.ticks.claim_tick("schedule:s", 1.0, "d", now=1.0, lease_seconds=1.0) is not None
    finally:
        store.dispose()


def test_downgrading_to_0001_and_upgrading_again_keeps_the_runs(empty_db_url: str) -> None:
    MetadataStore(empty_db_url).dispose()
    _fill_at_0001(empty_db_url)
    _migrate(empty_db_url, "0001_initial", down=True)
    assert not _tables(empty_db_url) & {"ticks", "backfills", "backfill_units", "concurrency_slots"}
    _migrate(empty_db_url, "head")
    store = MetadataStore(empty_db_url)
    try:
        assert sorted(r.run_id for r in store.get_runs()) == ["old-1", "old-2"]
    finally:
        store.dispose()


def _fill_at_0002(url: str, dag_runs: int) -> None:
    """Runs of a database written by the deras of revision 0002: DAG runs known by tags only."""
    tags = [
        # As deras wrote them: the logical date in the DAG's timezone.
        '{"team":"x","deras/dag_id":"etl","deras/run_type":"scheduled","deras/logical_date":"2025-03-30T00:00:00+01:00"}',
        '{"deras/dag_id":"etl","deras/logical_date":"2025-03-31T00:00:00+02:00"}',  # no run type
        '{"deras/dag_id":"etl_2"}',  # no logical date: a DAG run still, with none
        '{"k":"v"}',
    ]
    rows = [{"run_id": f"old-{i}", "tags": t, "t": float(i + 1)} for i, t in enumerate(tags)]
    rows += [
        {
            "run_id": f"many-{i}",
            "tags": f'{{"deras/dag_id":"many","deras/logical_date":"2025-01-01T00:00:{i % 60:02d}+00:00"}}',
            "t": 10.0,
        }
        for i in range(dag_runs)
    ]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO runs (run_id, target, status, tags, run_config, create_time) "
                    "VALUES (:run_id, 'dag:etl', 'success', :tags, '{}', :t)"
                ),
                rows,
            )
    finally:
        engine.dispose()


def test_upgrading_from_0002_gives_dag_runs_their_columns_from_their_tags(empty_db_url: str) -> None:
    from deras._storage.health import check_database

    _migrate(empty_db_url, "0002_daemon")
    _fill_at_0002(empty_db_url, dag_runs=1500)  # more than one batch of the migration
    _migrate(empty_db_url, "head")
    health = check_database(empty_db_url)
    assert health.ok, health.problems

    store = MetadataStore(empty_db_url)
    try:
        etl = store.get_runs(dag_id="etl")
        assert [r.run_id for r in etl] == ["old-1", "old-0"]  # latest logical date first
        assert [(r.logical_date, r.run_type) for r in etl] == [
            (datetime(2025, 3, 30, 22, tzinfo=UTC), "manual"),
            (datetime(2025, 3, 29, 23, tzinfo=UTC), "scheduled"),
        ]
        assert etl[1].tags["team"] == "x" and etl[1].scope == "2025-03-30T00:00:00+01:00"
        [undated] = store.get_runs(dag_id="etl_2")
        assert (undated.logical_date, undated.run_type) == (None, "manual")
        plain = store.get_run("old-3")
        assert plain is not None and (plain.dag_id, plain.logical_date, plain.run_type) == (None, None, None)
        assert len(store.get_runs(dag_id="many")) == 1500
    finally:
        store.dispose()


def test_downgrading_to_0002_and_upgrading_again_fills_the_columns_again(empty_db_url: str) -> None:
    from deras._core.new_runs import new_run
    from deras._core.records import RunTarget

    run = new_run(
        RunTarget.dag("etl"), selection=[], logical_date=datetime(2025, 1, 1, tzinfo=UTC), run_type="backfill"
    )
    store = MetadataStore(empty_db_url)
    try:
        store.create_run(run)
    finally:
        store.dispose()
    _migrate(empty_db_url, "0002_daemon", down=True)
    assert not {"dag_id", "logical_date", "run_type"} & _columns(empty_db_url, "runs")
    _migrate(empty_db_url, "head")
    store = MetadataStore(empty_db_url)
    try:
        assert store.get_runs(dag_id="etl") == [run]
    finally:
        store.dispose()


def _columns(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_opening_a_database_at_head_does_not_import_alembic(store: MetadataStore) -> None:
    code = (
        "import sys\n"
        "from deras._storage import MetadataStore\n"
        f"MetadataStore({store.url!r}).dispose()\n"
        "assert 'alembic' not in sys.modules, 'alembic imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_reopened_store_sees_everything_written(db_url: str) -> None:
    first = MetadataStore(db_url)
    run = RunRecord("r", "assets:*", tags={"k": "v"}, create_time=1.0)
    events = [
        EventRecord("r", EventType.RUN_START, timestamp=2.0),
        EventRecord("r", EventType.STEP_START, node="a", attempt=0, timestamp=3.0),
        EventRecord(
            "r",
            EventType.ASSET_MATERIALIZATION,
            node="a",
            timestamp=4.0,
            data={"asset_key": "a", "partition": "p1", "partitions": PartitionSpan("d", [(1, 2)]).to_json()},
        ),
        EventRecord(
            "r", EventType.ASSET_CHECK_EVALUATION, data={"asset_key": "a", "check_name": "c", "passed": True}
        ),
        EventRecord("r", EventType.STEP_SUCCESS, node="a", attempt=0, timestamp=5.0),
        EventRecord("r", EventType.RUN_SUCCESS, timestamp=6.0),
    ]
    try:
        first.create_run(run, events[:1])
        first.store_events(events[1:])
        first.add_dynamic_partitions("dyn", ["x", "y"])
    finally:
        first.dispose()

    second = MetadataStore(db_url)
    try:
        loaded = second.get_run("r")
        assert loaded is not None and loaded.status is RunStatus.SUCCESS and loaded.tags == {"k": "v"}
        assert second.get_events("r") == events
        assert second.get_node_outcomes("r") == {"a": NodeStatus.SUCCESS}
        latest = second.get_latest_materialization("a", "p1")
        assert latest is not None and latest.event_id == events[2].id
        assert [c.check_name for c in second.get_check_results(run_id="r")] == ["c"]
        assert second.get_partition_status("a")[1][PartitionState.MATERIALIZED].ranges == [(1, 2)]
        assert second.get_dynamic_partitions("dyn") == ["x", "y"]
    finally:
        second.dispose()


def _fill_at_0006(url: str) -> None:
    """Runs with tags, materializations and check results as a deras of revision 0006 wrote them."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO runs (run_id, target, status, tags, run_config, create_time) "
                    "VALUES (:run_id, 'assets:a', 'success', :tags, '{}', :t)"
                ),
                [
                    {"run_id": "r1", "tags": '{"team":"a","env":"prod"}', "t": 1.0},
                    {"run_id": "r2", "tags": '{"team":"b"}', "t": 2.0},
                    {"run_id": "r3", "tags": "{}", "t": 3.0},
                    {"run_id": "r4", "tags": '{"team":"a"}', "t": 4.0},
                ],
            )
            conn.execute(
                sa.text(
                    "INSERT INTO materializations (event_id, asset_key, partition_key, run_id, timestamp, "
                    "metadata) VALUES (:e, :k, :p, :r, :t, '{}')"
                ),
                [
                    {"e": 1, "k": "a", "p": None, "r": "r1", "t": 1.0},
                    {"e": 5, "k": "a", "p": None, "r": "r2", "t": 5.0},
                    {"e": 3, "k": "b", "p": "2025-01-01", "r": "r1", "t": 3.0},
                ],
            )
            conn.execute(
                sa.text(
                    "INSERT INTO check_results (event_id, asset_key, check_name, passed, severity, run_id, "
                    "timestamp, metadata) VALUES (:e, 'a', :c, :ok, 'ERROR', :r, :t, '{}')"
                ),
                [
                    {"e": 2, "c": "positive", "ok": True, "r": "r1", "t": 2.0},
                    {"e": 6, "c": "positive", "ok": False, "r": "r2", "t": 6.0},
                    {"e": 7, "c": "fresh", "ok": True, "r": "r2", "t": 7.0},
                ],
            )
    finally:
        engine.dispose()


def test_upgrading_from_0006_fills_the_latest_facts_and_the_run_tags(empty_db_url: str) -> None:
    _migrate(empty_db_url, "0006_daemon_heartbeats")
    _fill_at_0006(empty_db_url)
    _migrate(empty_db_url, "head")
    store = MetadataStore(empty_db_url)
    try:
        latest = store.asset_reads.latest_materializations(["a", "b", "c"], with_metadata=False)
        assert {k: (m.event_id, m.run_id, m.partition) for k, m in latest.items()} == {
            "a": (5, "r2", None),
            "b": (3, "r1", "2025-01-01"),
        }
        checks = store.asset_reads.latest_check_results([("a", "positive"), ("a", "fresh")])
        assert {k: (c.passed, c.run_id) for k, c in checks.items()} == {
            ("a", "positive"): (False, "r2"),
            ("a", "fresh"): (True, "r2"),
        }
        team_a = store.run_reads.runs_page(limit=10, tags={"team": "a"})
        assert [run.run_id for _, run in team_a] == ["r4", "r1"]
        both = store.run_reads.runs_page(limit=10, tags={"team": "a", "env": "prod"})
        assert [run.run_id for _, run in both] == ["r1"]
    finally:
        store.dispose()


def test_upgrading_from_0007_fills_each_assets_latest_failure(empty_db_url: str) -> None:
    _migrate(empty_db_url, "0007_latest_and_tags")
    engine = sa.create_engine(empty_db_url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO event_log (id, run_id, event_type, message, timestamp, data) "
                    "VALUES (:id, :run_id, :type, '', :t, :data)"
                ),
                [
                    {"id": i, "run_id": run_id, "type": kind, "t": float(i), "data": data}
                    for i, run_id, kind, data in (
                        (1, "r1", "asset_failed", '{"asset_key":"a"}'),
                        (2, "r2", "asset_failed", '{"asset_key":"a"}'),
                        (3, "r2", "step_failure", '{"error":"x"}'),
                        (4, "r1", "asset_failed", '{"asset_key":"b"}'),
                        (5, "r1", "asset_materialization", '{"asset_key":"c"}'),
                    )
                ],
            )
    finally:
        engine.dispose()
    _migrate(empty_db_url, "head")
    store = MetadataStore(empty_db_url)
    try:
        found = store.asset_reads.latest_failures(["a", "b", "c"])
        assert found == {"a": (2, "r2", 2.0), "b": (4, "r1", 4.0)}
    finally:
        store.dispose()
