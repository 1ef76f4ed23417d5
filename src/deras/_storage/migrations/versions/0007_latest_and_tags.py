"""Each asset's latest materialization, each check's latest result, and the runs' tags as rows.

Revision ID: 0007_latest_and_tags
Revises: 0006_daemon_heartbeats
Create Date: 2027-01-12

``asset_latest`` and ``check_latest`` are filled from the rows with the highest event id of
each key; ``run_tags`` from every run's JSON tags (read in batches, in Python: the JSON
functions of the two databases differ). From then on the event store keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_latest_and_tags"
down_revision: str | None = "0006_daemon_heartbeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "asset_latest",
        sa.Column("asset_key", sa.String, primary_key=True),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String, nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.Column("partition_key", sa.String),
    )
    op.create_table(
        "check_latest",
        sa.Column("asset_key", sa.String, primary_key=True),
        sa.Column("check_name", sa.String, primary_key=True),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("severity", sa.String, nullable=False),
        sa.Column("run_id", sa.String, nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.Column("partition_key", sa.String),
    )
    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.String, primary_key=True),
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.String, nullable=False),
        sa.Column("create_time", sa.Double, nullable=False),
        sa.Column("run_row_id", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_run_tags_key_value", "run_tags", ["key", "value", "create_time", "run_row_id"])
    op.execute(
        "INSERT INTO asset_latest (asset_key, event_id, run_id, timestamp, partition_key) "
        "SELECT m.asset_key, m.event_id, m.run_id, m.timestamp, m.partition_key FROM materializations m "
        "WHERE m.event_id = (SELECT max(event_id) FROM materializations WHERE asset_key = m.asset_key)"
    )
    op.execute(
        "INSERT INTO check_latest "
        "(asset_key, check_name, event_id, passed, severity, run_id, timestamp, partition_key) "
        "SELECT c.asset_key, c.check_name, c.event_id, c.passed, c.severity, c.run_id, c.timestamp, "
        "c.partition_key FROM check_results c WHERE c.event_id = (SELECT max(event_id) "
        "FROM check_results WHERE asset_key = c.asset_key AND check_name = c.check_name)"
    )
    _fill_run_tags()


def _fill_run_tags() -> None:
    conn = op.get_bind()
    insert = sa.text(
        "INSERT INTO run_tags (run_id, key, value, create_time, run_row_id) "
        "VALUES (:run_id, :key, :value, :create_time, :run_row_id)"
    )
    after = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, run_id, tags, create_time FROM runs WHERE id > :after AND tags <> '{}' "
                "ORDER BY id LIMIT :n"
            ),
            {"after": after, "n": _BATCH},
        ).all()
        if not rows:
            return
        tags = [
            {"run_id": run_id, "key": key, "value": str(value), "create_time": created, "run_row_id": row_id}
            for row_id, run_id, text, created in rows
            for key, value in json.loads(text).items()
        ]
        if tags:
            conn.execute(insert, tags)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_run_tags_key_value", table_name="run_tags")
    op.drop_table("run_tags")
    op.drop_table("check_latest")
    op.drop_table("asset_latest")
