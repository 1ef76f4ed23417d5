"""Partitions definitions: how an asset's data is split into keys, and the index space of those keys.

Every definition maps its keys to integers (its *index space*) so that partition status can be
stored as merged half-open ranges: a million materialized daily partitions are one ``(start, end)``
pair. Indices are stable: changing only where a definition starts or ends never shifts them.

This module holds the base class, static and dynamic partitions; time windows live in
``time_partitions.py`` (daily, hourly... in ``periodic_partitions.py``) and multi-dimensional
partitions in ``multi_partitions.py``. Every
definition can be imported from here (those two lazily, as they import this module).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from deras._core.errors import DefinitionError, DerasError, PartitionKeyError
from deras._core.events import PartitionSpan
from deras._core.ranges import Ranges, intersect, merge

if TYPE_CHECKING:
    from .run_request import AddDynamicPartitionsRequest, DeleteDynamicPartitionsRequest


@runtime_checkable
class DynamicPartitionsStore(Protocol):
    """Where the keys of dynamic partitions live (the metadata store implements it).

    ``get_dynamic_partition_indices`` gives each key its stable sequence number: the number
    the key got when it was added, never reused, so stored partition status survives deletions.
    """

    def get_dynamic_partitions(self, name: str) -> list[str]: ...

    def get_dynamic_partition_indices(self, name: str) -> dict[str, int]: ...


class PartitionsDefinition(ABC):
    """How an asset or job is split into partitions, identified by string keys.

    Subclasses are value objects: equal arguments give equal definitions. The index-space
    methods (``key_to_index`` ... ``all_index_ranges``) let storage keep partition status as
    integer ranges without listing keys.
    """

    __slots__ = ()

    # -- keys ----------------------------------------------------------------------------------

    @abstractmethod
    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """All keys in order (for time windows: the complete windows up to ``current_time``)."""

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        return sum(b - a for a, b in self.all_index_ranges(current_time, dynamic_partitions_store))

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        try:
            i = self.key_to_index(key, dynamic_partitions_store)
        except PartitionKeyError:
            return False
        return ranges_contain(self.all_index_ranges(current_time, dynamic_partitions_store), i)

    def validate_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> None:
        """Raise ``PartitionKeyError`` naming the key, this definition and the valid keys."""
        if not self.has_partition_key(key, current_time, dynamic_partitions_store):
            expected = self._describe_valid_keys(key, current_time, dynamic_partitions_store)
            raise PartitionKeyError(f"partition key {key!r} is not in {self!r}: {expected}")

    def parse_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str:
        """``key`` as this definition hands it to user code, after ``validate_partition_key``.

        Keys arrive as plain strings from the CLI, stored runs and backfill units; a
        ``MultiPartitionsDefinition`` turns them into ``MultiPartitionKey``, the others keep them.

        >>> StaticPartitionsDefinition(["eu", "us"]).parse_partition_key("us")
        'us'
        """
        self.validate_partition_key(key, current_time, dynamic_partitions_store)
        return key

    def get_first_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        ranges = self.all_index_ranges(current_time, dynamic_partitions_store)
        return self.index_to_key(ranges[0][0], dynamic_partitions_store) if ranges else None

    def get_last_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        ranges = self.all_index_ranges(current_time, dynamic_partitions_store)
        return self.index_to_key(ranges[-1][1] - 1, dynamic_partitions_store) if ranges else None

    @abstractmethod
    def _describe_valid_keys(
        self, key: object, current_time: datetime | None, store: DynamicPartitionsStore | None
    ) -> str:
        """The second half of an unknown-key message: what keys would have been valid."""

    # -- index space ---------------------------------------------------------------------------

    @property
    @abstractmethod
    def index_space_id(self) -> str:
        """Names the index space; equal ids mean an index denotes the same key in both."""

    @abstractmethod
    def key_to_index(self, key: str, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> int:
        """The index of ``key`` in the index space.

        Accepts any key of the space, also one outside the current start/end (so status
        stored under an older start date stays readable); raises ``PartitionKeyError`` for
        a key that is not of the space at all. Use ``has_partition_key`` to check the range.
        """

    @abstractmethod
    def index_to_key(self, index: int, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> str:
        """The key at ``index``; raises ``IndexError`` for an index outside the space."""

    @abstractmethod
    def all_index_ranges(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Ranges:
        """Merged half-open ranges covering exactly the current keys."""

    def keys_to_ranges(
        self, keys: Iterable[str], dynamic_partitions_store: DynamicPartitionsStore | None = None
    ) -> Ranges:
        """Merged half-open index ranges of ``keys`` (any order, duplicates allowed)."""
        return ranges_from_indices(self.key_to_index(k, dynamic_partitions_store) for k in keys)

    def ranges_to_keys(
        self,
        ranges: Iterable[tuple[int, int]],
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Iterator[str]:
        """The keys of half-open index ranges, lazily, in index order per range."""
        for a, b in ranges:
            for i in range(a, b):
                yield self.index_to_key(i, dynamic_partitions_store)

    def partition_key_range_to_ranges(
        self,
        first: str,
        last: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Ranges:
        """The index ranges of the keys from ``first`` to ``last`` inclusive, without listing them."""
        for key in (first, last):
            self.validate_partition_key(key, current_time, dynamic_partitions_store)
        a = self.key_to_index(first, dynamic_partitions_store)
        b = self.key_to_index(last, dynamic_partitions_store) + 1
        if b <= a:
            raise PartitionKeyError(f"partition key range {first!r}..{last!r} of {self!r} is reversed")
        return intersect_ranges([(a, b)], self.all_index_ranges(current_time, dynamic_partitions_store))

    def get_partition_keys_in_range(
        self,
        first: str,
        last: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The keys from ``first`` to ``last`` inclusive, in order (both must be valid keys)."""
        ranges = self.partition_key_range_to_ranges(first, last, current_time, dynamic_partitions_store)
        return list(self.ranges_to_keys(ranges, dynamic_partitions_store))

    def to_span(
        self, keys: Iterable[str], dynamic_partitions_store: DynamicPartitionsStore | None = None
    ) -> PartitionSpan:
        """The ``PartitionSpan`` an event records for ``keys``."""
        return PartitionSpan(self.index_space_id, self.keys_to_ranges(keys, dynamic_partitions_store))

    # -- value object --------------------------------------------------------------------------

    @abstractmethod
    def _identity(self) -> tuple[object, ...]:
        """What equality and hashing compare."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PartitionsDefinition) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


class StaticPartitionsDefinition(PartitionsDefinition):
    """A fixed list of keys; a key's index is its position in the list.

    >>> regions = StaticPartitionsDefinition(["eu", "us", "apac"])
    >>> regions.get_partition_keys(), regions.key_to_index("us")
    (['eu', 'us', 'apac'], 1)
    """

    __slots__ = ("_id", "_keys", "_positions")

    def __init__(self, partition_keys: Sequence[str]) -> None:
        if isinstance(partition_keys, str):
            raise DefinitionError(
                f"StaticPartitionsDefinition takes a list of keys, not the string {partition_keys!r}"
            )
        keys = list(partition_keys)
        bad = [k for k in keys if not isinstance(k, str) or not k]
        if bad:
            raise DefinitionError(
                f"StaticPartitionsDefinition keys must be non-empty strings, got {bad[:3]!r}"
            )
        positions = {k: i for i, k in enumerate(keys)}
        if len(positions) != len(keys):
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            raise DefinitionError(f"StaticPartitionsDefinition has duplicate keys {dupes[:5]!r}")
        self._keys = keys
        self._positions = positions
        # A hash, not the keys: ids are stored with every event and must stay short.
        digest = hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:12]
        self._id = f"static|{digest}"

    @property
    def partition_keys(self) -> list[str]:
        return list(self._keys)

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return list(self._keys)

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        return len(self._keys)

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        return isinstance(key, str) and key in self._positions

    @property
    def index_space_id(self) -> str:
        return self._id

    def key_to_index(self, key: str, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> int:
        try:
            return self._positions[key]
        except (KeyError, TypeError):
            raise PartitionKeyError(
                f"partition key {key!r} is not in {self!r}: {self._describe_valid_keys(key, None, None)}"
            ) from None

    def index_to_key(self, index: int, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> str:
        if not 0 <= index < len(self._keys):
            raise IndexError(f"index {index} is outside {self!r} (0..{len(self._keys) - 1})")
        return self._keys[index]

    def all_index_ranges(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Ranges:
        return [(0, len(self._keys))] if self._keys else []

    def _describe_valid_keys(
        self, key: object, current_time: datetime | None, store: DynamicPartitionsStore | None
    ) -> str:
        return f"expected one of {describe_keys(self._keys)}"

    def _identity(self) -> tuple[object, ...]:
        return ("static", tuple(self._keys))

    def __repr__(self) -> str:
        shown = ", ".join(repr(k) for k in self._keys[:5])
        more = f", ... ({len(self._keys)} keys)" if len(self._keys) > 5 else ""
        return f"StaticPartitionsDefinition([{shown}{more}])"


class DynamicPartitionsDefinition(PartitionsDefinition):
    """Keys added at run time (``instance.add_dynamic_partitions(name, keys)``), kept in the store.

    A key's index is the stable sequence number the store gave it, so calls that read keys or
    indices take ``dynamic_partitions_store=`` (the instance).

    >>> files = DynamicPartitionsDefinition(name="files")
    >>> files.index_space_id
    'dynamic|files'
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"DynamicPartitionsDefinition needs a non-empty name, got {name!r}")
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def build_add_request(self, partition_keys: Sequence[str]) -> AddDynamicPartitionsRequest:
        """A sensor's request to add ``partition_keys``, for ``SensorResult(dynamic_partitions_requests=)``.

        >>> DynamicPartitionsDefinition("files").build_add_request(["a.csv"])
        AddDynamicPartitionsRequest(partitions_def_name='files', partition_keys=('a.csv',))
        """
        from .run_request import AddDynamicPartitionsRequest

        return AddDynamicPartitionsRequest(self._name, tuple(_keys_arg(partition_keys, self)))

    def build_delete_request(self, partition_keys: Sequence[str]) -> DeleteDynamicPartitionsRequest:
        """A sensor's request to delete ``partition_keys`` from this definition."""
        from .run_request import DeleteDynamicPartitionsRequest

        return DeleteDynamicPartitionsRequest(self._name, tuple(_keys_arg(partition_keys, self)))

    def _store(self, store: DynamicPartitionsStore | None) -> DynamicPartitionsStore:
        if store is None:
            raise DerasError(
                f"{self!r} keeps its keys in the metadata store: pass dynamic_partitions_store= "
                "(the instance) to read them"
            )
        return store

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return list(self._store(dynamic_partitions_store).get_dynamic_partitions(self._name))

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        return len(self._store(dynamic_partitions_store).get_dynamic_partition_indices(self._name))

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        indices = self._store(dynamic_partitions_store).get_dynamic_partition_indices(self._name)
        return isinstance(key, str) and key in indices

    @property
    def index_space_id(self) -> str:
        return f"dynamic|{self._name}"

    def key_to_index(self, key: str, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> int:
        indices = self._store(dynamic_partitions_store).get_dynamic_partition_indices(self._name)
        return self._index_in(indices, key, dynamic_partitions_store)

    def _index_in(self, indices: dict[str, int], key: str, store: DynamicPartitionsStore | None) -> int:
        try:
            return indices[key]
        except (KeyError, TypeError):
            raise PartitionKeyError(
                f"partition key {key!r} is not in {self!r}: {self._describe_valid_keys(key, None, store)}"
            ) from None

    def index_to_key(self, index: int, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> str:
        # The protocol has no reverse lookup; inverting is O(keys), ranges_to_keys does it once.
        for key, i in self._store(dynamic_partitions_store).get_dynamic_partition_indices(self._name).items():
            if i == index:
                return key
        raise IndexError(f"index {index} is not a key of {self!r}")

    def keys_to_ranges(
        self, keys: Iterable[str], dynamic_partitions_store: DynamicPartitionsStore | None = None
    ) -> Ranges:
        indices = self._store(dynamic_partitions_store).get_dynamic_partition_indices(self._name)
        return ranges_from_indices(self._index_in(indices, k, dynamic_partitions_store) for k in keys)

    def ranges_to_keys(
        self,
        ranges: Iterable[tuple[int, int]],
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Iterator[str]:
        indices = self._store(dynamic_partitions_store).get_dynamic_partition_indices(self._name)
        by_index = {i: k for k, i in indices.items()}
        for a, b in ranges:
            for i in range(a, b):
                if i not in by_index:
                    raise IndexError(f"index {i} is not a key of {self!r}")
                yield by_index[i]

    def all_index_ranges(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Ranges:
        indices = self._store(dynamic_partitions_store).get_dynamic_partition_indices(self._name)
        return ranges_from_indices(indices.values())

    def _describe_valid_keys(
        self, key: object, current_time: datetime | None, store: DynamicPartitionsStore | None
    ) -> str:
        keys = store.get_dynamic_partitions(self._name) if store is not None else []
        if not keys:
            return (
                f"no keys have been added yet; add them with "
                f"instance.add_dynamic_partitions({self._name!r}, [...])"
            )
        return f"expected one of the keys added so far: {describe_keys(keys)}"

    def _identity(self) -> tuple[object, ...]:
        return ("dynamic", self._name)

    def __repr__(self) -> str:
        return f"DynamicPartitionsDefinition(name={self._name!r})"


def _keys_arg(keys: Sequence[str], definition: DynamicPartitionsDefinition) -> Sequence[str]:
    if isinstance(keys, str):
        raise TypeError(f"{definition!r}: give a list of partition keys, e.g. [{keys!r}]")
    return keys


# Names defined in the modules that build on this one; loaded on first access (PEP 562)
# so that ``from deras._defs.partitions import DailyPartitionsDefinition`` works without a cycle.
_ELSEWHERE = {
    "TimeWindow": "time_partitions",
    "TimeWindowPartitionsDefinition": "time_partitions",
    "DailyPartitionsDefinition": "periodic_partitions",
    "HourlyPartitionsDefinition": "periodic_partitions",
    "WeeklyPartitionsDefinition": "periodic_partitions",
    "MonthlyPartitionsDefinition": "periodic_partitions",
    "MultiPartitionsDefinition": "multi_partitions",
    "MultiPartitionKey": "multi_partitions",
}


def __getattr__(name: str) -> object:
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


# -- index range helpers (shared by the partitions modules and partition mappings) ---------------


def ranges_from_indices(indices: Iterable[int]) -> Ranges:
    """Merge integer indices into sorted half-open ranges: ``[3, 1, 2, 7]`` -> ``[(1, 4), (7, 8)]``."""
    out: Ranges = []
    for i in sorted(set(indices)):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> Ranges:
    return merge(ranges)


def intersect_ranges(a: Iterable[tuple[int, int]], b: Iterable[tuple[int, int]]) -> Ranges:
    """The ranges covered by both ``a`` and ``b`` (each merged first)."""
    return intersect(merge(a), merge(b))


def ranges_contain(ranges: Sequence[tuple[int, int]], index: int) -> bool:
    """Whether ``index`` lies in sorted, disjoint ``ranges`` (binary search)."""
    pos = bisect_right(ranges, index, key=lambda r: r[0]) - 1
    return pos >= 0 and ranges[pos][0] <= index < ranges[pos][1]


def describe_keys(keys: Sequence[str], limit: int = 5) -> str:
    """``'a', 'b', 'c'`` or ``'a', 'b', ... (120 keys)`` for error messages."""
    shown = ", ".join(repr(k) for k in keys[:limit])
    return f"{shown}, ... ({len(keys)} keys)" if len(keys) > limit else shown
