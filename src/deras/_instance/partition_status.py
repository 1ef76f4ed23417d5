"""Partition status of one asset, kept as index ranges: cheap for a million partitions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .._core.ranges import IndexRanges
from .._core.status import PartitionState


@dataclass(frozen=True, slots=True)
class PartitionKeySet:
    """A set of partition keys held as index ranges of a partitions definition.

    ``len()`` and ``in`` are cheap; iterating lists the keys (needs the definition).
    """

    indices: IndexRanges
    partitions_def: Any = None
    store: Any = None  # where dynamic partitions' keys live

    def __len__(self) -> int:
        return len(self.indices)

    def __contains__(self, key: object) -> bool:
        if self.partitions_def is None or not isinstance(key, str):
            return False
        try:
            return self.partitions_def.key_to_index(key, dynamic_partitions_store=self.store) in self.indices
        except Exception:
            return False

    def __iter__(self) -> Iterator[str]:
        if self.partitions_def is None:
            raise TypeError("listing partition keys needs the asset's partitions definition")
        return iter(
            self.partitions_def.ranges_to_keys(self.indices.ranges, dynamic_partitions_store=self.store)
        )

    @property
    def key_ranges(self) -> list[tuple[str, str]]:
        """First and last key of each contiguous range."""
        if self.partitions_def is None:
            return []
        pdef, store = self.partitions_def, self.store
        return [
            (
                pdef.index_to_key(a, dynamic_partitions_store=store),
                pdef.index_to_key(b - 1, dynamic_partitions_store=store),
            )
            for a, b in self.indices.ranges
        ]


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    """Counts and key sets of materialized, failed and in-progress partitions of an asset.

    ``total`` and ``missing`` are known when the partitions definition is.
    """

    asset_key: str
    materialized: PartitionKeySet
    failed: PartitionKeySet
    in_progress: PartitionKeySet
    total: int | None

    @property
    def missing(self) -> int | None:
        if self.total is None:
            return None
        return self.total - len(self.materialized) - len(self.failed) - len(self.in_progress)

    def counts(self) -> dict[str, int | None]:
        return {
            "materialized": len(self.materialized),
            "failed": len(self.failed),
            "in_progress": len(self.in_progress),
            "missing": self.missing,
            "total": self.total,
        }

    @classmethod
    def build(
        cls,
        asset_key: str,
        ranges: dict[PartitionState, IndexRanges],
        partitions_def: Any,
        total: int | None,
        store: Any = None,
    ) -> PartitionStatus:
        def keys(state: PartitionState) -> PartitionKeySet:
            return PartitionKeySet(ranges.get(state, IndexRanges()), partitions_def, store)

        return cls(
            asset_key,
            keys(PartitionState.MATERIALIZED),
            keys(PartitionState.FAILED),
            keys(PartitionState.IN_PROGRESS),
            total,
        )
