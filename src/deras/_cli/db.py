"""``deras db``: the metadata database."""

from __future__ import annotations

import sys

import click

from .._instance.settings import Settings


@click.group("db")
def db_group() -> None:
    """Manage the metadata database."""


@db_group.command("upgrade")
def upgrade() -> None:
    """Check the database, then create or migrate its schema to this version (alembic).

    Refuses a damaged database (see `deras db check`). Starts a new, empty database in a
    0-byte SQLite file, which opening it otherwise refuses.
    """
    from .._storage.health import upgrade_database

    settings = Settings.from_env()
    if settings.database_url.startswith("sqlite:///"):
        settings.home.mkdir(parents=True, exist_ok=True)
    # Not MetadataStore(url): opening refuses an outdated schema, which is what we migrate.
    click.echo(upgrade_database(settings.database_url))


@db_group.command("check")
@click.option("--quick", is_flag=True, help="SQLite: quick_check instead of integrity_check (faster).")
def check(quick: bool) -> None:
    """Check the database without changing it; exit 1 if anything is wrong.

    Compares every deras table, column and index with what the migrations build, and on
    SQLite checks the file's integrity (PRAGMA integrity_check).
    """
    from .._storage.health import check_database

    settings = Settings.from_env()
    health = check_database(settings.database_url, quick=quick)
    if health.ok:
        click.echo(f"{health.where}: ok (schema {', '.join(health.revisions)})")
        return
    click.echo(f"{health.where}: {len(health.problems)} problem(s)", err=True)
    for problem in health.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)
