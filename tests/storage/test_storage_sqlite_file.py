"""The SQLite file: a mistyped URL, an emptied or damaged file, a full disk — said, never lost."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from deras._core.errors import DerasError
from deras._core.records import RunRecord
from deras._storage import MetadataStore
from deras._storage.sqlite_file import DamagedDatabase


def test_a_url_whose_folder_does_not_exist_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "nonexistent" / "dir"
    with pytest.raises(DerasError, match="does not exist") as info:
        MetadataStore(f"sqlite:///{folder / 'deras.db'}")
    assert str(folder) in str(info.value) and "DERAS_DATABASE_URL" in str(info.value)
    assert not (tmp_path / "nonexistent").exists()


def test_creating_a_database_leaves_nothing_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "deras.db"
    MetadataStore(f"sqlite:///{path}").dispose()
    assert path.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # built aside, moved in


def test_an_emptied_database_file_is_refused_not_taken_for_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "deras.db"
    store = MetadataStore(f"sqlite:///{path}")
    store.create_run(RunRecord("earlier", "assets:a"))
    store.dispose()
    path.write_bytes(b"")  # what a failed copy or a truncation leaves
    with pytest.raises(DamagedDatabase, match=r"empty \(0-byte\).*deras db upgrade"):
        MetadataStore(f"sqlite:///{path}")
    assert path.stat().st_size == 0  # left as found


def test_two_processes_creating_one_new_database_both_use_it(tmp_path: Path) -> None:
    path = tmp_path / "deras.db"
    script = (
        "import sys; from deras._storage import MetadataStore; from deras._core.records import RunRecord\n"
        f"s = MetadataStore({f'sqlite:///{path}'!r}); s.create_run(RunRecord(sys.argv[1], 'assets:a'))"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, f"r{i}"]) for i in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    store = MetadataStore(f"sqlite:///{path}")
    try:
        assert sorted(r.run_id for r in store.get_runs()) == ["r0", "r1", "r2", "r3"]
    finally:
        store.dispose()


def _drop(path: Path, table: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"DROP TABLE {table}")
    conn.commit()
    conn.close()


def test_threads_creating_new_databases_at_once_all_succeed(tmp_path: Path) -> None:
    """Alembic keeps the running migration in module globals: migrations must not interleave."""
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def create(i: int) -> None:
        barrier.wait()
        try:
            MetadataStore(f"sqlite:///{tmp_path / f'db{i % 2}.db'}").dispose()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == ["db0.db", "db1.db"]


@pytest.mark.parametrize("table", ["materializations", "runs", "event_log", "ticks"])
def test_a_dropped_table_is_reported_as_damage_on_open(tmp_path: Path, table: str) -> None:
    path = tmp_path / "deras.db"
    MetadataStore(f"sqlite:///{path}").dispose()
    _drop(path, table)
    with pytest.raises(DamagedDatabase, match=rf"damaged: table\(s\) {table} missing.*deras db check"):
        MetadataStore(f"sqlite:///{path}")


def test_a_table_dropped_while_open_is_reported_as_damage(tmp_path: Path) -> None:
    path = tmp_path / "deras.db"
    store = MetadataStore(f"sqlite:///{path}")
    try:
        _drop(path, "runs")
        with pytest.raises(DamagedDatabase, match="its table runs is missing"):
            store.create_run(RunRecord("r", "assets:a"))
    finally:
        store.dispose()


def _damage(path: Path) -> None:
    with path.open("r+b") as f:
        f.seek(0)
        f.write(os.urandom(100))  # the header: "file is not a database"


def test_a_damaged_file_is_reported_as_damaged_not_as_a_bad_url(tmp_path: Path) -> None:
    from deras._instance.instance import DerasInstance
    from deras._instance.settings import Settings

    path = tmp_path / "deras.db"
    MetadataStore(f"sqlite:///{path}").dispose()
    _damage(path)
    instance = DerasInstance(Settings(tmp_path, f"sqlite:///{path}"))
    with pytest.raises(DamagedDatabase, match="is damaged") as info:
        instance.get_runs()
    assert "server is running" not in str(info.value)
