"""``deras db check`` and ``deras db upgrade``: is the database whole, and bringing it to head.

A check compares the schema with what the migrations build (alembic's ``compare_metadata``:
every deras table, column, type and index; other tables in the database are not deras's
business) and, on SQLite, runs ``PRAGMA integrity_check`` (``quick_check`` at daemon start:
it skips matching indexes against tables, and costs well under a second per 100 MB). It never
creates or changes anything. It imports alembic and reads the catalog, so it runs where the
user asks (``db check``, ``db upgrade``) and at daemon start, not whenever a store opens: that
only checks the revision and that the deras tables exist (``store.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from deras._core.errors import DerasError

from .engine import check_sqlite_folder, create_engine, sqlite_file
from .schema import DERAS_TABLE_NAMES, KNOWN_REVISIONS, SCHEMA_REVISION, VERSION_TABLE, metadata
from .sqlite_file import RESTORE_HINT, DamagedDatabase

_OURS = DERAS_TABLE_NAMES | {VERSION_TABLE}
_SHOWN_LINES = 10  # of integrity_check's findings


@dataclass(slots=True)
class Health:
    """What a check found: the schema revision(s) and each problem, in words."""

    where: str
    revisions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_database(url: str, *, quick: bool = False) -> Health:
    """Check the database at ``url`` without changing it; ``quick``: SQLite's quick_check."""
    parsed = sa.make_url(url)
    health = _health(parsed)
    path = sqlite_file(parsed)
    if path is not None:
        check_sqlite_folder(parsed)
        if not path.exists():
            health.problems.append("there is no database file (run `deras db upgrade` to create it)")
            return health
        if path.stat().st_size == 0:
            health.problems.append(
                "the file is empty (0 bytes): emptied by something other than deras; restore it "
                "from a backup, or run `deras db upgrade` to start a new database in it"
            )
            return health
    _inspect(parsed, health, "quick_check" if quick else "integrity_check")
    if health.problems:
        return health
    if not health.revisions:
        health.problems.append("there is no deras schema in it (run `deras db upgrade` to create it)")
    elif health.revisions != [SCHEMA_REVISION]:
        health.problems.append(
            f"its schema revision is {', '.join(health.revisions)}, not {SCHEMA_REVISION} "
            "(run `deras db upgrade`, with the deras version that knows it)"
        )
    return health


def require_healthy(url: str, *, quick: bool = True) -> None:
    """Raise :class:`DamagedDatabase` listing the problems if the database at ``url`` has any."""
    health = check_database(url, quick=quick)
    if not health.ok:
        raise DamagedDatabase(_damage_report(health))


def upgrade_database(url: str) -> str:
    """Check the database, create or migrate its schema to head, check again; says what it did.

    A damaged database is not touched (:class:`DamagedDatabase`). A missing SQLite file is
    created; an existing 0-byte one (which opening refuses) gets a new, empty schema: running
    this is how the user says that is what they want.
    """
    from .sqlite_file import build_aside

    parsed = sa.make_url(url)
    path = sqlite_file(parsed)
    if path is not None:
        check_sqlite_folder(parsed)
        if not path.exists() or path.stat().st_size == 0:
            emptied = path.exists()
            build_aside(parsed, path, _build_schema, replace=emptied)
            if emptied:
                return f"started a new, empty deras database in the 0-byte file {path} ({SCHEMA_REVISION})"
            return f"created the deras database {path} ({SCHEMA_REVISION})"
    health = _health(parsed)
    _inspect(parsed, health, "integrity_check")
    if not health.ok:
        raise DamagedDatabase(_damage_report(health))
    before = health.revisions
    unknown = [rev for rev in before if rev not in KNOWN_REVISIONS]
    if unknown:
        raise DerasError(
            f"the deras database at {health.where} has schema revision {', '.join(unknown)}, "
            f"unknown to this version of deras (which knows up to {SCHEMA_REVISION}): it was "
            "migrated by a newer deras; upgrade deras"
        )
    if before == [SCHEMA_REVISION]:
        return f"the deras database at {health.where} is up to date (schema {SCHEMA_REVISION}); checked: ok"
    _build_schema(parsed)
    after = _health(parsed)
    _inspect(parsed, after, None)
    if after.revisions != [SCHEMA_REVISION] or not after.ok:
        after.problems.insert(0, f"after migrating, its schema revision is {', '.join(after.revisions)}")
        raise DamagedDatabase(_damage_report(after))
    if not before:
        return f"created the deras schema ({SCHEMA_REVISION}) in the database at {health.where}"
    return f"migrated the deras database at {health.where} from {', '.join(before)} to {SCHEMA_REVISION}"


