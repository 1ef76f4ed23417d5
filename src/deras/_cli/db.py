"""``deras db``: the metadata database."""

from __future__ import annotations

import click

from .._instance.settings import Settings


@click.group("db")
def db_group() -> None:
    """Manage the metadata database."""


@db_group.command("upgrade")
def upgrade() -> None:
    """Create or migrate the schema to the latest version (alembic)."""
    from .._storage.database import Database
    from .._storage.engine import create_engine
    from .._storage.migrations import upgrade_to_head

    settings = Settings.from_env()
    if settings.database_url.startswith("sqlite:///"):
        settings.home.mkdir(parents=True, exist_ok=True)
    # Not MetadataStore(url): opening refuses an outdated schema, which is what we migrate.
    engine = create_engine(settings.database_url)
    try:
        upgrade_to_head(Database(engine))
    finally:
        engine.dispose()
    click.echo(f"database at {_redact(settings.database_url)} is up to date")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
