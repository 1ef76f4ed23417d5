"""The daemons' heartbeats: who runs, and when each component of each daemon last ran.

Revision ID: 0006_daemon_heartbeats
Revises: 0005_read_indexes
Create Date: 2027-01-12

A new table; nothing to fill from older rows (no daemon has beaten yet).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_daemon_heartbeats"
down_revision: str | None = "0005_read_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daemon_heartbeats",
        sa.Column("daemon_id", sa.String, primary_key=True),
        sa.Column("host", sa.String, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_time", sa.Double, nullable=False),
        sa.Column("heartbeat_time", sa.Double, nullable=False),
        sa.Column("stopped_time", sa.Double),
        sa.Column("components", sa.Text, nullable=False),
        sa.Column("info", sa.Text),
    )
    op.create_index("ix_daemon_heartbeats_time", "daemon_heartbeats", ["heartbeat_time"])


def downgrade() -> None:
    op.drop_index("ix_daemon_heartbeats_time", table_name="daemon_heartbeats")
    op.drop_table("daemon_heartbeats")