def _health(url: sa.URL) -> Health:
    path = sqlite_file(url)
    return Health(str(path) if path is not None else url.render_as_string(hide_password=True))


def _build_schema(url: sa.URL) -> None:
    from .store import build_schema

    build_schema(url)


def _inspect(url: sa.URL, health: Health, integrity: str | None) -> None:
    """SQLite's ``integrity`` pragma if given, then the revisions and, at head, the schema.

    Read-only, so run again whole on a lost Postgres connection (the daemon checks at start,
    perhaps while the server fails over).
    """
    import sqlite3

    from .database import Database

    engine = create_engine(url)
    try:
        if url.get_backend_name() == "sqlite":
            revisions, problems = _inspect_once(engine, integrity)
        else:
            revisions, problems = Database(engine).retrying(lambda: _inspect_once(engine, integrity))
    except (sa.exc.DatabaseError, sqlite3.DatabaseError) as err:
        if url.get_backend_name() == "sqlite":
            orig = err.orig if isinstance(err, sa.exc.DBAPIError) else err
            health.problems.append(f"SQLite cannot read it: {orig}")
            return
        if isinstance(err, sa.exc.OperationalError):  # never reached: not worth retrying
            raise DerasError(
                f"cannot reach the database at {health.where}: "
                f"{str(err.orig).strip().splitlines()[0]}. Fix: check DERAS_DATABASE_URL and that "
                "the server is running"
            ) from err
        raise
    finally:
        engine.dispose()
    health.revisions = revisions
    health.problems.extend(problems)


def _inspect_once(engine: sa.Engine, integrity: str | None) -> tuple[list[str], list[str]]:
    with engine.connect() as conn:
        if integrity is not None and conn.dialect.name == "sqlite":
            lines = [str(row[0]) for row in conn.exec_driver_sql(f"PRAGMA {integrity}({_SHOWN_LINES})")]
            if lines != ["ok"]:
                return [], [f"{integrity} found damage: " + "; ".join(lines)]
        revisions = _revisions(conn)
        return revisions, _schema_differences(conn) if revisions == [SCHEMA_REVISION] else []


def _revisions(conn: sa.Connection) -> list[str]:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return []
    return sorted(row[0] for row in conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}"))


def _schema_differences(conn: sa.Connection) -> list[str]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def ours(name: str | None, kind: str, _parent: Any) -> bool:
        return kind != "table" or name in _OURS

    context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": ours})
    diffs = compare_metadata(context, metadata)
    missing = {d[1].name for d in diffs if isinstance(d, tuple) and d[0] == "add_table"}
    problems = []
    for diff in diffs:
        for change in diff if isinstance(diff, list) else [diff]:
            text = _describe(change, missing)
            if text:
                problems.append(text)
    return problems


def _describe(change: tuple[Any, ...], missing_tables: set[str]) -> str | None:
    kind = change[0]
    if kind == "add_table":
        return f"table {change[1].name} is missing"
    if kind in ("add_index", "remove_index"):
        index = change[1]
        if index.table.name in missing_tables:
            return None  # said with its table
        where = f"index {index.name} on {index.table.name}"
        return f"{where} is missing" if kind == "add_index" else f"{where} is not in the schema"
    if kind == "add_column":
        return f"column {change[2]}.{change[3].name} is missing"
    if kind == "remove_column":
        return f"column {change[2]}.{change[3].name} is not in the schema"
    if kind.startswith("modify_"):
        _, _, table, column, _, found, wanted = change
        return f"column {table}.{column}: {kind.removeprefix('modify_')} is {found}, not {wanted}"
    return f"differs from the schema: {change}"


def _damage_report(health: Health) -> str:
    lines = "\n".join(f"  - {problem}" for problem in health.problems)
    return (
        f"the deras database {health.where} is damaged or not a deras database:\n{lines}\nFix: {RESTORE_HINT}"
    )
