"""IndexRanges: set algebra on merged half-open ranges, checked against plain sets."""

from __future__ import annotations

import random

import pytest

from deras._core.ranges import IndexRanges


def _as_set(ranges: list[tuple[int, int]]) -> set[int]:
    return {i for a, b in ranges for i in range(a, b)}


def _random_ranges(rng: random.Random) -> list[tuple[int, int]]:
    out = []
    for _ in range(rng.randint(0, 8)):
        a = rng.randint(0, 60)
        out.append((a, a + rng.randint(0, 10)))
    return out


@pytest.mark.parametrize("seed", range(200))
def test_operations_match_python_sets(seed: int) -> None:
    rng = random.Random(seed)
    left, right = _random_ranges(rng), _random_ranges(rng)
    a, b = _as_set(left), _as_set(right)
    r = IndexRanges(left)
    assert set(r) == a and len(r) == len(a)
    assert set(r.union(right)) == a | b
    assert set(r.difference(right)) == a - b
    assert set(r.intersection(right)) == a & b
    merged = r.union(right).ranges
    assert all(merged[k][1] < merged[k + 1][0] for k in range(len(merged) - 1))  # disjoint, not touching
    probe = rng.randint(-2, 75)
    assert (probe in r) == (probe in a)


def test_a_million_consecutive_indices_are_one_range() -> None:
    r = IndexRanges([(0, 500_000)]).union([(500_000, 1_000_000)])
    assert r.ranges == [(0, 1_000_000)] and len(r) == 1_000_000


def test_equal_sets_compare_and_hash_equal() -> None:
    assert IndexRanges([(0, 2), (2, 4)]) == IndexRanges([(0, 4)])
    assert hash(IndexRanges([(0, 2), (2, 4)])) == hash(IndexRanges([(0, 4)]))
