"""A DAG run's identity as columns of runs: dag_id, logical_date, run_type, and the index of a
DAG's runs by logical date.

Revision ID: 0003_run_columns
Revises: 0002_daemon
Create Date: 2026-12-03

Until this revision a DAG run was known by its tags (``deras/dag_id``, ``deras/logical_date``,
``deras/run_type``), found by a LIKE over every run's JSON tags. The upgrade fills the columns
of the runs already stored from those tags (which stay); ``logical_date`` is a POSIX timestamp,
like every time in the schema. Like 0001, this file keeps its own copy of what it needs
instead of importing ``schema.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003_run_columns"
down_revision: str | None = "0002_daemon"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    # Nullable columns without defaults: a plain ADD COLUMN on both databases (no table copy).
    op.add_column("runs", sa.Column("dag_id", sa.String))
    op.add_column("runs", sa.Column("logical_date", sa.Double))
    op.add_column("runs", sa.Column("run_type", sa.String))
    _fill_from_tags()
    op.create_index("ix_runs_dag", "runs", ["dag_id", "logical_date", "id"])


def _fill_from_tags() -> None:
    conn = op.get_bind()
    runs = sa.table(
        "runs",
        sa.column("id", sa.Integer),
        sa.column("tags", sa.Text),
        sa.column("dag_id", sa.String),
        sa.column("logical_date", sa.Double),
        sa.column("run_type", sa.String),
    )
    # The tags JSON is written by one compact encoder, so a DAG run's holds this text.
    dag_runs = sa.select(runs.c.id, runs.c.tags).where(runs.c.tags.contains('"deras/dag_id":'))
    update = (
        sa.update(runs)
        .where(runs.c.id == sa.bindparam("run"))
        .values(
            dag_id=sa.bindparam("dag_id"),
            logical_date=sa.bindparam("logical_date"),
            run_type=sa.bindparam("run_type"),
        )
    )
    last = 0
    while True:
        rows = conn.execute(dag_runs.where(runs.c.id > last).order_by(runs.c.id).limit(_BATCH)).all()
        if not rows:
            return
        values = [v for v in (_columns(row.id, row.tags) for row in rows) if v is not None]
        if values:
            conn.execute(update, values)
        last = rows[-1].id


def _columns(run: int, text: str) -> dict[str, Any] | None:
    tags = json.loads(text)
    dag_id = tags.get("deras/dag_id")
    if not isinstance(dag_id, str):
        return None
    return {
        "run": run,
        "dag_id": dag_id,
        "logical_date": _timestamp(tags.get("deras/logical_date")),
        "run_type": tags.get("deras/run_type") or "manual",
    }


def _timestamp(text: Any) -> float | None:
    """The instant of an ISO logical date (deras wrote them aware; a naive one is read as UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def downgrade() -> None:
    # The tags still hold what the columns did; SQLite drops columns by copying the table.
    with op.batch_alter_table("runs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_index("ix_runs_dag")
        for column in ("run_type", "logical_date", "dag_id"):
            batch.drop_column(column)
