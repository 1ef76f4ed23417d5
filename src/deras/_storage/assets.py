"""Asset rows: materializations, check results, partition status and dynamic partitions.

Partition status keeps, per asset, the partitions in each :class:`PartitionState` as index
ranges (see ``schema.partition_status``). The states are exclusive except ``in_progress``,
which may overlap ``materialized`` and ``failed`` (a partition being re-materialized keeps its
last outcome until the new one is recorded):

=========================  ============  ======  ===========
event (with partitions)    materialized  failed  in_progress
=========================  ============  ======  ===========
MATERIALIZATION_PLANNED                          add
ASSET_MATERIALIZATION      add           remove  remove
ASSET_FAILED               remove        add     remove
=========================  ============  ======  ===========

If an event's partitions definition (``def_id``) differs from the one stored for the asset,
the definition changed and the stored indices mean nothing any more: the asset's status is
reset to empty under the new ``def_id`` before the event is applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam

from deras._core.errors import DerasError
from deras._core.events import (
    DATA_ASSET_KEY,
    DATA_CHECK_NAME,
    DATA_METADATA,
    DATA_PARTITION,
    DATA_PARTITION_RANGE,
    DATA_PARTITIONS,
    DATA_PASSED,
    DATA_SEVERITY,
    EventRecord,
    EventType,
    PartitionSpan,
)
from deras._core.ranges import IndexRanges
from deras._core.records import CheckResultRecord, MaterializationRecord
from deras._core.status import PartitionState

from .database import Database, WriteTransaction
from .schema import (
    asset_failure_latest,
    asset_latest,
    check_latest,
    check_results,
    dump_json,
    dynamic_partitions,
    load_json,
    materializations,
    partition_status,
)

DEFAULT_SEVERITY = "ERROR"
_KEYS_PER_QUERY = 200

_INSERT_MATERIALIZATION = sa.insert(materializations).values(
    {c.name: bindparam(c.name) for c in materializations.c if c.name != "id"}
)
_INSERT_CHECK_RESULT = sa.insert(check_results).values(
    {c.name: bindparam(c.name) for c in check_results.c if c.name != "id"}
)
# FOR UPDATE locks the asset's rows on Postgres until commit, so concurrent writers of one
# asset apply their changes one after the other. SQLite renders no FOR UPDATE: BEGIN IMMEDIATE
# already serialises writers.
_LOCK_STATUS = (
    sa.select(partition_status.c.state, partition_status.c.def_id, partition_status.c.ranges)
    .where(partition_status.c.asset_key == bindparam("key"))
    .order_by(partition_status.c.state)
    .with_for_update()
)
_UPDATE_STATUS = (
    sa.update(partition_status)
    .where(partition_status.c.asset_key == bindparam("key"), partition_status.c.state == bindparam("st"))
    .values(def_id=bindparam("def_id"), ranges=bindparam("ranges"))
)
_DELETE_DYNAMIC = sa.delete(dynamic_partitions).where(
    dynamic_partitions.c.name == bindparam("name"),
    dynamic_partitions.c.partition_key == bindparam("key"),
)


def _latest_upsert(table: sa.Table, key: list[str]) -> Any:
    """Insert the row of a key, or replace the stored one if this one's event is newer."""

    def build(insert: Any) -> sa.Executable:
        stmt = insert(table).values({c.name: bindparam(c.name) for c in table.c})
        return stmt.on_conflict_do_update(
            index_elements=[table.c[k] for k in key],
            set_={c.name: stmt.excluded[c.name] for c in table.c if c.name not in key},
            where=stmt.excluded.event_id > table.c.event_id,
        )

    return build


_UPSERT_ASSET_LATEST = _latest_upsert(asset_latest, ["asset_key"])
_UPSERT_CHECK_LATEST = _latest_upsert(check_latest, ["asset_key", "check_name"])
_UPSERT_FAILURE_LATEST = _latest_upsert(asset_failure_latest, ["asset_key"])


def _newest(rows: list[dict[str, Any]], key: tuple[str, ...], columns: list[str]) -> list[dict[str, Any]]:
    """The newest row of each key of a batch, in key order (writers lock keys in one order)."""
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        if k not in newest or row["event_id"] > newest[k]["event_id"]:
            newest[k] = row
    return [{c: newest[k][c] for c in columns} for k in sorted(newest)]


