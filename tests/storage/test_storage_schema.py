"""Creating, checking and migrating the schema; persistence across reopening."""

from __future__ import annotations

import os
import subprocess
import sys
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
