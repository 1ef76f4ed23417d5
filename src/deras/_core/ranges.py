"""Sets of integers kept as sorted, disjoint half-open ranges.

Partition status uses these so that a million materialized daily partitions cost one
``(start, end)`` pair, not a million rows. Set operations are linear merges.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

Ranges = list[tuple[int, int]]


class IndexRanges:
    """An immutable set of ints stored as merged ``[start, end)`` ranges.

    >>> r = IndexRanges([(0, 3)]).union([(3, 5), (9, 10)])
    >>> r.ranges, len(r), 4 in r, 6 in r
    ([(0, 5), (9, 10)], 6, True, False)
    """

    __slots__ = ("_ends", "_starts")

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        merged = merge(ranges)
        self._starts = [a for a, _ in merged]
        self._ends = [b for _, b in merged]

    @classmethod
    def _of_merged(cls, merged: Ranges) -> IndexRanges:
        out = cls.__new__(cls)
        out._starts = [a for a, _ in merged]
        out._ends = [b for _, b in merged]
        return out

    @property
    def ranges(self) -> Ranges:
        return list(zip(self._starts, self._ends, strict=True))

    def __len__(self) -> int:
        return sum(self._ends) - sum(self._starts)

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __contains__(self, i: object) -> bool:
        if not isinstance(i, int):
            return False
        pos = bisect_right(self._starts, i) - 1
        return pos >= 0 and i < self._ends[pos]

    def __iter__(self) -> Iterator[int]:
        for a, b in zip(self._starts, self._ends, strict=True):
            yield from range(a, b)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IndexRanges) and self._starts == other._starts and self._ends == other._ends

    def __hash__(self) -> int:
        return hash((tuple(self._starts), tuple(self._ends)))

    def __repr__(self) -> str:
        return f"IndexRanges({self.ranges!r})"

    def union(self, ranges: Iterable[tuple[int, int]]) -> IndexRanges:
        return IndexRanges._of_merged(_union(self.ranges, merge(ranges)))

    def difference(self, ranges: Iterable[tuple[int, int]]) -> IndexRanges:
        return IndexRanges._of_merged(_difference(self.ranges, merge(ranges)))

    def intersection(self, ranges: Iterable[tuple[int, int]]) -> IndexRanges:
        return IndexRanges._of_merged(intersect(self.ranges, merge(ranges)))

    def intersects(self, start: int, end: int) -> bool:
        pos = bisect_left(self._ends, start + 1)
        return pos < len(self._starts) and self._starts[pos] < end


def merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sort and merge ranges; already sorted, disjoint input passes in one linear scan."""
    items = [(int(a), int(b)) for a, b in ranges if b > a]
    if any(items[k][0] < items[k - 1][0] for k in range(1, len(items))):
        items.sort()
    out: Ranges = []
    for a, b in items:
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def intersect(left: Ranges, right: Ranges) -> Ranges:
    """Ranges covered by both merged inputs."""
    out: Ranges = []
    i = j = 0
    while i < len(left) and j < len(right):
        lo, hi = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if lo < hi:
            out.append((lo, hi))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def _union(left: Ranges, right: Ranges) -> Ranges:
    out: Ranges = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right) or (i < len(left) and left[i][0] <= right[j][0]):
            a, b = left[i]
            i += 1
        else:
            a, b = right[j]
            j += 1
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _difference(left: Ranges, right: Ranges) -> Ranges:
    out: Ranges = []
    j = 0
    for a, b in left:
        while j < len(right) and right[j][1] <= a:
            j += 1
        k = j
        start = a
        while k < len(right) and right[k][0] < b:
            if right[k][0] > start:
                out.append((start, right[k][0]))
            start = max(start, right[k][1])
            k += 1
        if start < b:
            out.append((start, b))
    return out
