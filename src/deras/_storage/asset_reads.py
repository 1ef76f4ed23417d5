"""Reads of asset facts for the read model: the same fact of many assets in a few queries.

The asset list shows, for 10,000 assets, each one's latest materialization, latest check
results and partition status. One query per asset would be 30,000 round trips; a GROUP BY over
the whole table would read every materialization ever stored. Instead each batch of keys is one
query whose ``IN`` list holds one correlated ``max(event_id)`` per key, which both databases
answer from the end of the key's range in the index (``ix_materializations_asset_event``,
``ix_check_results_asset_check``), then fetch those rows by primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from deras._core.ranges import IndexRanges
from deras._core.records import CheckResultRecord, MaterializationRecord
from deras._core.status import PartitionState

from .database import Database
from .schema import check_results, load_json, materializations, partition_status

# Keys per query: each is one bound parameter and one subquery (SQLite allows 32,766 of the
# former and has no limit on the latter outside compound SELECTs).
_BATCH = 500


class AssetReads:
    """Latest materializations, latest check results and partition status of many assets."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def latest_materializations(self, asset_keys: Sequence[str]) -> dict[str, MaterializationRecord]:
        """The newest materialization of each asset of ``asset_keys`` that has one."""
        found: dict[str, MaterializationRecord] = {}
        keys = list(dict.fromkeys(asset_keys))
        m = materializations
        with self._db.read() as conn:
            for start in range(0, len(keys), _BATCH):
                newest = [
                    sa.select(sa.func.max(m.c.event_id)).where(m.c.asset_key == key).scalar_subquery()
                    for key in keys[start : start + _BATCH]
                ]
                for row in conn.execute(sa.select(m).where(m.c.event_id.in_(newest))):
                    found[row.asset_key] = materialization_record(row)
        return found

    def materialized_asset_keys(self) -> list[str]:
        """Every asset key with a materialization (a scan of the index: for a store read
        without definitions)."""
        query = sa.select(materializations.c.asset_key).distinct().order_by(materializations.c.asset_key)
        with self._db.read() as conn:
            return list(conn.execute(query).scalars())

    def latest_check_results(
        self, checks: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], CheckResultRecord]:
        """The newest result of each ``(asset_key, check_name)`` of ``checks`` that has one."""
        found: dict[tuple[str, str], CheckResultRecord] = {}
        pairs = list(dict.fromkeys(checks))
        c = check_results
        with self._db.read() as conn:
            for start in range(0, len(pairs), _BATCH):
                newest = [
                    sa.select(sa.func.max(c.c.event_id))
                    .where(c.c.asset_key == key, c.c.check_name == name)
                    .scalar_subquery()
                    for key, name in pairs[start : start + _BATCH]
                ]
                for row in conn.execute(sa.select(c).where(c.c.event_id.in_(newest))):
                    found[(row.asset_key, row.check_name)] = check_result_record(row)
        return found

    def check_names(self) -> list[tuple[str, str]]:
        """Every ``(asset_key, check_name)`` with a result (for a store read without definitions)."""
        query = sa.select(check_results.c.asset_key, check_results.c.check_name).distinct()
        with self._db.read() as conn:
            return [(key, name) for key, name in conn.execute(query)]

    def partition_statuses(
        self, asset_keys: Sequence[str]
    ) -> dict[str, tuple[str, dict[PartitionState, IndexRanges]]]:
        """``(def_id, ranges per state)`` of each asset of ``asset_keys`` with a recorded status."""
        found: dict[str, tuple[str, dict[PartitionState, IndexRanges]]] = {}
        keys = list(dict.fromkeys(asset_keys))
        p = partition_status
        query = sa.select(p.c.asset_key, p.c.state, p.c.def_id, p.c.ranges).where(
            p.c.asset_key.in_(sa.bindparam("keys", expanding=True))
        )
        with self._db.read() as conn:
            for start in range(0, len(keys), _BATCH):
                for row in conn.execute(query, {"keys": keys[start : start + _BATCH]}):
                    def_id, states = found.setdefault(row.asset_key, (row.def_id, {}))
                    if row.def_id == def_id:
                        states[PartitionState(row.state)] = IndexRanges(load_json(row.ranges))
        return found

    def materializations_page(
        self, asset_key: str, *, limit: int, before_event_id: int | None = None
    ) -> list[MaterializationRecord]:
        """The asset's materializations, newest first, older than ``before_event_id``."""
        m = materializations
        query = sa.select(m).where(m.c.asset_key == asset_key).order_by(m.c.event_id.desc()).limit(limit)
        if before_event_id is not None:
            query = query.where(m.c.event_id < before_event_id)
        with self._db.read() as conn:
            return [materialization_record(row) for row in conn.execute(query)]

    def check_history(self, asset_key: str, *, limit: int) -> list[tuple[int, CheckResultRecord]]:
        """The asset's latest ``limit`` check results, newest first, with their event ids."""
        c = check_results
        query = sa.select(c).where(c.c.asset_key == asset_key).order_by(c.c.event_id.desc()).limit(limit)
        with self._db.read() as conn:
            return [(row.event_id, check_result_record(row)) for row in conn.execute(query)]


def materialization_record(row: Any) -> MaterializationRecord:
    return MaterializationRecord(
        asset_key=row.asset_key,
        partition=row.partition_key,
        run_id=row.run_id,
        timestamp=row.timestamp,
        metadata=load_json(row.metadata),
        event_id=row.event_id,
    )


def check_result_record(row: Any) -> CheckResultRecord:
    return CheckResultRecord(
        asset_key=row.asset_key,
        check_name=row.check_name,
        passed=bool(row.passed),
        severity=row.severity,
        run_id=row.run_id,
        timestamp=row.timestamp,
        metadata=load_json(row.metadata),
        partition=row.partition_key,
    )
