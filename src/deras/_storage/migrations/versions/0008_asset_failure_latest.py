"""Each asset's latest failure as a row (``asset_failure_latest``), for the lineage's colours.

Revision ID: 0008_asset_failure_latest
Revises: 0007_latest_and_tags
Create Date: 2027-01-20

Filled from the ``asset_failed`` events of the log (read in batches; the asset key is in the
event's JSON data, which the two databases read differently, so Python reads it). From then on
the event store keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_asset_failure_latest"
down_revision: str | None = "0007_latest_and_tags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "asset_failure_latest",
        sa.Column("asset_key", sa.String, primary_key=True),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String, nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
    )
    conn = op.get_bind()
    latest: dict[str, tuple[int, str, float]] = {}
    after = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, run_id, timestamp, data FROM event_log WHERE id > :after "
                "AND event_type = 'asset_failed' ORDER BY id LIMIT :n"
            ),
            {"after": after, "n": _BATCH},
        ).all()
        if not rows:
            break
        for event_id, run_id, timestamp, data in rows:
            key = json.loads(data or "{}").get("asset_key")
            if key:
                latest[key] = (event_id, run_id, timestamp)  # ascending ids: the last one wins
        after = rows[-1][0]
    if latest:
        conn.execute(
            sa.text(
                "INSERT INTO asset_failure_latest (asset_key, event_id, run_id, timestamp) "
                "VALUES (:asset_key, :event_id, :run_id, :timestamp)"
            ),
            [
                {"asset_key": key, "event_id": e, "run_id": r, "timestamp": t}
                for key, (e, r, t) in sorted(latest.items())
            ],
        )


def downgrade() -> None:
    op.drop_table("asset_failure_latest")