def _create_status_rows(insert: Any) -> sa.Executable:
    """Empty rows for an asset's states; a concurrent writer's rows win (they are then locked)."""
    stmt = insert(partition_status).values({c.name: bindparam(c.name) for c in partition_status.c})
    return stmt.on_conflict_do_nothing(
        index_elements=[partition_status.c.asset_key, partition_status.c.state]
    )


def _add_dynamic(insert: Any) -> sa.Executable:
    stmt = insert(dynamic_partitions).values(name=bindparam("name"), partition_key=bindparam("key"))
    return stmt.on_conflict_do_nothing(
        index_elements=[dynamic_partitions.c.name, dynamic_partitions.c.partition_key]
    )


_UNION, _DIFFERENCE = True, False
_TRANSITIONS: dict[EventType, tuple[tuple[PartitionState, bool], ...]] = {
    EventType.MATERIALIZATION_PLANNED: ((PartitionState.IN_PROGRESS, _UNION),),
    EventType.ASSET_MATERIALIZATION: (
        (PartitionState.MATERIALIZED, _UNION),
        (PartitionState.FAILED, _DIFFERENCE),
        (PartitionState.IN_PROGRESS, _DIFFERENCE),
    ),
    EventType.ASSET_FAILED: (
        (PartitionState.FAILED, _UNION),
        (PartitionState.MATERIALIZED, _DIFFERENCE),
        (PartitionState.IN_PROGRESS, _DIFFERENCE),
    ),
}
ASSET_EVENT_TYPES = frozenset({*_TRANSITIONS, EventType.ASSET_CHECK_EVALUATION})


class AssetChanges:
    """The asset rows one batch of events adds or changes, written by :meth:`flush`."""

    __slots__ = ("_checks", "_failures", "_materializations", "_spans")

    def __init__(self) -> None:
        self._materializations: list[dict[str, Any]] = []
        self._checks: list[dict[str, Any]] = []
        self._failures: list[dict[str, Any]] = []
        self._spans: dict[str, list[tuple[EventType, PartitionSpan]]] = {}

    def add(self, event: EventRecord, event_id: int) -> None:
        data = event.data
        asset_key = data.get(DATA_ASSET_KEY)
        if not asset_key:
            raise DerasError(
                f"{event.event_type} event of run {event.run_id} has no data[{DATA_ASSET_KEY!r}]"
            )
        kind = event.event_type
        if kind is EventType.ASSET_CHECK_EVALUATION:
            check_name = data.get(DATA_CHECK_NAME)
            if not check_name:
                raise DerasError(f"{kind} event of run {event.run_id} has no data[{DATA_CHECK_NAME!r}]")
            self._checks.append(
                {
                    "event_id": event_id,
                    "asset_key": asset_key,
                    "check_name": check_name,
                    "passed": bool(data.get(DATA_PASSED)),
                    "severity": str(data.get(DATA_SEVERITY) or DEFAULT_SEVERITY),
                    "partition_key": data.get(DATA_PARTITION),
                    "run_id": event.run_id,
                    "timestamp": event.timestamp,
                    "metadata": dump_json(data.get(DATA_METADATA) or {}),
                }
            )
            return
        if kind is EventType.ASSET_MATERIALIZATION:
            first, last = data.get(DATA_PARTITION_RANGE) or (None, None)
            self._materializations.append(
                {
                    "event_id": event_id,
                    "asset_key": asset_key,
                    "partition_key": data.get(DATA_PARTITION),
                    "partition_range_first": first,
                    "partition_range_last": last,
                    "run_id": event.run_id,
                    "timestamp": event.timestamp,
                    "metadata": dump_json(data.get(DATA_METADATA) or {}),
                }
            )
        if kind is EventType.ASSET_FAILED:
            self._failures.append(
                {
                    "event_id": event_id,
                    "asset_key": asset_key,
                    "run_id": event.run_id,
                    "timestamp": event.timestamp,
                }
            )
        spans = data.get(DATA_PARTITIONS)
        if spans:
            self._spans.setdefault(asset_key, []).append((kind, PartitionSpan.from_json(spans)))

    def flush(self, tx: WriteTransaction) -> None:
        tx.executemany(_INSERT_MATERIALIZATION, self._materializations)
        tx.executemany(_INSERT_CHECK_RESULT, self._checks)
        # The latest facts, then partition status: every writer takes its row locks in this
        # order, each table's keys sorted, so two never wait on each other in a cycle.
        tx.executemany(
            _UPSERT_ASSET_LATEST,
            _newest(self._materializations, ("asset_key",), [c.name for c in asset_latest.c]),
        )
        tx.executemany(
            _UPSERT_CHECK_LATEST,
            _newest(self._checks, ("asset_key", "check_name"), [c.name for c in check_latest.c]),
        )
        tx.executemany(
            _UPSERT_FAILURE_LATEST,
            _newest(self._failures, ("asset_key",), [c.name for c in asset_failure_latest.c]),
        )
        # Lock assets in one global order so two writers never wait on each other in a cycle.
        for asset_key in sorted(self._spans):
            _apply_spans(tx, asset_key, self._spans[asset_key])


