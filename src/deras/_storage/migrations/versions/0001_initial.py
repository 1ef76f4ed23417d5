"""Initial schema: runs, attempts, event log, materializations, check results, partition
status, dynamic partitions.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25

Migrations are history: this file keeps its own copy of the tables as they were, instead of
importing ``schema.py`` (which moves on with later revisions).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String, nullable=False, unique=True),
        sa.Column("target", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("job_name", sa.String),
        sa.Column("partition_key", sa.String),
        sa.Column("partition_range", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("run_config", sa.Text, nullable=False),
        sa.Column("selection", sa.Text),
        sa.Column("code_location", sa.Text),
        sa.Column("parent_run_id", sa.String),
        sa.Column("root_run_id", sa.String),
        sa.Column("backfill_id", sa.String),
        sa.Column("create_time", sa.Double, nullable=False),
        sa.Column("start_time", sa.Double),
        sa.Column("end_time", sa.Double),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_runs_create_time", "runs", ["create_time", "id"])
    op.create_index("ix_runs_status", "runs", ["status", "create_time"])
    op.create_index("ix_runs_backfill_id", "runs", ["backfill_id", "create_time"])

    op.create_table(
        "attempts",
        sa.Column("run_id", sa.String, primary_key=True),
        sa.Column("node", sa.String, primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("start_time", sa.Double),
        sa.Column("end_time", sa.Double),
        sa.Column("error", sa.Text),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "event_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String, nullable=False),
        sa.Column("event_type", sa.String, nullable=False),
        sa.Column("node", sa.String),
        sa.Column("attempt", sa.Integer),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("level", sa.String),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.Column("data", sa.Text),
    )
    op.create_index("ix_event_log_run_id", "event_log", ["run_id", "id"])

    op.create_table(
        "materializations",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("asset_key", sa.String, nullable=False),
        sa.Column("partition_key", sa.String),
        sa.Column("partition_range_first", sa.String),
        sa.Column("partition_range_last", sa.String),
        sa.Column("run_id", sa.String, nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
    )
    op.create_index("ix_materializations_asset_event", "materializations", ["asset_key", "event_id"])
    op.create_index(
        "ix_materializations_asset_partition", "materializations", ["asset_key", "partition_key", "event_id"]
    )

    op.create_table(
        "check_results",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("asset_key", sa.String, nullable=False),
        sa.Column("check_name", sa.String, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("severity", sa.String, nullable=False),
        sa.Column("partition_key", sa.String),
        sa.Column("run_id", sa.String, nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
    )
    op.create_index("ix_check_results_asset", "check_results", ["asset_key", "event_id"])
    op.create_index("ix_check_results_run", "check_results", ["run_id", "event_id"])

    op.create_table(
        "partition_status",
        sa.Column("asset_key", sa.String, primary_key=True),
        sa.Column("state", sa.String, primary_key=True),
        sa.Column("def_id", sa.String, nullable=False),
        sa.Column("ranges", sa.Text, nullable=False),
    )

    op.create_table(
        "dynamic_partitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("partition_key", sa.String, nullable=False),
        sa.UniqueConstraint("name", "partition_key", name="uq_dynamic_partitions_name_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_dynamic_partitions_name_id", "dynamic_partitions", ["name", "id"])


def downgrade() -> None:
    for table in (
        "dynamic_partitions",
        "partition_status",
        "check_results",
        "materializations",
        "event_log",
        "attempts",
        "runs",
    ):
        op.drop_table(table)
