"""Multi-dimensional partitions: the product of two partitions definitions, e.g. date x region."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import product

from deras._core.errors import DefinitionError, DerasError, PartitionKeyError

from .partitions import (
    DynamicPartitionsStore,
    PartitionsDefinition,
    Ranges,
    StaticPartitionsDefinition,
    merge_ranges,
)

#: Stride of an inner dimension whose index space is unbounded (time windows, dynamic keys).
#: Large enough for any daily ordinal, hour since 1970 or store sequence number, small enough
#: that indices stay within a signed 64-bit database column.
WIDE_STRIDE = 2**32


class MultiPartitionKey(str):
    """A key of a ``MultiPartitionsDefinition``: the dimension keys joined by ``|``.

    Dimensions are ordered by name, as in Dagster, so the string is stable.

    >>> key = MultiPartitionKey({"region": "eu", "date": "2025-01-01"})
    >>> key, key.keys_by_dimension
    ('2025-01-01|eu', {'date': '2025-01-01', 'region': 'eu'})
    """

    _keys: dict[str, str]

    def __new__(cls, keys_by_dimension: Mapping[str, str]) -> MultiPartitionKey:
        ordered = dict(sorted(keys_by_dimension.items()))
        key = super().__new__(cls, "|".join(ordered.values()))
        key._keys = ordered
        return key

    def __getnewargs__(self) -> tuple[dict[str, str]]:  # type: ignore[override]
        return (self._keys,)

    @property
    def keys_by_dimension(self) -> dict[str, str]:
        return dict(self._keys)

    @property
    def dimension_names(self) -> list[str]:
        return list(self._keys)


class MultiPartitionsDefinition(PartitionsDefinition):
    """The product of two partitions definitions; keys are ``MultiPartitionKey``.

    Indices are row-major in dimension-name order: ``outer_index * stride + inner_index``, with
    each dimension's own index. The stride is the number of keys when the inner dimension is
    static (so "every region of these days" is one range) and ``2**32`` otherwise, so indices
    never shift when a time dimension's start moves or keys are added.

    >>> by_size_region = MultiPartitionsDefinition({
    ...     "size": StaticPartitionsDefinition(["S", "L"]),
    ...     "region": StaticPartitionsDefinition(["eu", "us"]),
    ... })
    >>> by_size_region.get_partition_keys()
    ['eu|S', 'eu|L', 'us|S', 'us|L']
    """

    def __init__(self, partitions_defs: Mapping[str, PartitionsDefinition]) -> None:
        if not isinstance(partitions_defs, Mapping) or len(partitions_defs) != 2:
            raise DefinitionError(
                "MultiPartitionsDefinition takes a dict of exactly two dimensions, e.g. "
                "{'date': DailyPartitionsDefinition(...), 'region': StaticPartitionsDefinition([...])}"
            )
        for name, sub in partitions_defs.items():
            if not isinstance(name, str) or not name:
                raise DefinitionError(
                    f"MultiPartitionsDefinition dimension names must be non-empty strings, got {name!r}"
                )
            if not isinstance(sub, PartitionsDefinition) or isinstance(sub, MultiPartitionsDefinition):
                raise DefinitionError(
                    f"dimension {name!r} of MultiPartitionsDefinition must be a single-dimension partitions "
                    f"definition, got {sub!r}"
                )
            if isinstance(sub, StaticPartitionsDefinition):
                piped = [k for k in sub.get_partition_keys() if "|" in k]
                if piped:
                    raise DefinitionError(
                        f"dimension {name!r} of MultiPartitionsDefinition has keys containing '|', "
                        f"which joins dimension keys: {piped[:3]!r}"
                    )
        self._dims = dict(sorted(partitions_defs.items()))
        (self._outer_name, self._outer), (self._inner_name, self._inner) = self._dims.items()
        self._stride = (
            self._inner.get_num_partitions()
            if isinstance(self._inner, StaticPartitionsDefinition)
            else WIDE_STRIDE
        )

    @property
    def partitions_defs(self) -> dict[str, PartitionsDefinition]:
        """The dimensions by name, in key order."""
        return dict(self._dims)

    @property
    def partition_dimension_names(self) -> list[str]:
        return list(self._dims)

    def get_partitions_def_for_dimension(self, dimension_name: str) -> PartitionsDefinition:
        return self._dims[dimension_name]

    # -- keys ----------------------------------------------------------------------------------

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        per_dim = [d.get_partition_keys(current_time, dynamic_partitions_store) for d in self._dims.values()]
        names = list(self._dims)
        return [MultiPartitionKey(dict(zip(names, keys, strict=True))) for keys in product(*per_dim)]

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        n = 1
        for d in self._dims.values():
            n *= d.get_num_partitions(current_time, dynamic_partitions_store)
        return n

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        parts = self._split(key)
        return parts is not None and all(
            d.has_partition_key(k, current_time, dynamic_partitions_store)
            for d, k in zip(self._dims.values(), parts, strict=True)
        )

    def parse_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> MultiPartitionKey:
        """The ``MultiPartitionKey`` of ``key`` (``'2025-01-02|us'`` or a ``MultiPartitionKey``).

        >>> MultiPartitionsDefinition({
        ...     "size": StaticPartitionsDefinition(["S", "L"]),
        ...     "region": StaticPartitionsDefinition(["eu", "us"]),
        ... }).parse_partition_key("us|L").keys_by_dimension
        {'region': 'us', 'size': 'L'}
        """
        self.validate_partition_key(key, current_time, dynamic_partitions_store)
        if isinstance(key, MultiPartitionKey):
            return key
        return MultiPartitionKey(dict(zip(self._dims, key.split("|"), strict=True)))

    def _split(self, key: object) -> list[str] | None:
        if not isinstance(key, str):
            return None
        if isinstance(key, MultiPartitionKey) and key.dimension_names != list(self._dims):
            return None
        parts = key.split("|")
        return parts if len(parts) == 2 else None

    # -- index space ---------------------------------------------------------------------------

    @property
    def index_space_id(self) -> str:
        return (
            f"multi({self._outer_name}={self._outer.index_space_id};"
            f"{self._inner_name}={self._inner.index_space_id};stride={self._stride})"
        )

    def key_to_index(self, key: str, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> int:
        parts = self._split(key)
        if parts is None:
            raise PartitionKeyError(
                f"partition key {key!r} is not in {self!r}: {self._describe_valid_keys(key, None, None)}"
            )
        outer = self._outer.key_to_index(parts[0], dynamic_partitions_store)
        inner = self._inner.key_to_index(parts[1], dynamic_partitions_store)
        if not 0 <= inner < self._stride:
            raise PartitionKeyError(
                f"partition key {key!r}: dimension {self._inner_name!r} index {inner} is out of range"
            )
        return outer * self._stride + inner

    def index_to_key(self, index: int, dynamic_partitions_store: DynamicPartitionsStore | None = None) -> str:
        outer, inner = divmod(index, self._stride)
        return MultiPartitionKey(
            {
                self._outer_name: self._outer.index_to_key(outer, dynamic_partitions_store),
                self._inner_name: self._inner.index_to_key(inner, dynamic_partitions_store),
            }
        )

    def ranges_to_keys(
        self,
        ranges: Iterable[tuple[int, int]],
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Iterator[str]:
        # One inner lookup per inner index, not per key: dynamic dimensions invert the store once.
        inner_keys: dict[int, str] = {}
        for a, b in ranges:
            for i in range(a, b):
                outer, inner = divmod(i, self._stride)
                if inner not in inner_keys:
                    inner_keys[inner] = self._inner.index_to_key(inner, dynamic_partitions_store)
                yield MultiPartitionKey(
                    {
                        self._outer_name: self._outer.index_to_key(outer, dynamic_partitions_store),
                        self._inner_name: inner_keys[inner],
                    }
                )

    def all_index_ranges(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Ranges:
        outer = self._outer.all_index_ranges(current_time, dynamic_partitions_store)
        inner = self._inner.all_index_ranges(current_time, dynamic_partitions_store)
        s = self._stride
        if inner == [(0, s)]:  # every inner key: whole outer ranges stay whole
            return [(a * s, b * s) for a, b in outer]
        return merge_ranges((o * s + c, o * s + d) for a, b in outer for o in range(a, b) for c, d in inner)

    def _describe_valid_keys(
        self, key: object, current_time: datetime | None, store: DynamicPartitionsStore | None
    ) -> str:
        names = "|".join(self._dims)
        parts = self._split(key)
        if parts is None:
            return f"expected '{names}' keys such as {self._example(current_time, store)!r}"
        problems = []
        for (name, d), part in zip(self._dims.items(), parts, strict=True):
            try:
                has = d.has_partition_key(part, current_time, store)
            except DerasError:  # a dynamic dimension without a store: nothing more to say
                continue
            if not has:
                problems.append(f"dimension {name!r}: {d._describe_valid_keys(part, current_time, store)}")
        return f"expected '{names}' keys; " + "; ".join(problems)

    def _example(self, current_time: datetime | None, store: DynamicPartitionsStore | None) -> str:
        try:
            firsts = [d.get_first_partition_key(current_time, store) or "..." for d in self._dims.values()]
        except DerasError:  # a dynamic dimension without a store
            firsts = ["..."] * len(self._dims)
        return "|".join(firsts)

    def _identity(self) -> tuple[object, ...]:
        return ("multi", tuple(self._dims.items()))

    def __repr__(self) -> str:
        dims = ", ".join(f"{name!r}: {d!r}" for name, d in self._dims.items())
        return f"MultiPartitionsDefinition({{{dims}}})"
