"""How a backfill splits into runs (*units*) and which of them may start now.

A backfill targets nodes of the graph and a list of partition keys. Nodes whose partitions line
up one to one (identity mapping, same partitions definition) can run together, one run per
partition; a node that reads *other* partitions of its upstream (the previous day, every day)
must wait for the runs that produce them. So the nodes are cut into **stages**, and each stage
into **units** (one run each); a unit depends on the units of earlier stages whose partitions
it reads. The daemon starts every unit whose dependencies succeeded (``ready_units``), so
downstream partitions start as soon as what they need has landed, not stage by stage.

Everything here is pure: no store, no clock beyond what partitions definitions read.
Dependencies are computed once, at build time, by index arithmetic and dict lookups; a
dependency on *every* unit of a stage (``AllPartitionMapping``) is one shared set, so the
layout stays linear in the number of units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._core.errors import DerasError
from .._defs.partitions import DynamicPartitionsStore, PartitionsDefinition
from .._graph.graph import Graph
from .._graph.node import NodeKind
from .backfill_edges import Edge, StageKeys, resolve_edge, upstream_edges, validated_indices

UnitKey = tuple[int, str | None]
"""``(stage, partition_key)`` of a unit; ``partition_key`` is None for an unpartitioned unit."""

_SUCCESS = "success"
_PENDING = "pending"
_DOOMED = frozenset({"failure", "canceled", "skipped"})  # the words of UnitStatus that end a unit badly


@dataclass(frozen=True, slots=True)
class BackfillUnitSpec:
    """One run of a backfill: the nodes of one stage for ``keys``.

    ``partition_key`` and ``partition_last`` are the first and last of ``keys`` (equal for a
    one-partition unit, None with ``keys == ()`` for the unpartitioned nodes of a stage).
    ``node_ids`` are in topological order.
    """

    stage: int
    partition_key: str | None
    partition_last: str | None
    keys: tuple[str, ...]
    node_ids: tuple[str, ...]

    @property
    def key(self) -> UnitKey:
        return (self.stage, self.partition_key)


@dataclass(frozen=True, slots=True)
class ReadyUnits:
    """What ``ready_units`` found: units to start now, and units that can never run."""

    ready: list[UnitKey]
    blocked: list[UnitKey]


class BackfillLayout:
    """The stages and units of a backfill, and which units each unit waits for.

    >>> import deras as dg
    >>> days = dg.DailyPartitionsDefinition("2025-01-01", end_date="2025-02-01")
    >>> @dg.asset(partitions_def=days)
    ... def sales(): ...
    >>> @dg.asset(partitions_def=days, ins={"prev": dg.AssetIn("sales",
    ...     partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))})
    ... def trend(prev): ...
    >>> graph = dg.Definitions(assets=[sales, trend]).asset_graph
    >>> layout = BackfillLayout.build(graph, ["sales", "trend"], ["2025-01-01", "2025-01-02"])
    >>> layout.stages
    [['sales'], ['trend']]
    >>> layout.dependencies((1, "2025-01-02"))
    [(0, '2025-01-01'), (0, '2025-01-02')]
    """

    __slots__ = ("_groups", "_position", "_unit_groups", "stages", "units")

    def __init__(
        self,
        stages: list[list[str]],
        units: list[BackfillUnitSpec],
        groups: list[tuple[int, ...]],
        unit_groups: list[tuple[int, ...]],
    ) -> None:
        self.stages = stages
        self.units = units
        self._groups = groups  # distinct sets of unit indices, shared between units
        self._unit_groups = unit_groups  # per unit: the groups it waits for
        self._position: dict[UnitKey, int] = {u.key: i for i, u in enumerate(units)}

    @classmethod
    def build(
        cls,
        graph: Graph,
        node_ids: Sequence[str],
        partition_keys: Sequence[str],
        *,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> BackfillLayout:
        """Cut ``node_ids`` into stages and units for ``partition_keys`` (in definition order).

        A node's stage is the largest, over its upstream nodes in the backfill, of the
        upstream's stage, plus one unless the two line up one to one (identity mapping, same
        partitions definition, or both unpartitioned). Checks thus land in their asset's stage.
        Unpartitioned nodes of a stage form one unit of their own (``partition_key`` None); the
        partitioned nodes get one unit per key, or per chunk of keys when every one of them
        has a ``BackfillPolicy`` (the smallest ``max_partitions_per_run`` wins; single_run is
        the whole list). Every key is checked against every stage's partitions definition
        before any unit is made (``PartitionKeyError`` naming the key and the valid keys).
        Only direct edges between backfilled nodes count: a node outside the backfill is
        assumed to be there already. Duplicate keys are dropped.
        """
        wanted = set(node_ids)
        unknown = sorted(wanted - graph.nodes.keys())
        if unknown:
            raise DerasError(
                f"backfill targets unknown node(s) {unknown[:5]}. Fix: select nodes of the graph."
            )
        keys = list(dict.fromkeys(partition_keys))
        ordered = [nid for nid in graph.order if nid in wanted]
        edges = {nid: upstream_edges(graph, nid, wanted) for nid in ordered}
        stage_of: dict[str, int] = {}
        stages: list[list[str]] = []
        for nid in ordered:
            s = max((stage_of[e.up] + (0 if e.identity else 1) for e in edges[nid]), default=0)
            stage_of[nid] = s
            while len(stages) <= s:
                stages.append([])
            stages[s].append(nid)
        stage_defs = [_stage_partitions_def(graph, s, ids) for s, ids in enumerate(stages)]
        _check_keys_fit(stage_defs, keys)
        indices: dict[PartitionsDefinition, dict[str, int]] = {}
        for s, pdef in enumerate(stage_defs):  # validate everything before making any unit
            if pdef is not None and pdef not in indices:
                indices[pdef] = validated_indices(pdef, keys, stages[s], s, dynamic_partitions_store)

        units: list[BackfillUnitSpec] = []
        stage_keys: list[StageKeys] = []
        for s, ids in enumerate(stages):
            pdef = stage_defs[s]
            plain = tuple(nid for nid in ids if graph.nodes[nid].partitions_def is None)
            parted = tuple(nid for nid in ids if graph.nodes[nid].partitions_def is not None)
            info = StageKeys(pdef, indices.get(pdef) if pdef is not None else None)
            if plain:
                info.plain_unit = len(units)
                units.append(BackfillUnitSpec(s, None, None, (), plain))
            if parted:
                size = _chunk_size(graph, parted, len(keys))
                for i in range(0, len(keys), size):
                    chunk = tuple(keys[i : i + size])
                    for k in chunk:
                        info.unit_of_key[k] = len(units)
                    info.keyed_units.append(len(units))
                    units.append(BackfillUnitSpec(s, chunk[0], chunk[-1], chunk, parted))
            stage_keys.append(info)

        groups, unit_groups = _dependency_groups(
            graph, stages, stage_of, edges, units, stage_keys, dynamic_partitions_store
        )
        return cls(stages, units, groups, unit_groups)

    def unit(self, key: UnitKey) -> BackfillUnitSpec:
        """The unit with this ``(stage, partition_key)``; ``KeyError`` if there is none."""
        return self.units[self._position[key]]

    def dependencies(self, unit: BackfillUnitSpec | UnitKey) -> list[UnitKey]:
        """The units of earlier stages that ``unit`` waits for, in (stage, idx) order."""
        key = unit.key if isinstance(unit, BackfillUnitSpec) else unit
        members: set[int] = set()
        for g in self._unit_groups[self._position[key]]:
            members.update(self._groups[g])
        return [self.units[i].key for i in sorted(members)]

    @property
    def stored_dependency_refs(self) -> int:
        """How many unit references the dependencies hold (a shared set counts once).

        Linear in the number of units for every mapping: what keeps ``ready_units`` cheap.
        """
        return sum(map(len, self._groups)) + sum(map(len, self._unit_groups))


def ready_units(
    layout: BackfillLayout,
    statuses: Mapping[tuple[int, Any], str],  # Any: a dict typed with str keys is fine too
) -> ReadyUnits:
    """The pending units that may start now, and the pending units that never can.

    ``statuses`` maps unit keys to a ``UnitStatus`` word (pending, queued, success, failure,
    canceled, skipped); a missing unit is pending, and any other word (a running unit) counts
    as in flight. A pending unit is **ready** when every unit it waits for succeeded (stage 0
    always is), and **blocked** when one of them failed, was canceled or skipped, or is itself
    blocked: the closure is taken in this one call, so the caller marks every blocked unit
    skipped at once. Both lists are in (stage, idx) order. Each status is read once and each
    shared dependency set is checked once: O(units + stored dependencies).

    >>> import deras as dg
    >>> @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "us"]))
    ... def orders(): ...
    >>> @dg.asset(ins={"orders": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
    ... def report(orders): ...
    >>> layout = BackfillLayout.build(
    ...     dg.Definitions(assets=[orders, report]).asset_graph, ["orders", "report"], ["eu", "us"])
    >>> ready_units(layout, {(0, "eu"): "success", (0, "us"): "queued"})
    ReadyUnits(ready=[], blocked=[])
    >>> ready_units(layout, {(0, "eu"): "success", (0, "us"): "failure"})
    ReadyUnits(ready=[], blocked=[(1, None)])
    """
    ok, bad, wait = 1, 2, 0
    state = [wait] * len(layout.units)
    group_state: list[int | None] = [None] * len(layout._groups)
    ready: list[UnitKey] = []
    blocked: list[UnitKey] = []
    for i, unit in enumerate(layout.units):  # dependencies live in earlier stages: already final
        key = unit.key
        status = statuses.get(key, _PENDING)
        if status == _SUCCESS:
            state[i] = ok
        elif status in _DOOMED:
            state[i] = bad
        elif status == _PENDING:
            verdict = ok
            for g in layout._unit_groups[i]:
                gs = group_state[g]
                if gs is None:
                    gs = group_state[g] = _group_state(layout._groups[g], state)
                if gs == bad:
                    verdict = bad
                    break
                if gs == wait:
                    verdict = wait
            if verdict == ok:
                ready.append(key)
            elif verdict == bad:
                state[i] = bad
                blocked.append(key)
    return ReadyUnits(ready, blocked)


def _group_state(members: tuple[int, ...], state: list[int]) -> int:
    """``bad`` (2) if a member ended badly, else ``ok`` (1) if all succeeded, else ``wait`` (0)."""
    verdict = 1
    for m in members:
        s = state[m]
        if s == 2:
            return 2
        if s == 0:
            verdict = 0
    return verdict


def _stage_partitions_def(graph: Graph, stage: int, ids: list[str]) -> PartitionsDefinition | None:
    defs: dict[PartitionsDefinition, list[str]] = {}
    for nid in ids:
        pdef = graph.nodes[nid].partitions_def
        if pdef is not None:
            defs.setdefault(pdef, []).append(nid)
    if len(defs) > 1:
        described = "; ".join(f"{d!r}: {', '.join(n[:3])}" for d, n in defs.items())
        raise DerasError(
            f"stage {stage} of the backfill mixes partitions definitions ({described}); one run "
            "covers one partitions definition. Fix: backfill these assets separately."
        )
    return next(iter(defs), None)


def _check_keys_fit(stage_defs: list[PartitionsDefinition | None], keys: list[str]) -> None:
    partitioned = any(d is not None for d in stage_defs)
    if keys and not partitioned:
        raise DerasError(
            f"partition {keys[0]!r} given, but none of the backfilled nodes is partitioned. "
            "Fix: backfill without partitions, or select a partitioned asset."
        )
    if partitioned and not keys:
        raise DerasError(
            "the backfill has partitioned assets but no partition keys. Fix: give the keys (or a range)."
        )


def _chunk_size(graph: Graph, parted: tuple[str, ...], num_keys: int) -> int:
    """Keys per unit: the smallest ``max_partitions_per_run`` of the stage's assets (no policy: 1)."""
    sizes = []
    for nid in parted:
        node = graph.nodes[nid]
        if node.kind == NodeKind.CHECK:  # a check follows its asset
            continue
        policy = node.backfill_policy
        sizes.append(1 if policy is None else (policy.max_partitions_per_run or num_keys))
    return max(1, min(sizes, default=1))


def _dependency_groups(
    graph: Graph,
    stages: list[list[str]],
    stage_of: dict[str, int],
    edges: dict[str, list[Edge]],
    units: list[BackfillUnitSpec],
    stage_keys: list[StageKeys],
    store: DynamicPartitionsStore | None,
) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Per unit, the shared groups and the unit's own set of units it waits for."""
    groups: list[tuple[int, ...]] = []
    shared_ids: dict[object, int] = {}  # interned shared sets, by what they stand for
    own: dict[int, set[int]] = {}
    shared: dict[int, dict[int, None]] = {}
    for s in range(1, len(stages)):  # stage 0 waits for nothing
        here = stage_keys[s]
        for nid in stages[s]:
            node = graph.nodes[nid]
            if node.partitions_def is None:
                assert here.plain_unit is not None
                mine = [here.plain_unit]
            else:
                mine = here.keyed_units
            for edge in edges[nid]:
                sp = stage_of[edge.up]
                if sp == s:  # an identity edge inside a stage: the same run
                    continue
                for target, deps in resolve_edge(edge, node, graph, units, mine, here, stage_keys[sp], store):
                    if isinstance(deps, set):
                        own.setdefault(target, set()).update(deps)
                        continue
                    tag = (sp, deps.tag)
                    gid = shared_ids.get(tag)
                    if gid is None:
                        gid = shared_ids[tag] = len(groups)
                        groups.append(deps.members)
                    shared.setdefault(target, {})[gid] = None
    unit_groups: list[tuple[int, ...]] = []
    for i in range(len(units)):
        ids = list(shared.get(i, ()))
        mine_set = own.get(i)
        if mine_set:
            ids.append(len(groups))
            groups.append(tuple(sorted(mine_set)))
        unit_groups.append(tuple(ids))
    return groups, unit_groups
