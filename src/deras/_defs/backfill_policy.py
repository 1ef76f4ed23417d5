"""Backfill policies: how many partitions of an asset one run of a backfill may cover."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from deras._core.errors import DefinitionError


class BackfillPolicyType(StrEnum):
    SINGLE_RUN = "single_run"
    MULTI_RUN = "multi_run"


@dataclass(frozen=True, slots=True)
class BackfillPolicy:
    """One run for the whole range, or runs of at most ``max_partitions_per_run`` partitions.

    ``max_partitions_per_run=None`` means a single run (the asset reads
    ``context.partition_time_window`` or ``context.partition_keys`` for the whole range).

    >>> BackfillPolicy.single_run().policy_type, BackfillPolicy.multi_run(10).max_partitions_per_run
    (<BackfillPolicyType.SINGLE_RUN: 'single_run'>, 10)
    >>> list(BackfillPolicy.multi_run(2).chunk_ranges([(0, 3), (10, 12)]))
    [[(0, 2)], [(2, 3), (10, 11)], [(11, 12)]]
    """

    max_partitions_per_run: int | None = 1

    def __post_init__(self) -> None:
        n = self.max_partitions_per_run
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise DefinitionError(
                f"BackfillPolicy max_partitions_per_run must be an int >= 1 or None, got {n!r}"
            )

    @classmethod
    def single_run(cls) -> BackfillPolicy:
        return cls(max_partitions_per_run=None)

    @classmethod
    def multi_run(cls, max_partitions_per_run: int = 1) -> BackfillPolicy:
        return cls(max_partitions_per_run=max_partitions_per_run)

    @property
    def policy_type(self) -> BackfillPolicyType:
        return (
            BackfillPolicyType.SINGLE_RUN
            if self.max_partitions_per_run is None
            else BackfillPolicyType.MULTI_RUN
        )

    def chunk_ranges(self, ranges: Iterable[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
        """Split sorted index ranges into the ranges of each run, without listing partitions.

        Each chunk holds at most ``max_partitions_per_run`` indices; a single-run policy
        yields everything as one chunk.
        """
        n = self.max_partitions_per_run
        chunk: list[tuple[int, int]] = []
        room = n
        for start, end in ranges:
            a = start
            while a < end:
                if room is None:
                    chunk.append((a, end))
                    break
                take = min(end - a, room)
                chunk.append((a, a + take))
                a += take
                room -= take
                if room == 0:
                    yield chunk
                    chunk, room = [], n
        if chunk:
            yield chunk