def _apply_spans(tx: WriteTransaction, asset_key: str, spans: list[tuple[EventType, PartitionSpan]]) -> None:
    """Read-modify-write the asset's partition status rows (locked) with ``spans`` in order.

    Only the states an event changes are parsed and written back: an asset with a million
    partitions in a thousand ranges costs milliseconds per state touched.
    """
    rows = tx.fetchall(_LOCK_STATUS, {"key": asset_key})
    if len(rows) < len(PartitionState):
        # First write for this asset: create its rows, then lock them like any other write.
        empty = [
            {"asset_key": asset_key, "state": s.value, "def_id": spans[0][1].def_id, "ranges": "[]"}
            for s in PartitionState
        ]
        tx.executemany(_create_status_rows, empty)
        rows = tx.fetchall(_LOCK_STATUS, {"key": asset_key})
    stored_def_id: str = rows[0][1]
    def_id = stored_def_id
    texts = {PartitionState(state): ranges for state, _, ranges in rows}
    current: dict[PartitionState, IndexRanges] = {}
    changed: set[PartitionState] = set()
    for state, row_def_id, _ in rows:
        if row_def_id != stored_def_id:  # never written so; repaired by rewriting it empty
            current[PartitionState(state)] = IndexRanges()
            changed.add(PartitionState(state))
    for kind, span in spans:
        if span.def_id != def_id:
            def_id = span.def_id
            current = {state: IndexRanges() for state in PartitionState}
            changed = set(PartitionState)
        for state, union in _TRANSITIONS[kind]:
            ranges = current.get(state)
            if ranges is None:
                ranges = current[state] = IndexRanges(load_json(texts[state]))
            if union:
                current[state] = ranges.union(span.ranges)
            elif any(ranges.intersects(a, b) for a, b in span.ranges):
                current[state] = ranges.difference(span.ranges)
            else:
                continue
            changed.add(state)
    # A new def_id marked every state changed, so all rows move to it together.
    updates = [
        {"key": asset_key, "st": state.value, "def_id": def_id, "ranges": dump_json(current[state].ranges)}
        for state in sorted(changed)
    ]
    tx.executemany(_UPDATE_STATUS, updates)


