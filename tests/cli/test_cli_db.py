"""``deras db upgrade`` / ``deras db check``, and what the other commands say about a bad database."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

Deras = Callable[..., CompletedProcess[str]]

CODE = """
import deras as dg

@dg.asset
def a():
    return 1

defs = dg.Definitions(assets=[a])
"""


def _drop(db: Path, table: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute(f"DROP TABLE {table}")
    conn.commit()
    conn.close()


def test_db_upgrade_says_what_it_did_and_db_check_says_ok(deras: Deras, tmp_path: Path) -> None:
    created = deras("db", "upgrade")
    assert created.returncode == 0 and "created the deras database" in created.stdout
    again = deras("db", "upgrade")
    assert again.returncode == 0 and "is up to date" in again.stdout
    checked = deras("db", "check")
    assert checked.returncode == 0 and ": ok (schema" in checked.stdout


def test_a_dropped_table_fails_check_upgrade_and_materialize_naming_it(deras: Deras, tmp_path: Path) -> None:
    code = tmp_path / "defs.py"
    code.write_text(CODE)
    assert deras("materialize", "-f", str(code), "--select", "a").returncode == 0
    _drop(tmp_path / "home" / "deras.db", "materializations")
    for args in (("db", "check"), ("db", "upgrade"), ("materialize", "-f", str(code), "--select", "a")):
        result = deras(*args)
        assert result.returncode == 1, args
        assert "materializations" in result.stderr and "Traceback" not in result.stderr, args


def test_the_daemon_does_not_start_on_a_damaged_database(deras: Deras, tmp_path: Path) -> None:
    code = tmp_path / "defs.py"
    code.write_text(CODE)
    assert deras("db", "upgrade").returncode == 0
    _drop(tmp_path / "home" / "deras.db", "ticks")
    result = deras("daemon", "run", "-f", str(code), "--max-seconds", "5")
    assert result.returncode == 1
    assert "table(s) ticks missing" in result.stderr and "Traceback" not in result.stderr


def test_a_sqlite_url_into_a_missing_folder_is_an_error_that_names_it(deras: Deras, tmp_path: Path) -> None:
    folder = tmp_path / "nonexistent" / "dir"
    result = deras("runs", "list", env={"DERAS_DATABASE_URL": f"sqlite:///{folder}/deras.db"})
    assert result.returncode == 1
    assert f"the folder {folder}" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize("command", [("runs", "list"), ("db", "check")])
def test_an_emptied_database_file_is_never_silently_new(
    deras: Deras, tmp_path: Path, command: tuple[str, ...]
) -> None:
    assert deras("db", "upgrade").returncode == 0
    (tmp_path / "home" / "deras.db").write_bytes(b"")
    result = deras(*command)
    assert result.returncode == 1
    assert "0-byte" in result.stderr or "0 bytes" in result.stderr
    assert "deras db upgrade" in result.stderr


def test_db_upgrade_starts_a_new_database_in_an_emptied_file(deras: Deras, tmp_path: Path) -> None:
    assert deras("db", "upgrade").returncode == 0
    (tmp_path / "home" / "deras.db").write_bytes(b"")
    upgraded = deras("db", "upgrade")
    assert upgraded.returncode == 0 and "started a new, empty deras database" in upgraded.stdout
    assert deras("runs", "list").returncode == 0
