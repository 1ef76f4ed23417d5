"""A SQLite database file: created whole, never mistaken for new, its failures named.

* A new database is built aside (``.deras.db.<pid>.<random>.new``) and linked into place complete, so
  deras never leaves a 0-byte database file behind. A 0-byte file at the database's path was
  therefore emptied by something else (a failed copy, a truncation); SQLite would take it for an
  empty database and deras would start afresh, silently losing every earlier run. Opening one is
  an error; ``deras db upgrade`` is the explicit way to start a new database in it.
* SQLite's answers "database disk image is malformed", "file is not a database" and "database or
  disk is full" (or an I/O error on a full disk), and a deras table gone missing, become errors
  that say so and what to do.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from deras._core.errors import DerasError

from .engine import check_sqlite_folder, sqlite_file
from .schema import DERAS_TABLE_NAMES


class DamagedDatabase(DerasError):
    """The database file is damaged or emptied, or lacks deras tables at the current revision."""


RESTORE_HINT = (
    "restore it from a backup, or start afresh with a new database (move the SQLite file away, "
    "or point DERAS_DATABASE_URL at a new database)"
)


def damaged(path: object, what: str) -> DamagedDatabase:
    return DamagedDatabase(
        f"the deras database {path} is damaged: {what}. Fix: {RESTORE_HINT}; `deras db check` "
        "lists what is wrong"
    )


def empty_file(path: Path) -> DamagedDatabase:
    return DamagedDatabase(
        f"the deras database {path} is an empty (0-byte) file: deras never leaves one, so it "
        "was emptied by something else, and the runs it held are gone. Fix: restore it from a "
        "backup; or, to start a new, empty database in it, run `deras db upgrade`"
    )


def prepare_sqlite_file(url: sa.URL, create: Callable[[sa.URL], None]) -> None:
    """Before opening ``url``'s file: build it if missing (``create`` makes a schema at a URL);
    refuse a 0-byte one."""
    check_sqlite_folder(url)
    path = sqlite_file(url)
    if path is None:
        return
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        build_aside(url, path, create)
        return
    if size == 0:
        raise empty_file(path)


def build_aside(url: sa.URL, path: Path, create: Callable[[sa.URL], None], *, replace: bool = False) -> None:
    """Build a new database beside ``path`` and move it there whole.

    It goes in only if ``path`` does not exist (another process may have created it meanwhile:
    then theirs is used), or over it with ``replace``. A ``-wal`` file left beside a missing or
    emptied database is renamed ``*.orphaned``: SQLite would replay its pages into the new one.
    """
    # Unique per call: threads of one process may create the same database at once.
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        create(url.set(database=str(aside)))
        for suffix in ("-wal", "-shm"):
            stale = Path(f"{path}{suffix}")
            if stale.exists() and (replace or not path.exists()):
                os.replace(stale, f"{stale}.orphaned")
        if replace:
            os.replace(aside, path)
            return
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process created it meanwhile: everyone uses theirs
        except OSError:  # no hard links here: claim the name, then move the file over it
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            except FileExistsError:
                return
            os.replace(aside, path)
    finally:
        for leftover in (aside, Path(f"{aside}-wal"), Path(f"{aside}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _no_space_near(path: object) -> bool:
    try:
        stats = os.statvfs(Path(str(path)).parent)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 1024 * 1024


def sqlite_failure(err: BaseException, url: sa.URL) -> DerasError | None:
    """What SQLite's ``err`` means for the user, if it is about the file rather than the statement."""
    orig = err.orig if isinstance(err, sa.exc.DBAPIError) else err
    if not isinstance(orig, sqlite3.Error):
        return None
    where = sqlite_file(url) or url.render_as_string(hide_password=True)
    code = getattr(orig, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return damaged(where, str(orig))
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and _no_space_near(where)):
        # A full disk shows as an I/O error when SQLite cannot grow its shared-memory file.
        return DerasError(
            f"cannot write the deras database {where}: disk full ({orig}). Fix: free space on "
            "its filesystem, then run again"
        )
    table = str(orig).removeprefix("no such table: ")
    if table != str(orig) and table in DERAS_TABLE_NAMES:
        return damaged(where, f"its table {table} is missing")
    return None
