"""Variables: Airflow-style named values DAG code and templates read (``dg.Variable``).

Revision ID: 0009_variables
Revises: 0008_asset_failure_latest
Create Date: 2027-01-20

A new table; nothing to fill from older rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_variables"
down_revision: str | None = "0008_asset_failure_latest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "variables",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("update_time", sa.Double, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("variables")
