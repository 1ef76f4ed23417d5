"""Partition mappings: which upstream partitions a downstream partition reads.

Every mapping answers ``upstream_keys_for(downstream_keys, downstream_def, upstream_def)`` and
says, through ``validate``, when it cannot fit two definitions, so a bad mapping fails when the
definitions load rather than when a run starts. Upstream keys that do not exist (before the
upstream's first partition, after its last, or absent from it) are dropped: the previous day
of the first day maps to nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from deras._core.errors import DefinitionError, DerasError, PartitionKeyError

from .partitions import (
    DynamicPartitionsStore,
    PartitionsDefinition,
    StaticPartitionsDefinition,
    describe_keys,
    intersect_ranges,
)
from .time_partitions import TimeWindowPartitionsDefinition


class PartitionMapping(ABC):
    """Maps downstream partition keys to the upstream keys they depend on."""

    @abstractmethod
    def upstream_keys_for(
        self,
        downstream_keys: Sequence[str] | None,
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The upstream keys, in upstream order, that ``downstream_keys`` read.

        ``downstream_keys`` is None when the downstream is unpartitioned; an unpartitioned
        upstream (``upstream_def`` None) needs no keys, so the answer is ``[]``.
        """

    @abstractmethod
    def validate(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> str | None:
        """A description of why this mapping does not fit the two definitions, or None if it does."""

    def is_one_to_one(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> bool:
        """Whether each downstream partition reads at most one upstream partition.

        Decided by the mapping's shape, not by how many keys exist this time, so an input has
        the same type on every partition: the value itself when True, a ``{key: value}`` dict
        when False. Spanning mappings keep this default.
        """
        return False

    def _name(self) -> str:
        return type(self).__name__

    def _unpartitioned_upstream(self) -> str:
        return f"{self._name()} is set, but the upstream is not partitioned; remove the partition_mapping"

    def _downstream_keys(
        self, downstream_keys: Sequence[str] | None, upstream_def: PartitionsDefinition | None
    ) -> Sequence[str]:
        if downstream_keys is None:
            raise DefinitionError(
                self.validate(None, upstream_def) or f"{self._name()} needs downstream partition keys"
            )
        return downstream_keys


def _needs_partitioned_downstream(mapping: PartitionMapping) -> str:
    return (
        f"{mapping._name()} maps each downstream partition to upstream partitions, but the downstream is "
        "not partitioned; use AllPartitionMapping() or LastPartitionMapping()"
    )


def _in_upstream_order(
    keys: Sequence[str],
    upstream_def: PartitionsDefinition,
    current_time: datetime | None,
    store: DynamicPartitionsStore | None,
) -> list[str]:
    """The keys that exist upstream, deduplicated and in the upstream's order."""
    present = [k for k in keys if upstream_def.has_partition_key(k, current_time, store)]
    return list(upstream_def.ranges_to_keys(upstream_def.keys_to_ranges(present, store), store))


@dataclass(frozen=True)
class IdentityPartitionMapping(PartitionMapping):
    """Each downstream partition reads the upstream partition with the same key.

    >>> days = StaticPartitionsDefinition(["a", "b"])
    >>> IdentityPartitionMapping().upstream_keys_for(["b"], days, days)
    ['b']
    """

    def upstream_keys_for(
        self,
        downstream_keys: Sequence[str] | None,
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        if upstream_def is None:
            return []
        keys = self._downstream_keys(downstream_keys, upstream_def)
        store = dynamic_partitions_store
        if downstream_def is not None and downstream_def.index_space_id == upstream_def.index_space_id:
            # Same index space: clip index ranges instead of checking keys one by one.
            ranges = intersect_ranges(
                upstream_def.keys_to_ranges(keys, store), upstream_def.all_index_ranges(current_time, store)
            )
            return list(upstream_def.ranges_to_keys(ranges, store))
        return _in_upstream_order(keys, upstream_def, current_time, store)

    def is_one_to_one(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> bool:
        return True

    def validate(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> str | None:
        if upstream_def is None:
            return self._unpartitioned_upstream()
        if downstream_def is None:
            return _needs_partitioned_downstream(self)
        if downstream_def.index_space_id == upstream_def.index_space_id:
            return None
        if isinstance(downstream_def, StaticPartitionsDefinition):
            missing = [k for k in downstream_def.get_partition_keys() if _knows_key(upstream_def, k) is False]
            if not missing:
                return None
            return (
                f"IdentityPartitionMapping: the downstream {downstream_def!r} has keys that the upstream "
                f"{upstream_def!r} lacks: {describe_keys(missing)}; give the upstream those keys or use "
                "StaticPartitionMapping"
            )
        hint = (
            "TimeWindowPartitionMapping"
            if isinstance(downstream_def, TimeWindowPartitionsDefinition)
            and isinstance(upstream_def, TimeWindowPartitionsDefinition)
            else "StaticPartitionMapping or AllPartitionMapping"
        )
        return (
            f"IdentityPartitionMapping maps each key to the same key, but the downstream {downstream_def!r} "
            f"and the upstream {upstream_def!r} have different keys; use {hint}"
        )


@dataclass(frozen=True)
class TimeWindowPartitionMapping(PartitionMapping):
    """A downstream time window reads the upstream windows that overlap it, shifted by offsets.

    Offsets count downstream windows: ``start_offset=-1, end_offset=-1`` is the previous
    partition, ``start_offset=-1, end_offset=0`` the previous and the current one. Windows of
    different sizes map by overlap, so a daily downstream reads the 24 hours of an hourly
    upstream, and an hourly downstream reads the day containing it.

    >>> from deras._defs.partitions import DailyPartitionsDefinition
    >>> days = DailyPartitionsDefinition("2025-01-01", end_date="2025-02-01")
    >>> previous = TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    >>> previous.upstream_keys_for(["2025-01-05"], days, days)
    ['2025-01-04']
    """

    start_offset: int = 0
    end_offset: int = 0

    def __post_init__(self) -> None:
        for name in ("start_offset", "end_offset"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise DefinitionError(f"TimeWindowPartitionMapping {name} must be an int, got {value!r}")
        if self.start_offset > self.end_offset:
            raise DefinitionError(
                f"TimeWindowPartitionMapping(start_offset={self.start_offset}, end_offset={self.end_offset}) "
                "maps every window to nothing: start_offset must not exceed end_offset"
            )

    def upstream_keys_for(
        self,
        downstream_keys: Sequence[str] | None,
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        if upstream_def is None:
            return []
        keys = self._downstream_keys(downstream_keys, upstream_def)
        problem = self.validate(downstream_def, upstream_def)
        if problem:
            raise DefinitionError(problem)
        assert isinstance(downstream_def, TimeWindowPartitionsDefinition)  # checked by validate
        assert isinstance(upstream_def, TimeWindowPartitionsDefinition)
        wanted = []
        # A run of consecutive downstream windows maps to one contiguous span of time.
        for a, b in downstream_def.keys_to_ranges(keys):
            start = downstream_def.time_window_for_index(a + self.start_offset).start
            end = downstream_def.time_window_for_index(b - 1 + self.end_offset).end
            wanted.append(upstream_def.index_range_for_time_window(start, end))
        ranges = intersect_ranges(wanted, upstream_def.all_index_ranges(current_time))
        return list(upstream_def.ranges_to_keys(ranges))

    def is_one_to_one(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> bool:
        # One window shifted by a fixed offset, between windows of the same cadence.
        same_cadence = getattr(downstream_def, "cron_schedule", None) == getattr(
            upstream_def, "cron_schedule", None
        )
        return self.start_offset == self.end_offset and same_cadence

    def validate(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> str | None:
        if upstream_def is None:
            return self._unpartitioned_upstream()
        if downstream_def is None:
            return _needs_partitioned_downstream(self)
        if not (
            isinstance(downstream_def, TimeWindowPartitionsDefinition)
            and isinstance(upstream_def, TimeWindowPartitionsDefinition)
        ):
            return (
                "TimeWindowPartitionMapping needs time-window partitions on both sides, but the downstream "
                f"is {downstream_def!r} and the upstream is {upstream_def!r}; use IdentityPartitionMapping, "
                "StaticPartitionMapping or AllPartitionMapping"
            )
        return None


@dataclass(frozen=True)
class AllPartitionMapping(PartitionMapping):
    """Every downstream partition (or the unpartitioned downstream) reads every upstream partition.

    >>> AllPartitionMapping().upstream_keys_for(None, None, StaticPartitionsDefinition(["a", "b"]))
    ['a', 'b']
    """

    def upstream_keys_for(
        self,
        downstream_keys: Sequence[str] | None,
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        if upstream_def is None:
            return []
        return upstream_def.get_partition_keys(current_time, dynamic_partitions_store)

    def validate(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> str | None:
        return self._unpartitioned_upstream() if upstream_def is None else None


@dataclass(frozen=True)
class LastPartitionMapping(PartitionMapping):
    """Every downstream partition reads the upstream's last partition (none if it has none yet).

    >>> LastPartitionMapping().upstream_keys_for(None, None, StaticPartitionsDefinition(["a", "b"]))
    ['b']
    """

    def upstream_keys_for(
        self,
        downstream_keys: Sequence[str] | None,
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        if upstream_def is None:
            return []
        last = upstream_def.get_last_partition_key(current_time, dynamic_partitions_store)
        return [] if last is None else [last]

    def is_one_to_one(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> bool:
        return True

    def validate(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> str | None:
        return self._unpartitioned_upstream() if upstream_def is None else None


class StaticPartitionMapping(PartitionMapping):
    """An explicit table from upstream keys to the downstream key(s) that read them.

    >>> mapping = StaticPartitionMapping({"eu-west": "eu", "eu-north": "eu", "us-east": ["us", "all"]})
    >>> up = StaticPartitionsDefinition(["eu-west", "eu-north", "us-east"])
    >>> down = StaticPartitionsDefinition(["eu", "us", "all"])
    >>> mapping.upstream_keys_for(["eu"], down, up)
    ['eu-west', 'eu-north']
    """

    def __init__(
        self, downstream_partition_keys_by_upstream_partition_key: Mapping[str, str | Collection[str]]
    ) -> None:
        table: dict[str, tuple[str, ...]] = {}
        for upstream, downstream in downstream_partition_keys_by_upstream_partition_key.items():
            downs: tuple[str, ...] = (
                (downstream,)  # type: ignore[assignment]  # a non-string is refused just below
                if isinstance(downstream, str | bytes) or not _iterable(downstream)
                else tuple(downstream)
            )
            if not isinstance(upstream, str) or not all(isinstance(d, str) for d in downs):
                raise DefinitionError(
                    f"StaticPartitionMapping takes {{upstream key: downstream key or keys}} of strings, "
                    f"got {upstream!r}: {downstream!r}"
                )
            table[upstream] = downs
        self._downstream_by_upstream = table
        self._upstream_by_downstream: dict[str, list[str]] = {}
        for upstream, downs in table.items():
            for d in downs:
                self._upstream_by_downstream.setdefault(d, []).append(upstream)

    @property
    def downstream_partition_keys_by_upstream_partition_key(self) -> dict[str, tuple[str, ...]]:
        return dict(self._downstream_by_upstream)

    def upstream_keys_for(
        self,
        downstream_keys: Sequence[str] | None,
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        if upstream_def is None:
            return []
        keys = self._downstream_keys(downstream_keys, upstream_def)
        wanted = [u for k in keys for u in self._upstream_by_downstream.get(k, ())]
        return _in_upstream_order(wanted, upstream_def, current_time, dynamic_partitions_store)

    def is_one_to_one(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> bool:
        return all(len(ups) == 1 for ups in self._upstream_by_downstream.values())

    def validate(
        self, downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
    ) -> str | None:
        if upstream_def is None:
            return self._unpartitioned_upstream()
        if downstream_def is None:
            return _needs_partitioned_downstream(self)
        problems = []
        unknown_up = [k for k in self._downstream_by_upstream if _knows_key(upstream_def, k) is False]
        if unknown_up:
            problems.append(
                f"upstream keys {describe_keys(unknown_up)} are not in the upstream {upstream_def!r}"
            )
        unknown_down = [k for k in self._upstream_by_downstream if _knows_key(downstream_def, k) is False]
        if unknown_down:
            problems.append(
                f"downstream keys {describe_keys(unknown_down)} are not in the downstream {downstream_def!r}"
            )
        return "StaticPartitionMapping: " + "; ".join(problems) if problems else None

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StaticPartitionMapping)
            and self._downstream_by_upstream.keys() == other._downstream_by_upstream.keys()
            and all(
                set(v) == set(other._downstream_by_upstream[k])
                for k, v in self._downstream_by_upstream.items()
            )
        )

    def __hash__(self) -> int:
        return hash(frozenset((k, frozenset(v)) for k, v in self._downstream_by_upstream.items()))

    def __repr__(self) -> str:
        items = {k: v[0] if len(v) == 1 else list(v) for k, v in self._downstream_by_upstream.items()}
        return f"StaticPartitionMapping({items!r})"


def _iterable(value: object) -> bool:
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True


def _knows_key(partitions_def: PartitionsDefinition, key: str) -> bool | None:
    """Whether ``key`` belongs to the definition's key space; None when that needs the store.

    Time keys are checked for form only, not against today's range, so a mapping naming
    next month's key is not flagged before next month.
    """
    try:
        partitions_def.key_to_index(key)
    except PartitionKeyError:
        return False
    except DerasError:  # dynamic keys live in the store, which validation does not have
        return None
    return True


def default_partition_mapping(
    downstream_def: PartitionsDefinition | None, upstream_def: PartitionsDefinition | None
) -> PartitionMapping | None:
    """The mapping a dependency gets when it names none (None: the upstream is unpartitioned).

    >>> days = StaticPartitionsDefinition(["a"])
    >>> default_partition_mapping(days, days), default_partition_mapping(None, days)
    (IdentityPartitionMapping(), AllPartitionMapping())
    """
    if upstream_def is None:
        return None
    if downstream_def is None:
        return AllPartitionMapping()
    if isinstance(downstream_def, TimeWindowPartitionsDefinition) and isinstance(
        upstream_def, TimeWindowPartitionsDefinition
    ):
        return TimeWindowPartitionMapping()
    return IdentityPartitionMapping()
