"""Assets as the CLI and the web show them: the list in pages by key and one asset's page.

A page of the list reads each kind of fact for its assets at once (``_storage/asset_reads.py``):
latest materializations, latest failures, latest check results, partition status; a page of
100 assets costs four small queries, not 400. Partition status stays index ranges: a million partitions are a
few pairs. The lineage graph's colours for every asset are ``asset_states.py``.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..._core.errors import DerasError
from ..._core.ranges import IndexRanges
from ..._core.records import CheckResultRecord, MaterializationRecord
from ..._core.status import PartitionState
from .checks import CheckResultView
from .page import Page, check_limit, decode_cursor, encode_cursor
from .partition_bar import PartitionBar, partition_bar


@dataclass(frozen=True)
class MaterializationView:
    """A materialization; ``metadata`` is None in listings (read on the asset's page)."""

    event_id: int
    run_id: str
    timestamp: float
    partition: str | None
    metadata: dict[str, Any] | None

    @classmethod
    def of(cls, m: MaterializationRecord, with_metadata: bool = True) -> MaterializationView:
        return cls(m.event_id, m.run_id, m.timestamp, m.partition, m.metadata if with_metadata else None)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FailureView:
    """An asset's latest failure (an ``ASSET_FAILED`` event): ``event_id`` orders it against
    its latest materialization."""

    event_id: int
    run_id: str
    timestamp: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CheckStatus:
    """A check of an asset and its latest result (``passed`` None: never evaluated)."""

    name: str
    passed: bool | None
    severity: str | None
    timestamp: float | None
    run_id: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PartitionCounts:
    """How many partitions are in each state; ``total``/``missing`` None when unknown."""

    materialized: int
    failed: int
    in_progress: int
    total: int | None

    @property
    def missing(self) -> int | None:
        if self.total is None:
            return None
        return max(0, self.total - self.materialized - self.failed - self.in_progress)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "missing": self.missing}


@dataclass(frozen=True)
class AssetSummary:
    key: str
    group: str | None
    kinds: list[str]
    description: str | None
    partitioned: bool
    last_materialization: MaterializationView | None
    checks: list[CheckStatus]
    partitions: PartitionCounts | None
    last_failure: FailureView | None = None

    @property
    def failed_last(self) -> bool:
        """Its latest failure is newer than its latest materialization (a run's step failed)."""
        if self.last_failure is None:
            return False
        last = self.last_materialization
        return last is None or self.last_failure.event_id > last.event_id

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "group": self.group,
            "kinds": self.kinds,
            "description": self.description,
            "partitioned": self.partitioned,
            "last_materialization": (
                self.last_materialization.to_json() if self.last_materialization else None
            ),
            "checks": [c.to_json() for c in self.checks],
            "partitions": self.partitions.to_json() if self.partitions else None,
            "last_failure": self.last_failure.to_json() if self.last_failure else None,
            "failed_last": self.failed_last,
        }


@dataclass(frozen=True)
class PartitionRanges:
    """Partition status as ranges: ``ranges[state]`` are ``[start, end)`` index pairs of the
    asset's partitions definition, ``key_ranges[state]`` the same as first/last keys when the
    snapshot lists the keys (static partitions); ``bar`` the page's bar, in buckets."""

    ranges: dict[str, list[list[int]]]
    key_ranges: dict[str, list[list[str]]] | None
    bar: PartitionBar

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "bar": self.bar.to_json()}


@dataclass(frozen=True)
class AssetDetail:
    summary: AssetSummary
    materializations: list[MaterializationView]  # newest first
    next_cursor: str | None  # older materializations
    metadata_series: dict[str, list[list[float]]]  # numeric metadata: [[timestamp, value], ...]
    check_history: list[CheckResultView]  # newest first
    partition_status: PartitionRanges | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary.to_json(),
            "materializations": [m.to_json() for m in self.materializations],
            "next_cursor": self.next_cursor,
            "metadata_series": self.metadata_series,
            "check_history": [c.to_json() for c in self.check_history],
            "partition_status": self.partition_status.to_json() if self.partition_status else None,
        }


