"""Alembic migrations of the metadata store, run from code (no alembic.ini).

``MetadataStore.upgrade()`` (and ``deras db upgrade``) call :func:`upgrade_to_head`. To write a
new revision during development, against a database at head::

    from alembic import command
    from deras._storage.migrations import alembic_config
    command.revision(alembic_config("sqlite:///dev.db"), message="add ticks", autogenerate=True)

then update ``schema.SCHEMA_REVISION`` and ``schema.KNOWN_REVISIONS``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

    from deras._storage.database import Database

# Any constant: serialises concurrent upgrades of one Postgres database (pg_advisory_xact_lock).
_UPGRADE_LOCK_KEY = 0x64657261  # "dera"
# Alembic keeps the running migration in module globals (``alembic.op``, ``alembic.context``):
# two threads migrating at once, even different databases, would run each other's operations.
_ALEMBIC_LOCK = threading.Lock()


def alembic_config(url: str | None = None) -> Config:
    """An alembic ``Config`` for these migrations, on ``url`` if given."""
    from alembic.config import Config

    config = Config()
    # Config values go through configparser interpolation: a '%' in the path must be doubled.
    config.set_main_option("script_location", str(Path(__file__).parent).replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(db: Database) -> None:
    """Migrate ``db`` to the newest revision, in one transaction; a no-op if already there.

    The transaction takes the write lock first (SQLite: BEGIN IMMEDIATE; Postgres: an advisory
    lock), so two processes opening a new database together create the schema once: the second
    waits, then finds it at head.
    """
    from alembic import command

    config = alembic_config()
    with _ALEMBIC_LOCK, db.write_core() as connection:
        if db.is_postgres:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
