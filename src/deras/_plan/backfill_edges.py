"""The edges of a backfill layout: which upstream units one unit's partitions read.

A collaborator of ``backfill_layout``: it turns each graph edge between backfilled nodes into
unit dependencies without calling the mapping once per key where arithmetic will do. Time
windows of one index space shift by the mapping's offsets (index ``i`` reads ``i + start_offset``
to ``i + end_offset``); an identity mapping reads the same key; ``AllPartitionMapping`` and
``LastPartitionMapping`` give one set shared by every unit. Any other mapping is asked once per
unit. Upstream keys that are not in the backfill are no dependency: they exist already, or never.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._core.errors import PartitionKeyError
from .._defs.partition_mapping import (
    AllPartitionMapping,
    IdentityPartitionMapping,
    LastPartitionMapping,
    PartitionMapping,
    TimeWindowPartitionMapping,
    default_partition_mapping,
)
from .._defs.partitions import DynamicPartitionsStore, PartitionsDefinition, ranges_contain
from .._defs.time_partitions import TimeWindowPartitionsDefinition
from .._graph.graph import Graph
from .._graph.node import Node

if TYPE_CHECKING:
    from .backfill_layout import BackfillUnitSpec


@dataclass(frozen=True, slots=True)
class Edge:
    """An upstream node of the backfill, the mapping its partitions are read through, and
    whether the two line up one to one (then they run in the same stage, in one run)."""

    up: str
    mapping: PartitionMapping | None  # None: the upstream is unpartitioned
    identity: bool


@dataclass(slots=True)
class StageKeys:
    """Where each partition of a stage is produced: key (or index) -> unit index."""

    pdef: PartitionsDefinition | None
    indices: dict[str, int] | None  # key -> index in ``pdef``'s index space
    plain_unit: int | None = None  # the unit of the stage's unpartitioned nodes
    keyed_units: list[int] = field(default_factory=list)
    unit_of_key: dict[str, int] = field(default_factory=dict)
    _unit_of_index: dict[int, int] | None = None

    def unit_of_index(self) -> dict[int, int]:
        if self._unit_of_index is None:
            assert self.indices is not None
            self._unit_of_index = {self.indices[k]: u for k, u in self.unit_of_key.items()}
        return self._unit_of_index


@dataclass(frozen=True, slots=True)
class Shared:
    """A dependency set that every unit of a stage shares (stored once, checked once)."""

    tag: str
    members: tuple[int, ...]


def upstream_edges(graph: Graph, node_id: str, wanted: set[str]) -> list[Edge]:
    """The node's data inputs and order-only deps whose producer is in the backfill.

    A ``deps=`` edge gets the mapping of its ``AssetDep(partition_mapping=)``, else the default
    one (identity for one partitions definition), like a data input without ``partition_mapping``.
    """
    node = graph.nodes[node_id]
    down_def = node.partitions_def
    pairs: list[tuple[str, PartitionMapping | None]] = [
        (i.node_id, i.partition_mapping) for i in node.inputs if i.node_id is not None
    ]
    pairs.extend((d, node.dep_mappings.get(d)) for d in node.deps)
    edges: list[Edge] = []
    for up, given in pairs:
        if up not in wanted:
            continue
        up_def = graph.nodes[up].partitions_def
        mapping = given if given is not None else default_partition_mapping(down_def, up_def)
        if up_def is None:
            mapping = None  # nothing to map: the upstream's one unit is read whole
        edge = Edge(up, mapping, _lines_up(mapping, down_def, up_def))
        if edge not in edges:
            edges.append(edge)
    return edges


def _lines_up(
    mapping: PartitionMapping | None,
    down_def: PartitionsDefinition | None,
    up_def: PartitionsDefinition | None,
) -> bool:
    if up_def is None or down_def is None:
        return up_def is None and down_def is None
    return down_def == up_def and _same_key(mapping, down_def, up_def)


def _same_key(
    mapping: PartitionMapping | None, down_def: PartitionsDefinition, up_def: PartitionsDefinition
) -> bool:
    """Whether the mapping reads, for each downstream key, the upstream key spelled the same."""
    if isinstance(mapping, IdentityPartitionMapping):
        return True
    return (
        isinstance(mapping, TimeWindowPartitionMapping)
        and mapping.start_offset == mapping.end_offset == 0
        and _one_time_space(down_def, up_def)
    )


def _one_time_space(down_def: PartitionsDefinition | None, up_def: PartitionsDefinition | None) -> bool:
    return (
        isinstance(down_def, TimeWindowPartitionsDefinition)
        and isinstance(up_def, TimeWindowPartitionsDefinition)
        and down_def.index_space_id == up_def.index_space_id
    )


def validated_indices(
    pdef: PartitionsDefinition,
    keys: Sequence[str],
    node_ids: Sequence[str],
    stage: int,
    store: DynamicPartitionsStore | None,
) -> dict[str, int]:
    """Each key's index in ``pdef``; ``PartitionKeyError`` for the first key it lacks.

    One ``all_index_ranges`` call and one ``key_to_index`` per key (not a full
    ``validate_partition_key`` per key, which re-reads the range each time).
    """
    ranges = pdef.all_index_ranges(None, store)
    out: dict[str, int] = {}
    for key in keys:
        try:
            i = pdef.key_to_index(key, store)
        except PartitionKeyError:
            i = None
        if i is None or not ranges_contain(ranges, i):
            names = ", ".join(node_ids[:3]) + (", ..." if len(node_ids) > 3 else "")
            try:
                pdef.validate_partition_key(key, dynamic_partitions_store=store)
                reason = f"partition key {key!r} is outside {pdef!r}"
            except PartitionKeyError as e:
                reason = str(e)  # names the key and what would have been valid
            raise PartitionKeyError(f"backfill of {names} (stage {stage}): {reason}")
        out[key] = i
    return out


def resolve_edge(
    edge: Edge,
    node: Node,
    graph: Graph,
    units: list[BackfillUnitSpec],
    targets: Sequence[int],
    here: StageKeys,
    up: StageKeys,
    store: DynamicPartitionsStore | None,
) -> Iterator[tuple[int, set[int] | Shared]]:
    """For each target unit (of ``node``'s stage): the upstream units it reads through ``edge``."""
    mapping = edge.mapping
    up_def = graph.nodes[edge.up].partitions_def
    down_def = node.partitions_def
    shared: Shared | None = None
    if mapping is None or up_def is None:
        assert up.plain_unit is not None
        shared = Shared("plain", (up.plain_unit,))
    elif isinstance(mapping, AllPartitionMapping):
        shared = Shared("all", tuple(up.keyed_units))
    elif isinstance(mapping, LastPartitionMapping):
        last = up_def.get_last_partition_key(None, store)
        unit = up.unit_of_key.get(last) if last is not None else None
        shared = Shared("last", () if unit is None else (unit,))
    if shared is not None:
        for t in targets:
            yield t, shared
        return
    assert mapping is not None
    if down_def is None:  # an unpartitioned node reads a fixed set of upstream keys
        wanted = mapping.upstream_keys_for(None, None, up_def, dynamic_partitions_store=store)
        yield targets[0], _units_of(wanted, up.unit_of_key)
    elif isinstance(mapping, TimeWindowPartitionMapping) and _one_time_space(down_def, up_def):
        assert here.indices is not None
        lo, hi = mapping.start_offset, mapping.end_offset + 1
        by_index = up.unit_of_index()
        for t in targets:
            deps: set[int] = set()
            for key in units[t].keys:
                i = here.indices[key]
                for j in range(i + lo, i + hi):
                    u = by_index.get(j)
                    if u is not None:
                        deps.add(u)
            yield t, deps
    elif _same_key(mapping, down_def, up_def):
        for t in targets:
            yield t, _units_of(units[t].keys, up.unit_of_key)
    else:
        for t in targets:
            wanted = mapping.upstream_keys_for(
                list(units[t].keys), down_def, up_def, dynamic_partitions_store=store
            )
            yield t, _units_of(wanted, up.unit_of_key)


def _units_of(keys: Sequence[str], unit_of_key: dict[str, int]) -> set[int]:
    return {u for k in keys if (u := unit_of_key.get(k)) is not None}