class AssetStore:
    """Reads of materializations, check results and partition status; dynamic partitions."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get_latest_materialization(
        self, asset_key: str, partition: str | None = None
    ) -> MaterializationRecord | None:
        """The newest materialization of ``asset_key``; of ``partition`` if given, else of any."""
        query = _materialization_query(asset_key).limit(1)
        if partition is not None:
            query = query.where(materializations.c.partition_key == partition)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _materialization_record(row)

    def get_materializations(self, asset_key: str, limit: int | None = None) -> list[MaterializationRecord]:
        query = _materialization_query(asset_key)
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            return [_materialization_record(row) for row in conn.execute(query)]

    def get_materializations_after(
        self, event_id: int, asset_keys: Sequence[str] | None = None, limit: int | None = None
    ) -> list[MaterializationRecord]:
        """Materializations stored after ``event_id`` (of ``asset_keys`` if given), oldest first.

        Event ids only grow, so a reader that keeps the last id it saw gets each one once.
        """
        query = (
            sa.select(materializations)
            .where(materializations.c.event_id > event_id)
            .order_by(materializations.c.event_id)
        )
        if asset_keys is not None:
            query = query.where(materializations.c.asset_key.in_(list(asset_keys)))
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            return [_materialization_record(row) for row in conn.execute(query)]

    def get_latest_materialization_event_ids(self, asset_keys: Sequence[str]) -> dict[str, int]:
        """The newest materialization's event id of each asset of ``asset_keys`` that has one.

        One query per 200 keys: a UNION ALL of one correlated ``max`` per key, which both
        databases answer from the end of the key's range in ``ix_materializations_asset_event``,
        where a GROUP BY would read every materialization of the keys. (SQLite accepts neither
        column names on a VALUES list nor more than 500 terms in a compound SELECT.)
        """
        unique = list(dict.fromkeys(asset_keys))
        found: dict[str, int] = {}
        with self._db.read() as conn:
            for start in range(0, len(unique), _KEYS_PER_QUERY):
                newest = [
                    sa.select(
                        sa.literal(key, sa.String).label("asset_key"),
                        sa.select(sa.func.max(materializations.c.event_id))
                        .where(materializations.c.asset_key == key)
                        .scalar_subquery()
                        .label("event_id"),
                    )
                    for key in unique[start : start + _KEYS_PER_QUERY]
                ]
                for key, event_id in conn.execute(sa.union_all(*newest)):
                    if event_id is not None:
                        found[key] = event_id
        return found

    def get_materialized_partitions(self, asset_key: str) -> list[str]:
        """Distinct single-partition keys with a materialization, sorted by key."""
        query = (
            sa.select(materializations.c.partition_key)
            .where(materializations.c.asset_key == asset_key, materializations.c.partition_key.is_not(None))
            .distinct()
            .order_by(materializations.c.partition_key)
        )
        with self._db.read() as conn:
            return list(conn.execute(query).scalars())

    def get_check_results(
        self, *, asset_key: str | None = None, run_id: str | None = None
    ) -> list[CheckResultRecord]:
        query = sa.select(check_results).order_by(check_results.c.event_id)
        if asset_key is not None:
            query = query.where(check_results.c.asset_key == asset_key)
        if run_id is not None:
            query = query.where(check_results.c.run_id == run_id)
        with self._db.read() as conn:
            return [
                CheckResultRecord(
                    asset_key=row.asset_key,
                    check_name=row.check_name,
                    passed=bool(row.passed),
                    severity=row.severity,
                    run_id=row.run_id,
                    timestamp=row.timestamp,
                    metadata=load_json(row.metadata),
                    partition=row.partition_key,
                )
                for row in conn.execute(query)
            ]

    def get_partition_status(self, asset_key: str) -> tuple[str | None, dict[PartitionState, IndexRanges]]:
        """``(def_id, ranges per state)``, every state present; ``(None, {})`` if nothing recorded."""
        query = sa.select(
            partition_status.c.state, partition_status.c.def_id, partition_status.c.ranges
        ).where(partition_status.c.asset_key == asset_key)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None, {}
        def_id: str = rows[0].def_id
        status = {state: IndexRanges() for state in PartitionState}
        for row in rows:
            if row.def_id == def_id:
                status[PartitionState(row.state)] = IndexRanges(load_json(row.ranges))
        return def_id, status

    # -- dynamic partitions -------------------------------------------------------------------

    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        """Add ``keys`` (in order) to the dynamic partitions ``name``; known keys are skipped."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return
        rows = [{"name": name, "key": key} for key in unique]
        self._db.transact(lambda tx: tx.executemany(_add_dynamic, rows))

    def get_dynamic_partitions(self, name: str) -> list[str]:
        query = (
            sa.select(dynamic_partitions.c.partition_key)
            .where(dynamic_partitions.c.name == name)
            .order_by(dynamic_partitions.c.id)
        )
        with self._db.read() as conn:
            return list(conn.execute(query).scalars())

    def get_dynamic_partition_indices(self, name: str) -> dict[str, int]:
        """Each key's partition index: increasing in insertion order, never reused after a delete."""
        query = (
            sa.select(dynamic_partitions.c.partition_key, dynamic_partitions.c.id)
            .where(dynamic_partitions.c.name == name)
            .order_by(dynamic_partitions.c.id)
        )
        with self._db.read() as conn:
            return {row.partition_key: row.id for row in conn.execute(query)}

    def delete_dynamic_partition(self, name: str, key: str) -> None:
        self._db.transact(lambda tx: tx.execute(_DELETE_DYNAMIC, {"name": name, "key": key}))


def _materialization_query(asset_key: str) -> sa.Select[Any]:
    return (
        sa.select(materializations)
        .where(materializations.c.asset_key == asset_key)
        .order_by(materializations.c.event_id.desc())
    )


def _materialization_record(row: sa.Row[Any]) -> MaterializationRecord:
    return MaterializationRecord(
        asset_key=row.asset_key,
        partition=row.partition_key,
        run_id=row.run_id,
        timestamp=row.timestamp,
        metadata=load_json(row.metadata),
        event_id=row.event_id,
    )