def list_assets(
    instance: Any,
    snapshot: Any = None,
    *,
    limit: int = 100,
    cursor: str | None = None,
    search: str | None = None,
    partitioned: bool = False,
) -> Page[AssetSummary]:
    """The assets of ``snapshot`` (a ``CodeSnapshot``) by key, ``limit`` per page, with their
    latest facts; ``cursor`` continues a listing. Without a snapshot: the assets the store has a
    materialization of.

    ``search`` keeps the assets whose key (or group) contains it, in any case; ``partitioned``
    the assets with partitions (without a snapshot: with a recorded partition status). The
    facts are read for the page's assets only.
    """
    check_limit(limit)
    after = None
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1, "asset listing")
        if not isinstance(after, str):
            raise DerasError(f"cursor {cursor[:40]!r} is not a cursor of this asset listing")
    reads = instance.store.asset_reads
    if snapshot is not None:
        snaps = _snapshot_page(snapshot.assets, limit + 1, after, search, partitioned)
        keys = [a.key for a in snaps]
        wanted = set(keys)
        check_pairs = [(c.asset_key, c.name) for c in snapshot.checks if c.asset_key in wanted]
        results = reads.latest_check_results(check_pairs)
    else:
        snaps = []
        keys = reads.asset_keys_page(limit=limit + 1, after=after, search=search, partitioned=partitioned)
        results = reads.latest_check_results_of(keys[:limit])
        check_pairs = sorted(results)
    more = len(keys) > limit
    keys = keys[:limit]
    latest = reads.latest_materializations(keys, with_metadata=False)
    statuses = reads.partition_statuses(keys)
    failures = reads.latest_failures(keys)
    checks_of: dict[str, list[CheckStatus]] = {}
    for pair in check_pairs:
        checks_of.setdefault(pair[0], []).append(_check_status(pair[1], results.get(pair)))
    by_key = {a.key: a for a in snaps}
    summaries = []
    for key in keys:
        snap, checks = by_key.get(key), checks_of.get(key, [])
        summaries.append(_summary(key, snap, latest.get(key), checks, statuses.get(key), failures.get(key)))
    return Page(summaries, encode_cursor([keys[-1]]) if more else None)


def _snapshot_page(
    assets: Sequence[Any], limit: int, after: str | None, search: str | None, partitioned: bool
) -> list[Any]:
    """Up to ``limit`` of ``assets`` after the key ``after``, by key, that match the filters."""
    text = search.lower() if search else None
    chosen = [
        a
        for a in assets
        if (after is None or a.key > after)
        and (not partitioned or getattr(a, "partitions", None) is not None)
        and (text is None or text in a.key.lower() or text in (getattr(a, "group", None) or "").lower())
    ]
    return heapq.nsmallest(limit, chosen, key=_key_of)


def _key_of(asset: Any) -> str:
    return str(asset.key)


def asset_detail(
    instance: Any, snapshot: Any, key: str, *, limit: int = 100, cursor: str | None = None
) -> AssetDetail | None:
    """One asset: its materializations (``limit`` per page, newest first; ``cursor`` pages back),
    the numeric metadata of those as series, its latest check results, its partition status.

    None when neither the snapshot nor the store knows the asset.
    """
    check_limit(limit)
    reads = instance.store.asset_reads
    snap = next((a for a in snapshot.assets if a.key == key), None) if snapshot is not None else None
    before = None
    if cursor is not None:
        (before,) = decode_cursor(cursor, 1, "materialization listing")
        if not isinstance(before, int):
            raise DerasError(f"cursor {cursor[:40]!r} is not a cursor of this materialization listing")
    page = reads.materializations_page(key, limit=limit + 1, before_event_id=before)
    more = len(page) > limit
    page = page[:limit]
    if snap is None and not page and before is None and not reads.check_history(key, limit=1):
        return None
    if snapshot is not None:
        pairs = [(c.asset_key, c.name) for c in snapshot.checks if c.asset_key == key]
    else:
        pairs = sorted(p for p in reads.check_names() if p[0] == key)
    results = reads.latest_check_results(pairs)
    checks = [_check_status(name, results.get((key, name))) for _, name in pairs]
    status = reads.partition_statuses([key]).get(key)
    latest = page[0] if page and before is None else reads.latest_materializations([key]).get(key)
    failure = reads.latest_failures([key]).get(key)
    summary = _summary(key, snap, latest, checks, status, failure, with_metadata=True)
    history = [CheckResultView.of(c, event_id) for event_id, c in reads.check_history(key, limit=limit)]
    return AssetDetail(
        summary=summary,
        materializations=[MaterializationView.of(m) for m in page],
        next_cursor=encode_cursor([page[-1].event_id]) if more else None,
        metadata_series=_numeric_series(page),
        check_history=history,
        partition_status=_ranges(snap, status),
    )


