"""Fixtures shared by the whole test suite, one section per subsystem.

Add a section of your own below rather than growing someone else's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from deras._storage import MetadataStore

# ============================================================================================
# lanes: `postgres` and `slow` markers (CI runs everything; see docs/internals.md "Tests")
# ============================================================================================


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs the Postgres server, and tests that run the CLI in a fresh process."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        fixtures = getattr(item, "fixturenames", ())
        if (callspec is not None and callspec.params.get("db_url") == "postgres") or (
            "postgres_session_url" in fixtures
        ):
            item.add_marker(pytest.mark.postgres)
        if "deras" in fixtures:  # tests/cli's fixture: the real command in a new process
            item.add_marker(pytest.mark.slow)


# ============================================================================================
# time: `no_hang`, the only way a test bounds how long something takes
# ============================================================================================


@contextmanager
def _no_hang(seconds: float) -> Iterator[None]:
    started = time.monotonic()
    yield
    took = time.monotonic() - started
    assert took < seconds, f"took {took:.1f} s, past the {seconds:g} s bound: it hung"


@pytest.fixture
def no_hang() -> Callable[[float], AbstractContextManager[None]]:
    """``with no_hang(seconds):`` fails the test if the block took longer than ``seconds``.

    It catches a hang, not slowness: give it ten times (or more) what the block needs on a
    busy laptop. Speed is measured in benchmarks/, never asserted by tests.
    """
    return _no_hang


# ============================================================================================
# storage: `db_url` (SQLite file, then Postgres) and `store` (a MetadataStore on it)
# ============================================================================================
#
# Postgres: one database of its own per pytest session (deras_test_<pid>, created through an
# AUTOCOMMIT connection to the base URL's database, dropped at the end); each test starts on
# empty deras tables (truncated, or recreated if a test left the schema in another state).
# Unreachable Postgres skips those tests, except with CI=true where they fail.

POSTGRES_URL = os.environ.get("DERAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POSTGRES_START_HINT = (
    "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
)


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    """URL of a Postgres database created for this test session."""
    import sqlalchemy as sa

    base = sa.make_url(POSTGRES_URL)
    name = f"deras_test_{os.getpid()}"
    admin = sa.create_engine(
        base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool, connect_args={"connect_timeout": 5}
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as e:
        admin.dispose()
        where = base.render_as_string(hide_password=True)
        if os.environ.get("CI") == "true":
            pytest.fail(f"Postgres not reachable at {where} (CI=true, so this fails): {e}", pytrace=False)
        pytest.skip(f"Postgres not reachable at {where}: {POSTGRES_START_HINT}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _reset_postgres(url: str) -> None:
    """Empty the deras tables; recreate the schema if a test left it changed or missing."""
    import sqlalchemy as sa

    from deras._storage.schema import DERAS_TABLES, SCHEMA_REVISION, VERSION_TABLE

    names = [t.name for t in DERAS_TABLES]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            present = set(
                conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
            )
            at_head = VERSION_TABLE in present and conn.exec_driver_sql(
                f"SELECT version_num FROM {VERSION_TABLE}"
            ).scalars().all() == [SCHEMA_REVISION]
            if at_head and present == {*names, VERSION_TABLE}:
                conn.exec_driver_sql(f"TRUNCATE {', '.join(names)} RESTART IDENTITY")
            elif present:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with no deras data: a new SQLite file, or the session's Postgres database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'deras.db'}"
    url: str = request.getfixturevalue("postgres_session_url")
    _reset_postgres(url)
    return url


def _empty_postgres(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture
def empty_db_url(db_url: str) -> str:
    """``db_url`` with nothing in it, not even the deras tables (for tests of creating them)."""
    if db_url.startswith("postgresql"):
        _empty_postgres(db_url)
    return db_url


@pytest.fixture
def damageable_db_url(db_url: str) -> Iterator[str]:
    """``db_url`` with a deras schema the test may damage (drop a column, an index...);
    Postgres is emptied afterwards, since the per-test reset only notices missing tables."""
    from deras._storage import MetadataStore

    MetadataStore(db_url).dispose()
    yield db_url
    if db_url.startswith("postgresql"):
        _empty_postgres(db_url)


@pytest.fixture
def store(db_url: str) -> Iterator[MetadataStore]:
    from deras._storage import MetadataStore

    metadata_store = MetadataStore(db_url)
    try:
        yield metadata_store
    finally:
        metadata_store.dispose()


# ============================================================================================
# instance: a DerasInstance with its home in tmp_path, on each backend of `db_url`
# ============================================================================================


@pytest.fixture
def instance(db_url: str, tmp_path: Path) -> Iterator[object]:
    from deras._instance.instance import DerasInstance
    from deras._instance.settings import Settings

    inst = DerasInstance(Settings(tmp_path / "home", db_url))
    try:
        yield inst
    finally:
        inst.dispose()


# ============================================================================================
# daemon: `make_instance` (a $DERAS_HOME with deras.yaml, on each backend of `db_url`, that
# worker processes open too) and `write_code` (a code location file)
# ============================================================================================


@pytest.fixture
def make_instance(db_url: str, tmp_path: Path) -> Iterator[object]:
    """``make_instance(config={...})``: a DerasInstance whose deras.yaml holds ``config``."""
    import yaml

    from deras._instance.instance import DerasInstance

    made: list[DerasInstance] = []

    def make(config: dict[str, object] | None = None) -> DerasInstance:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        (home / "deras.yaml").write_text(yaml.safe_dump({"database_url": db_url, **(config or {})}))
        inst = DerasInstance.get(home)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        inst.dispose()


@pytest.fixture
def write_code(tmp_path: Path) -> object:
    """``write_code(source) -> LoadedCode``: the source saved as a file and loaded from it."""
    import textwrap

    from deras._defs.loader import load_definitions

    counter = iter(range(1000))

    def write(source: str) -> object:
        path = tmp_path / f"code_{next(counter)}.py"
        path.write_text(textwrap.dedent(source))
        return load_definitions(file=str(path))

    return write
