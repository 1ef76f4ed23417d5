"""Indexes for the read model's keyset pages (runs by status, target, backfill or DAG; checks).

Revision ID: 0005_read_indexes
Revises: 0004_step_claims
Create Date: 2027-01-10

A listing filtered by one column pages by (create_time, id): each filter's index ends with
those two, so a page is an index range whatever page it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_read_indexes"
down_revision: str | None = "0004_step_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REPLACED = {
    # name: (table, columns before, columns after)
    "ix_runs_status": ("runs", ["status", "create_time"], ["status", "create_time", "id"]),
    "ix_runs_backfill_id": ("runs", ["backfill_id", "create_time"], ["backfill_id", "create_time", "id"]),
    "ix_backfills_create_time": ("backfills", ["create_time"], ["create_time", "backfill_id"]),
}
_ADDED = {
    "ix_runs_target": ("runs", ["target", "create_time", "id"]),
    "ix_runs_dag_create": ("runs", ["dag_id", "create_time", "id"]),
    "ix_check_results_asset_check": ("check_results", ["asset_key", "check_name", "event_id"]),
}


def upgrade() -> None:
    for name, (table, _, after) in _REPLACED.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after)
    for name, (table, columns) in _ADDED.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in _ADDED.items():
        op.drop_index(name, table_name=table)
    for name, (table, before, _) in _REPLACED.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before)
