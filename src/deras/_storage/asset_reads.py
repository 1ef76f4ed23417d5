"""Reads of asset facts for the read model: the same fact of many assets in a few queries.

The asset list shows, for 10,000 assets, each one's latest materialization, latest check
results and partition status. One query per asset would be 30,000 round trips; a GROUP BY over
the whole table would read every materialization ever stored. Instead the event store keeps
each asset's latest materialization and each check's latest result in tables of their own
(``asset_latest``, ``check_latest``: one row per key, written in the events' transaction), so
the list reads each as one scan. A materialization with its metadata (an asset's page) is read
from ``materializations``: each batch of keys is one query whose ``IN`` list holds one
correlated ``max(event_id)`` per key, answered from the end of the key's range in
``ix_materializations_asset_event`` (Postgres: a ``LATERAL`` join over the keys as an array).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from deras._core.ranges import IndexRanges
from deras._core.records import CheckResultRecord, MaterializationRecord
from deras._core.status import PartitionState

from .database import Database
from .schema import (
    asset_failure_latest,
    asset_latest,
    check_latest,
    check_results,
    load_json,
    materializations,
    partition_status,
)

# Keys per query: each is one bound parameter and one subquery (SQLite allows 32,766 of the
# former and has no limit on the latter outside compound SELECTs). The statements are built and
# compiled once per process: building 10,000 subqueries per call cost seconds.
_BATCH = 500
_m = materializations
_LATEST_MATERIALIZATIONS = sa.select(_m).where(
    _m.c.event_id.in_(
        [
            sa.select(sa.func.max(_m.c.event_id))
            .where(_m.c.asset_key == sa.bindparam(f"k_{i}"))
            .scalar_subquery()
            for i in range(_BATCH)
        ]
    )
)
# Postgres plans 500 scalar subqueries in an IN list slowly (5 s for 10,000 keys); a LATERAL
# join over the keys as one array is one index seek per key.
_PG_LATEST_MATERIALIZATIONS = (
    "SELECT m.* FROM unnest(%(keys)s::text[]) AS k(key) CROSS JOIN LATERAL "
    "(SELECT * FROM materializations WHERE asset_key = k.key ORDER BY event_id DESC LIMIT 1) AS m"
)

_FAILED_KEY, _FAILED_EVENT = asset_failure_latest.c.asset_key, asset_failure_latest.c.event_id

# The lineage's colours (``AssetReads.asset_states``): statements without parameters, compiled
# once, read as the driver's tuples.
_ASSET_STATES = (
    sa.select(asset_latest.c.asset_key, asset_latest.c.timestamp),
    sa.select(check_latest.c.asset_key, check_latest.c.check_name).where(sa.not_(check_latest.c.passed)),
    sa.select(*(partition_status.c[name] for name in ("asset_key", "state", "def_id", "ranges"))).where(
        partition_status.c.state != sa.literal_column(f"'{PartitionState.MATERIALIZED.value}'")
    ),
    # Assets whose latest failure is newer than their latest materialization (or that have none):
    # the comparison is made by the database, so only the few failed keys come back.
    sa.select(asset_failure_latest.c.asset_key)
    .select_from(asset_failure_latest.outerjoin(asset_latest, asset_latest.c.asset_key == _FAILED_KEY))
    .where(sa.or_(asset_latest.c.event_id.is_(None), asset_latest.c.event_id < _FAILED_EVENT)),
)


class AssetReads:
    """Latest materializations, latest check results and partition status of many assets."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def latest_materializations(
        self, asset_keys: Sequence[str], *, with_metadata: bool = True
    ) -> dict[str, MaterializationRecord]:
        """The newest materialization of each asset of ``asset_keys`` that has one (without
        ``with_metadata``, their metadata is left unread: ``{}``, and the rows come from
        ``asset_latest``: one scan for many assets)."""
        keys = list(dict.fromkeys(asset_keys))
        if not with_metadata:
            found = self._latest(asset_latest, keys)
            return {
                key: MaterializationRecord(key, partition, run_id, timestamp, {}, event_id)
                for key, event_id, run_id, timestamp, partition in found
            }
        if not self._db.is_sqlite:
            rows = self._lateral(_PG_LATEST_MATERIALIZATIONS, {"keys": keys})
        else:
            rows = self._batched(_LATEST_MATERIALIZATIONS, [{"k": key} for key in keys])
        return {row.asset_key: materialization_record(row, with_metadata) for row in rows}

    def latest_failures(self, asset_keys: Sequence[str]) -> dict[str, tuple[int, str, float]]:
        """``(event_id, run_id, timestamp)`` of the newest ``ASSET_FAILED`` of each asset of
        ``asset_keys`` that has one (``asset_failure_latest``: one scan for many assets)."""
        found = self._latest(asset_failure_latest, list(dict.fromkeys(asset_keys)))
        return {key: (event_id, run_id, timestamp) for key, event_id, run_id, timestamp in found}

    def materialized_asset_keys(self) -> list[str]:
        """Every asset key with a materialization (``asset_latest``, for a store read without
        definitions)."""
        query = sa.select(asset_latest.c.asset_key).order_by(asset_latest.c.asset_key)
        with self._db.read() as conn:
            return list(conn.execute(query).scalars())

    def asset_keys_page(
        self, *, limit: int, after: str | None = None, search: str | None = None, partitioned: bool = False
    ) -> list[str]:
        """Up to ``limit`` keys of materialized assets after ``after``, by key (the primary key of
        ``asset_latest``); ``search``: keys containing this text, any case; ``partitioned``: only
        assets with a recorded partition status."""
        key = asset_latest.c.asset_key
        query = sa.select(key).order_by(key).limit(limit)
        if after is not None:
            query = query.where(key > after)
        if search:
            query = query.where(sa.func.lower(key).contains(search.lower(), autoescape=True))
        if partitioned:
            query = query.where(key.in_(sa.select(partition_status.c.asset_key)))
        with self._db.read() as conn:
            return list(conn.execute(query).scalars())

    def latest_check_results(
        self, checks: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], CheckResultRecord]:
        """The newest result of each ``(asset_key, check_name)`` of ``checks`` that has one, from
        ``check_latest`` (their metadata left unread: ``{}``; ``check_history`` has it)."""
        wanted = set(checks)
        if not wanted:
            return {}
        found = self.latest_check_results_of(sorted({key for key, _ in wanted}))
        return {pair: record for pair, record in found.items() if pair in wanted}

    def latest_check_results_of(self, asset_keys: Sequence[str]) -> dict[tuple[str, str], CheckResultRecord]:
        """The newest result of every check of the assets ``asset_keys`` (``check_latest``, as
        :meth:`latest_check_results`), by ``(asset_key, check_name)``."""
        return {
            (key, name): CheckResultRecord(
                asset_key=key,
                check_name=name,
                passed=bool(passed),
                severity=severity,
                run_id=run_id,
                timestamp=timestamp,
                metadata={},
                partition=partition,
            )
            for key, name, _, passed, severity, run_id, timestamp, partition in self._latest(
                check_latest, list(dict.fromkeys(asset_keys))
            )
        }

    def failing_checks(self) -> list[tuple[str, str, str, str, float, str | None]]:
        """``(asset_key, check_name, severity, run_id, timestamp, partition)`` of every check whose
        latest result failed, newest first: the failing rows of ``check_latest`` only."""
        c = check_latest
        query = (
            sa.select(
                c.c.asset_key, c.c.check_name, c.c.severity, c.c.run_id, c.c.timestamp, c.c.partition_key
            )
            .where(sa.not_(c.c.passed))
            .order_by(c.c.timestamp.desc(), c.c.asset_key, c.c.check_name)
        )
        with self._db.read() as conn:
            return [tuple(row) for row in conn.execute(query)]

    def asset_states(self) -> AssetStateRows:
        """What colours each asset of a lineage graph, for every asset at once: one read of
        ``asset_latest`` (key and time only), the failing rows of ``check_latest``, the
        in-progress and failed rows of ``partition_status`` and the keys of ``asset_failure_latest``
        newer than their materialization, all as the driver's tuples (a few columns of 10,000
        rows: Core rows or records would cost more than the reads)."""
        found: list[list[Any]] = []
        with self._db.read() as conn:
            for query in _ASSET_STATES:
                prepared = self._db.prepared(query)
                found.append(conn.exec_driver_sql(prepared.sql, prepared.params({})).cursor.fetchall())
        materialized, failing, partitions, failed_last = found
        decoded = [(key, state, def_id, load_json(r)) for key, state, def_id, r in partitions]
        return AssetStateRows(materialized, failing, decoded, [key for (key,) in failed_last])

    def _latest(self, table: sa.Table, keys: list[str]) -> list[tuple[Any, ...]]:
        """The rows of a ``*_latest`` table for ``keys``: the whole table in one read when the
        keys are many (a few columns per asset), else by primary key."""
        if not keys:
            return []
        query = sa.select(table)
        with self._db.read() as conn:
            if len(keys) > _BATCH:
                wanted = set(keys)
                prepared = self._db.prepared(query)
                result = conn.exec_driver_sql(prepared.sql, prepared.params({}))
                return [row for row in result.cursor.fetchall() if row[0] in wanted]
            rows = conn.execute(query.where(table.c.asset_key.in_(keys))).all()
            return [tuple(row) for row in rows]

    def _lateral(self, sql: str, params: dict[str, list[str]]) -> list[Any]:
        """Postgres: one query, the keys as arrays, one index seek per key (LATERAL)."""
        if not params["keys"]:
            return []
        with self._db.read() as conn:
            result = conn.exec_driver_sql(sql, params)
            columns = [d[0] for d in result.cursor.description]
            return [_Named(columns, values) for values in result.cursor.fetchall()]

    def _batched(self, statement: sa.Select[Any], values: list[dict[str, str]]) -> list[Any]:
        """The rows of ``statement`` for every place's values, ``_BATCH`` places per query;
        unused places are NULL, whose ``max`` is NULL, which matches nothing."""
        if not values:
            return []
        prepared = self._db.prepared(statement)
        names = list(values[0])
        rows: list[Any] = []
        with self._db.read() as conn:
            for start in range(0, len(values), _BATCH):
                chunk = values[start : start + _BATCH]
                params = {
                    f"{name}_{i}": chunk[i][name] if i < len(chunk) else None
                    for i in range(_BATCH)
                    for name in names
                }
                result = conn.exec_driver_sql(prepared.sql, prepared.params(params))
                columns = [d[0] for d in result.cursor.description]
                # The driver's tuples, named once: Core rows for 10,000 assets cost 3x the query.
                rows.extend(_Named(columns, values) for values in result.cursor.fetchall())
        return rows

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
        query = sa.select(p.c.asset_key, p.c.state, p.c.def_id, p.c.ranges)
        with self._db.read() as conn:
            if len(keys) > _BATCH:
                # Many keys: the whole table (a few rows per partitioned asset) in one read
                # beats a query per batch of keys.
                wanted = set(keys)
                rows = [row for row in conn.execute(query) if row.asset_key in wanted]
            else:
                rows = conn.execute(query.where(p.c.asset_key.in_(keys))).all() if keys else []
        for row in rows:
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


@dataclass(frozen=True)
class AssetStateRows:
    """The rows :meth:`AssetReads.asset_states` read, as tuples."""

    materialized: list[tuple[str, float]]  # (asset_key, latest materialization's timestamp)
    failing_checks: list[tuple[str, str]]  # (asset_key, check_name) whose latest result failed
    partitions: list[tuple[str, str, str, Any]]  # (asset_key, state, def_id, [[start, end], ...])
    failed_last: list[str]  # asset keys whose latest failure is newer than their materialization


class _Named:
    """A driver tuple whose values are read by column name (``row.asset_key``)."""

    __slots__ = ("_index", "_values")

    def __init__(self, names: list[str], values: tuple[Any, ...]) -> None:
        self._index = names
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return self._values[self._index.index(name)]


def materialization_record(row: Any, with_metadata: bool = True) -> MaterializationRecord:
    return MaterializationRecord(
        asset_key=row.asset_key,
        partition=row.partition_key,
        run_id=row.run_id,
        timestamp=row.timestamp,
        metadata=load_json(row.metadata) if with_metadata else {},
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
