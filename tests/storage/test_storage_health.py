"""``deras db check`` and ``deras db upgrade``: damage is found and named, never migrated over."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from deras._core.records import RunRecord
from deras._storage import MetadataStore
from deras._storage.health import check_database, upgrade_database
from deras._storage.schema import SCHEMA_REVISION
from deras._storage.sqlite_file import DamagedDatabase


def _sql(url: str, *statements: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_a_whole_database_checks_ok(damageable_db_url: str) -> None:
    _sql(damageable_db_url, "CREATE TABLE not_deras (x INTEGER)")  # other tables are not deras's business
    health = check_database(damageable_db_url)
    assert health.ok, health.problems
    assert health.revisions == [SCHEMA_REVISION]


def test_check_names_each_missing_table_column_and_index(damageable_db_url: str) -> None:
    _sql(
        damageable_db_url,
        "DROP TABLE ticks",
        "DROP INDEX ix_runs_status",
        "ALTER TABLE runs DROP COLUMN worker",
    )
    assert sorted(check_database(damageable_db_url).problems) == [
        "column runs.worker is missing",
        "index ix_runs_status on runs is missing",
        "table ticks is missing",
    ]


def test_check_finds_damaged_pages_of_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "deras.db"
    store = MetadataStore(f"sqlite:///{path}")
    store.write(runs=[RunRecord(f"r{i}", "assets:a", tags={"i": str(i)}) for i in range(300)])
    store.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ix_runs_status'").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size + 16)
        f.write(b"\xff" * (page_size - 32))
    health = check_database(f"sqlite:///{path}")
    assert not health.ok
    assert "integrity_check found damage" in health.problems[0] or "cannot read" in health.problems[0]


def test_check_of_an_emptied_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "deras.db"
    path.write_bytes(b"")
    (problem,) = check_database(f"sqlite:///{path}").problems
    assert "empty (0 bytes)" in problem and "deras db upgrade" in problem


def test_upgrade_says_what_it_did(empty_db_url: str) -> None:
    assert upgrade_database(empty_db_url).startswith("created the deras")
    assert "is up to date" in upgrade_database(empty_db_url)
    assert check_database(empty_db_url).ok


def test_upgrade_of_an_older_schema_says_from_which_revision(damageable_db_url: str) -> None:
    from alembic import command

    from deras._storage.database import Database
    from deras._storage.engine import create_engine
    from deras._storage.migrations import alembic_config

    engine = create_engine(damageable_db_url)
    try:
        config = alembic_config()
        with Database(engine).write_core() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0001_initial")
    finally:
        engine.dispose()
    assert upgrade_database(damageable_db_url).endswith(f"from 0001_initial to {SCHEMA_REVISION}")
    assert check_database(damageable_db_url).ok


def test_upgrade_refuses_a_damaged_database_and_leaves_it_as_is(damageable_db_url: str) -> None:
    _sql(damageable_db_url, "DROP TABLE materializations")
    with pytest.raises(DamagedDatabase, match="table materializations is missing"):
        upgrade_database(damageable_db_url)
    assert check_database(damageable_db_url).problems == ["table materializations is missing"]


def test_upgrade_starts_a_new_database_in_an_emptied_file_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "deras.db"
    path.write_bytes(b"")
    assert "0-byte file" in upgrade_database(f"sqlite:///{path}")
    store = MetadataStore(f"sqlite:///{path}")
    try:
        assert store.get_runs() == []
    finally:
        store.dispose()