def _summary(
    key: str,
    snap: Any,
    latest: MaterializationRecord | None,
    checks: list[CheckStatus],
    status: tuple[str, dict[PartitionState, IndexRanges]] | None,
    failure: tuple[int, str, float] | None = None,
    with_metadata: bool = False,
) -> AssetSummary:
    partitions = getattr(snap, "partitions", None)
    counts = None
    if partitions is not None or status is not None:
        ranges = _current_ranges(partitions, status)
        counts = PartitionCounts(
            materialized=len(ranges.get(PartitionState.MATERIALIZED, IndexRanges())),
            failed=len(ranges.get(PartitionState.FAILED, IndexRanges())),
            in_progress=len(ranges.get(PartitionState.IN_PROGRESS, IndexRanges())),
            total=partitions.count if partitions is not None else None,
        )
    return AssetSummary(
        key=key,
        group=getattr(snap, "group", None),
        kinds=list(getattr(snap, "kinds", []) or []),
        description=getattr(snap, "description", None),
        partitioned=partitions is not None or status is not None,
        last_materialization=MaterializationView.of(latest, with_metadata) if latest else None,
        checks=checks,
        partitions=counts,
        last_failure=FailureView(*failure) if failure else None,
    )


def _current_ranges(
    partitions: Any, status: tuple[str, dict[PartitionState, IndexRanges]] | None
) -> dict[PartitionState, IndexRanges]:
    """The stored ranges, or none when they were recorded under another partitions definition
    (their indices then mean other keys)."""
    if status is None:
        return {}
    def_id, ranges = status
    space = getattr(partitions, "index_space_id", None)
    if space is not None and def_id != space:
        return {}
    return ranges


def _ranges(
    snap: Any, status: tuple[str, dict[PartitionState, IndexRanges]] | None
) -> PartitionRanges | None:
    if status is None:
        return None
    partitions = getattr(snap, "partitions", None)
    ranges = _current_ranges(partitions, status)
    as_pairs = {str(state): [[a, b] for a, b in r.ranges] for state, r in ranges.items()}
    keys = getattr(partitions, "keys", None)
    key_ranges = None
    if keys and getattr(partitions, "kind", None) == "static":
        key_ranges = {
            state: [[keys[a], keys[b - 1]] for a, b in pairs if 0 <= a < b <= len(keys)]
            for state, pairs in as_pairs.items()
        }
    bar = partition_bar(getattr(partitions, "index_ranges", None), as_pairs)
    return PartitionRanges(as_pairs, key_ranges, bar)


def _check_status(name: str, result: CheckResultRecord | None) -> CheckStatus:
    if result is None:
        return CheckStatus(name, None, None, None, None)
    return CheckStatus(name, result.passed, result.severity, result.timestamp, result.run_id)


def _numeric_series(page: list[MaterializationRecord]) -> dict[str, list[list[float]]]:
    """Each numeric metadata entry of the materializations as ``[timestamp, value]``, oldest first."""
    series: dict[str, list[list[float]]] = {}
    for m in reversed(page):
        for name, value in m.metadata.items():
            number = _number(value)
            if number is not None:
                series.setdefault(name, []).append([m.timestamp, number])
    return series


def _number(value: Any) -> float | None:
    if isinstance(value, dict) and value.get("__metadata__") in ("int", "float"):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
