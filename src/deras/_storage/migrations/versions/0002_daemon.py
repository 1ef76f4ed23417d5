"""The daemon's storage: queue columns of runs; instigator state, ticks, backfills and their
units, concurrency slots.

Revision ID: 0002_daemon
Revises: 0001_initial
Create Date: 2026-12-02

Like 0001, this file keeps its own copy of the tables instead of importing ``schema.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_daemon"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite cannot add a constraint to a table: batch mode copies ``runs`` into a new table
    # with it (keeping its rows, ids and indexes); Postgres gets plain ALTER TABLEs.
    # sqlite_autoincrement is not reflected, so it is passed again for the copy.
    with op.batch_alter_table("runs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String))
        batch.add_column(sa.Column("priority", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("heartbeat", sa.Double))
        batch.add_column(sa.Column("worker", sa.Text))
        batch.create_unique_constraint("uq_runs_idempotency_key", ["idempotency_key"])
        batch.create_index("ix_runs_queue", ["status", "priority", "id"])
        batch.create_index("ix_runs_end_time", ["end_time", "id"])

    op.create_table(
        "instigator_state",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("status", sa.String),
        sa.Column("cursor", sa.Text),
        sa.Column("updated_time", sa.Double),
    )

    op.create_table(
        "ticks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("instigator", sa.String, nullable=False),
        sa.Column("tick_time", sa.Double, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("run_ids", sa.Text),
        sa.Column("skip_reason", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("cursor", sa.Text),
        sa.Column("owner", sa.String),
        sa.Column("lease_until", sa.Double),
        sa.Column("start_time", sa.Double),
        sa.Column("end_time", sa.Double),
        sa.UniqueConstraint("instigator", "tick_time", name="uq_ticks_instigator_time"),
    )

    op.create_table(
        "backfills",
        sa.Column("backfill_id", sa.String, primary_key=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("code_location", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("run_config", sa.Text, nullable=False),
        sa.Column("policy", sa.Text),
        sa.Column("parent_backfill_id", sa.String),
        sa.Column("num_units", sa.Integer, nullable=False),
        sa.Column("create_time", sa.Double, nullable=False),
        sa.Column("end_time", sa.Double),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_backfills_create_time", "backfills", ["create_time"])

    op.create_table(
        "backfill_units",
        sa.Column("backfill_id", sa.String, primary_key=True),
        sa.Column("stage", sa.Integer, primary_key=True),
        sa.Column("partition_key", sa.String, primary_key=True),
        sa.Column("partition_last", sa.String),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("run_id", sa.String),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_backfill_units_status", "backfill_units", ["backfill_id", "status", "stage", "idx"])

    op.create_table(
        "concurrency_slots",
        sa.Column("pool", sa.String, primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String),
        sa.Column("node", sa.String),
        sa.Column("claimed_time", sa.Double),
    )
    op.create_index("ix_concurrency_slots_run_id", "concurrency_slots", ["run_id"])


def downgrade() -> None:
    for table in ("concurrency_slots", "backfill_units", "backfills", "ticks", "instigator_state"):
        op.drop_table(table)
    with op.batch_alter_table("runs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_index("ix_runs_end_time")
        batch.drop_index("ix_runs_queue")
        batch.drop_constraint("uq_runs_idempotency_key", type_="unique")
        for column in ("worker", "heartbeat", "priority", "idempotency_key"):
            batch.drop_column(column)
