"""Sets of integers kept as sorted, disjoint half-open ranges.

Partition status uses these so that a million materialized daily partitions cost one
``(start, end)`` pair, not a million rows.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator


class IndexRanges:
    """An immutable-by-convention set of ints stored as merged ``[start, end)`` ranges.

    >>> r = IndexRanges([(0, 3)]).union([(3, 5), (9, 10)])
    >>> r.ranges, len(r), 4 in r, 6 in r
    ([(0, 5), (9, 10)], 6, True, False)
    """

    __slots__ = ("_ends", "_starts")

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        merged = _merge(ranges)
        self._starts = [a for a, _ in merged]
        self._ends = [b for _, b in merged]

    @property
    def ranges(self) -> list[tuple[int, int]]:
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
        return isinstance(other, IndexRanges) and self.ranges == other.ranges

    def __hash__(self) -> int:
        return hash(tuple(self._starts)) ^ hash(tuple(self._ends))

    def __repr__(self) -> str:
        return f"IndexRanges({self.ranges!r})"

    def union(self, ranges: Iterable[tuple[int, int]]) -> IndexRanges:
        return IndexRanges([*self.ranges, *ranges])

    def difference(self, ranges: Iterable[tuple[int, int]]) -> IndexRanges:
        out = self.ranges
        for a, b in _merge(ranges):
            out = _subtract(out, a, b)
        return IndexRanges(out)

    def intersection(self, ranges: Iterable[tuple[int, int]]) -> IndexRanges:
        other = _merge(ranges)
        out: list[tuple[int, int]] = []
        i = j = 0
        mine = self.ranges
        while i < len(mine) and j < len(other):
            a, b = max(mine[i][0], other[j][0]), min(mine[i][1], other[j][1])
            if a < b:
                out.append((a, b))
            if mine[i][1] < other[j][1]:
                i += 1
            else:
                j += 1
        return IndexRanges(out)

    def intersects(self, start: int, end: int) -> bool:
        pos = bisect_left(self._ends, start + 1)
        return pos < len(self._starts) and self._starts[pos] < end


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted((int(a), int(b)) for a, b in ranges if b > a):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _subtract(ranges: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in ranges:
        if e <= a or s >= b:
            out.append((s, e))
            continue
        if s < a:
            out.append((s, a))
        if e > b:
            out.append((b, e))
    return out
