"""Step claims: which remote worker runs a step attempt, its heartbeat and outcome.

Revision ID: 0004_step_claims
Revises: 0003_run_columns
Create Date: 2026-12-03

Like the others, this file keeps its own copy of the table instead of importing ``schema.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_step_claims"
down_revision: str | None = "0003_run_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "step_claims",
        sa.Column("run_id", sa.String, primary_key=True),
        sa.Column("node", sa.String, primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("worker", sa.Text),
        sa.Column("claimed_time", sa.Double, nullable=False),
        sa.Column("heartbeat", sa.Double, nullable=False),
        sa.Column("outcome", sa.Text),
        sa.Column("finished_time", sa.Double),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("step_claims")
