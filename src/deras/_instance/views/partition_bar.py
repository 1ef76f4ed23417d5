"""The partition bar of an asset's page: its partitions in order, folded into at most
``BUCKETS`` buckets, each with how many of its partitions are in each state.

Status is stored as index ranges of the partitions definition's index space, whose first index
is seldom 0 (a daily definition counts days from an epoch; a dynamic one leaves gaps where keys
were deleted). The bar places each partition by its *position* among the current keys (the
snapshot's ``index_ranges``), so the first partition is at the bar's left end whatever its
index, and a million partitions are the same ``BUCKETS`` numbers per state: the work is linear
in the number of ranges, never in the number of partitions.

>>> bar = partition_bar([(730_000, 730_010)], {"materialized": [(730_004, 730_006)]}, buckets=5)
>>> bar.sizes, bar.states["materialized"]
([2, 2, 2, 2, 2], [0, 0, 2, 0, 0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..._core.ranges import intersect, merge

BUCKETS = 120


@dataclass(frozen=True)
class PartitionBar:
    """``sizes[b]``: partitions in bucket ``b`` (left to right); ``states[state][b]``: how many of
    them are in ``state`` (the rest are missing). ``first_index``: the first partition's index."""

    count: int
    first_index: int | None
    sizes: list[int]
    states: dict[str, list[int]]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def partition_bar(
    current: Sequence[Sequence[int]] | None,
    states: Mapping[str, Sequence[Sequence[int]]],
    *,
    buckets: int = BUCKETS,
) -> PartitionBar:
    """The bar of the keys ``current`` (index ranges; None: unknown, then the span of the
    stored ranges stands in) with the stored ``states`` (index ranges per state)."""
    stored = {state: merge((a, b) for a, b in ranges) for state, ranges in states.items()}
    if current is None:
        spans = [r for ranges in stored.values() for r in ranges]
        current = [(min(a for a, _ in spans), max(b for _, b in spans))] if spans else []
    keys = merge((a, b) for a, b in current)
    count = sum(b - a for a, b in keys)
    n = min(buckets, count)
    starts = [a for a, _ in keys]
    offsets = [0]  # position of each range's first key
    for a, b in keys:
        offsets.append(offsets[-1] + b - a)
    bounds = [b * count // n for b in range(n + 1)] if n else [0]

    def fold(ranges: list[tuple[int, int]]) -> list[int]:
        # Pieces come in index order, so the key range and the bucket only move forward.
        counts = [0] * n
        i = bucket = 0
        for a, b in intersect(keys, ranges):
            while keys[i][1] <= a:
                i += 1
            p, q = offsets[i] + a - starts[i], offsets[i] + b - starts[i]
            while bounds[bucket + 1] <= p:
                bucket += 1
            while q > bounds[bucket + 1]:
                counts[bucket] += bounds[bucket + 1] - p
                p = bounds[bucket + 1]
                bucket += 1
            counts[bucket] += q - p
        return counts

    return PartitionBar(
        count=count,
        first_index=keys[0][0] if keys else None,
        sizes=[bounds[b + 1] - bounds[b] for b in range(n)],
        states={state: fold(ranges) for state, ranges in stored.items()},
    )
