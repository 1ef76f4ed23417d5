"""Backfills as the CLI and the web show them: pages of summaries, one backfill's progress.

A backfill is stored as units (a partition, or a range of them run as one run, per stage of
its layout). A partition's progress is its latest stage's unit status, unless an earlier stage
of it failed, was skipped or canceled: then that (``partition_progress``). Listings count
units with one grouped query for the whole page.

>>> from deras._instance.instance import DerasInstance
>>> list_backfills(DerasInstance.ephemeral()).items
[]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..._core.errors import DerasError
from ..._core.records import BackfillRecord, BackfillUnit
from ..._core.status import UnitStatus
from .page import Page, check_limit, decode_cursor, encode_cursor

# Once a stage of a partition ended so, its later stages do not change what it shows.
_BAD = frozenset({"failure", "skipped", "canceled"})


@dataclass(frozen=True)
class BackfillSummary:
    """A backfill in a listing: ``counts`` are its units by status (every status, zeros too)."""

    backfill_id: str
    status: str
    target: dict[str, Any]  # kind and name/dag_id/selection, without the partition keys
    target_label: str  # "dag:etl", "job:daily", "assets:sales+"
    num_partitions: int
    partition_range: list[str] | None  # [first, last] of its partitions, in their order
    num_units: int
    counts: dict[str, int]
    tags: dict[str, str]
    parent_backfill_id: str | None
    create_time: float
    end_time: float | None
    error: str | None

    @classmethod
    def of(cls, record: BackfillRecord, counts: dict[Any, int]) -> BackfillSummary:
        keys = _partition_keys(record)
        return cls(
            backfill_id=record.backfill_id,
            status=str(record.status),
            target={k: v for k, v in record.target.items() if k != "partitions"},
            target_label=target_label(record.target),
            num_partitions=len(keys),
            partition_range=[keys[0], keys[-1]] if keys else None,
            num_units=record.num_units,
            counts={str(status): n for status, n in counts.items()},
            tags=dict(record.tags),
            parent_backfill_id=record.parent_backfill_id,
            create_time=record.create_time,
            end_time=record.end_time,
            error=record.error,
        )

    @property
    def done(self) -> int:
        """Units finished, whatever their outcome."""
        return sum(n for status, n in self.counts.items() if UnitStatus(status).is_finished)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "done": self.done}


@dataclass(frozen=True)
class PartitionProgress:
    """One partition of a backfill (``""``: the one unit of unpartitioned nodes) and the run of
    its latest unit."""

    partition_key: str
    status: str
    run_id: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class BackfillDetail:
    """A backfill with each partition's progress, in the backfill's partition order.

    ``partition_counts`` counts partitions (not units) by status; ``ranges`` are runs of
    consecutive partitions in one status, ``[first_key, last_key, status]``: a few entries
    for thousands of partitions.
    """

    summary: BackfillSummary
    partitions: list[PartitionProgress]
    partition_counts: dict[str, int]
    ranges: list[list[str]]
    run_ids: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary.to_json(),
            "partitions": [p.to_json() for p in self.partitions],
            "partition_counts": self.partition_counts,
            "ranges": self.ranges,
            "run_ids": self.run_ids,
        }


def list_backfills(instance: Any, *, limit: int = 50, cursor: str | None = None) -> Page[BackfillSummary]:
    """Backfills newest first; ``cursor`` (a ``next_cursor``) continues the listing."""
    check_limit(limit)
    after = None
    if cursor is not None:
        created, backfill_id = decode_cursor(cursor, 2, "backfill listing")
        if not isinstance(created, (int, float)) or not isinstance(backfill_id, str):
            raise DerasError(f"cursor {cursor[:40]!r} is not a cursor of this backfill listing")
        after = (float(created), backfill_id)
    store = instance.store.backfills
    records = store.backfills_page(limit=limit + 1, after=after)
    more = len(records) > limit
    records = records[:limit]
    counts = store.unit_counts_of([r.backfill_id for r in records])
    items = [BackfillSummary.of(r, counts[r.backfill_id]) for r in records]
    last = records[-1] if records else None
    return Page(items, encode_cursor([last.create_time, last.backfill_id]) if more and last else None)


def backfill_detail(instance: Any, backfill_id: str) -> BackfillDetail | None:
    """The backfill with every partition's progress, or None if there is no such backfill."""
    store = instance.store.backfills
    record = store.get_backfill(backfill_id)
    if record is None:
        return None
    units = store.get_units(backfill_id)
    counts = dict.fromkeys(UnitStatus, 0)
    for unit in units:
        counts[UnitStatus(unit.status)] += 1
    progress = partition_progress(record, units)
    partition_counts: dict[str, int] = {}
    for p in progress:
        partition_counts[p.status] = partition_counts.get(p.status, 0) + 1
    return BackfillDetail(
        summary=BackfillSummary.of(record, counts),
        partitions=progress,
        partition_counts=partition_counts,
        ranges=_ranges(progress),
        run_ids=list(dict.fromkeys(u.run_id for u in units if u.run_id)),
    )


def partition_progress(record: BackfillRecord, units: Iterable[BackfillUnit]) -> list[PartitionProgress]:
    """Each partition's status: its latest stage's unit status, unless an earlier stage of it
    ended failed, skipped or canceled (then that), in the backfill's partition order."""
    keys = _partition_keys(record)
    where = {key: i for i, key in enumerate(keys)}
    found: dict[str, tuple[str, str | None]] = {}
    for unit in sorted(units, key=lambda u: (u.stage, u.idx)):
        for key in _unit_keys(unit, keys, where):
            shown = found.get(key)
            if shown is None or shown[0] not in _BAD:
                found[key] = (str(unit.status), unit.run_id)
    ordered = sorted(found, key=lambda k: (where.get(k, len(keys)), k))
    return [PartitionProgress(key, *found[key]) for key in ordered]


def target_label(target: dict[str, Any]) -> str:
    """``dag:etl``, ``job:daily`` or ``assets:<selection>`` for a stored backfill target."""
    kind = target.get("kind")
    if kind == "dag":
        return f"dag:{target.get('dag_id')}"
    if kind == "job":
        return f"job:{target.get('name')}"
    return f"assets:{target.get('selection')}"


def _partition_keys(record: BackfillRecord) -> list[str]:
    keys = record.target.get("partitions", {}).get("keys", [])
    return [str(k) for k in keys] if isinstance(keys, list) else []


def _unit_keys(unit: BackfillUnit, keys: Sequence[str], where: dict[str, int]) -> Sequence[str]:
    """The partitions a unit runs: its key, or every key of its range."""
    if unit.partition_last is None:
        return [unit.partition_key]
    first, last = where.get(unit.partition_key), where.get(unit.partition_last)
    if first is None or last is None:
        return [unit.partition_key]
    return keys[first : last + 1]


def _ranges(progress: list[PartitionProgress]) -> list[list[str]]:
    out: list[list[str]] = []
    for p in progress:
        if out and out[-1][2] == p.status:
            out[-1][1] = p.partition_key
        else:
            out.append([p.partition_key, p.partition_key, p.status])
    return out
