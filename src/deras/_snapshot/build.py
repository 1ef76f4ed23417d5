"""``snapshot_of``: turn loaded ``Definitions`` into a ``CodeSnapshot`` (plain data)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from .._core.keys import AssetKey
from .._graph.graph import Graph
from .._graph.node import NodeKind
from .snapshot import (
    AssetSnap,
    CheckSnap,
    CodeSnapshot,
    DagSnap,
    JobSnap,
    LocationRef,
    PartitionsSnap,
    ScheduleSnap,
    SensorSnap,
    TaskSnap,
    graph_version,
)

# Tags naming an asset's kinds (Dagster's convention, kept for users coming from it).
_KIND_TAG_PREFIXES = ("deras/kind/", "dagster/kind/")


def snapshot_of(
    definitions: Any,
    location: LocationRef,
    *,
    dynamic_partitions_store: Any = None,
    now: datetime | None = None,
) -> CodeSnapshot:
    """The plain-data picture of ``definitions``. Reads no store unless given one for dynamic
    partition counts (without it they count 0); partition counts of open-ended time
    partitions are as of ``now`` (default: the current time).

    >>> from deras._defs.asset import asset
    >>> from deras._defs.definitions import Definitions
    >>> @asset
    ... def a():
    ...     return 1
    >>> @asset
    ... def b(a):
    ...     return a
    >>> snap = snapshot_of(Definitions(assets=[a, b]), LocationRef(file="defs.py"))
    >>> [(s.key, s.deps) for s in snap.assets]
    [('a', []), ('b', ['a'])]
    """
    graph: Graph = definitions.asset_graph
    partitions = _PartitionsSummary(dynamic_partitions_store, now)
    assets = _assets(definitions, graph, partitions)
    checks = _checks(definitions, graph)
    dags = [_dag(d) for d in definitions.dags]
    return CodeSnapshot(
        location=location,
        version=graph_version(assets, checks, dags),
        assets=assets,
        checks=checks,
        jobs=_jobs(definitions, graph),
        dags=dags,
        schedules=[_schedule(s, definitions) for s in definitions.schedules],
        sensors=_sensors(definitions, graph),
        loaded_at=time.time(),
    )


# -- assets -------------------------------------------------------------------------------------


def _assets(definitions: Any, graph: Graph, partitions: _PartitionsSummary) -> list[AssetSnap]:
    out: list[AssetSnap] = []
    seen: set[AssetKey] = set()
    for a in definitions.assets:
        node = graph.node_for_asset(a.keys[0])
        deps = _asset_deps(graph, node.id) if node is not None else []
        deps += [k for k in _declared_deps(a.deps) if k not in deps]  # external ones make no graph edge
        condition = getattr(node, "automation_condition", None) if node is not None else None
        source = a.source if a.fn is not None else None
        partitions_snap = partitions.of(a.partitions_def)
        for spec in a.specs:
            key = spec.key.to_user_string()
            seen.add(spec.key)
            check_names = _check_names(graph, spec.key)
            own = deps
            if spec.deps is not None and node is not None:  # a multi_asset(specs=): each its own deps
                inputs = [str(i.asset_key) for i in node.inputs if i.asset_key is not None]
                own = list(dict.fromkeys([*inputs, *_declared_deps(spec.deps)]))
            out.append(
                AssetSnap(
                    key=key,
                    group=spec.group_name,
                    deps=[d for d in own if d != key],
                    description=spec.description,
                    kinds=_kinds(spec.tags),
                    owners=list(spec.owners),
                    tags={str(k): str(v) for k, v in spec.tags.items()},
                    partitions=partitions_snap,
                    is_source=a.is_external,
                    is_observable=False,
                    has_checks=bool(check_names),
                    code_version=spec.code_version,
                    metadata={str(k): _text(v) for k, v in spec.metadata.items()},
                    node_id=node.id if node is not None else a.node_id,
                    check_names=check_names,
                    automation=repr(condition) if condition is not None else None,
                    source_file=source.file if source else None,
                    source_line=source.line if source else None,
                )
            )
    # Assets a DAG task produces (its outlets) are part of the same lineage.
    for key, nid in graph.asset_nodes.items():
        node = graph.nodes[nid]
        if key in seen or node.kind != NodeKind.TASK:
            continue
        task = node.definition
        out.append(
            AssetSnap(
                key=key.to_user_string(),
                deps=_asset_deps(graph, nid),
                description=f"outlet of task '{task.task_id}' of DAG '{task.dag.dag_id}'",
                kinds=["task"],
                node_id=nid,
                has_checks=bool(graph.checks_by_asset.get(key)),
                check_names=_check_names(graph, key),
                source_file=task.source.file,
                source_line=task.source.line,
            )
        )
    return out


def _checks(definitions: Any, graph: Graph) -> list[CheckSnap]:
    """Every check, whichever step evaluates it: its own, a multi_asset_check's, its asset's."""
    out: list[CheckSnap] = []
    for c in definitions.asset_checks:
        specs = getattr(c, "specs", None)
        if specs is None:
            out.append(CheckSnap(c.name, str(c.asset_key), bool(c.blocking), c.description, c.node_id))
        else:  # a multi_asset_check: one step, several checks
            out.extend(
                CheckSnap(s.name, str(s.asset_key), s.blocking, s.description, c.node_id) for s in specs
            )
    for a in definitions.assets:
        node = graph.node_for_asset(a.keys[0]) if a.check_specs else None
        if node is not None:
            out.extend(
                CheckSnap(s.name, str(s.asset_key), s.blocking, s.description, node.id) for s in a.check_specs
            )
    return out


def _check_names(graph: Graph, key: AssetKey) -> list[str]:
    names: list[str] = []
    for nid in graph.checks_by_asset.get(key, []):
        node = graph.nodes[nid]
        targets = node.check_targets or ([node.check] if node.check is not None else [])
        names.extend(t.check_name for t in targets if t.asset_key == key)
    producer = graph.node_for_asset(key)
    if producer is not None:
        names.extend(t.check_name for t in producer.check_targets if t.asset_key == key)
    return names


def _asset_deps(graph: Graph, node_id: str) -> list[str]:
    """The asset keys upstream of a node: those of its inputs (external ones included) and of the
    nodes it waits for; a blocking check it waits for stands for nothing new (its asset is an input)."""
    node = graph.nodes[node_id]
    keys: dict[str, None] = {}
    for inp in node.inputs:
        if inp.asset_key is not None:
            keys[inp.asset_key.to_user_string()] = None
    for up in graph.upstream.get(node_id, []):
        up_node = graph.nodes[up]
        if up_node.kind == NodeKind.CHECK:
            continue
        for key in up_node.asset_keys:
            keys[key.to_user_string()] = None
    return list(keys)


def _declared_deps(deps: Any) -> list[str]:
    from .._defs.asset import AssetsDefinition

    keys: list[str] = []
    for dep in deps:
        if isinstance(getattr(dep, "graph_node_id", None), str):
            continue  # a DAG task: its outlets come through the graph
        try:
            found = dep.keys if isinstance(dep, AssetsDefinition) else [AssetKey.coerce(dep)]
        except Exception:  # not a key: Definitions reported it already
            continue
        keys.extend(k.to_user_string() for k in found)
    return keys


def _kinds(tags: dict[str, str]) -> list[str]:
    return sorted(k.split("/", 2)[2] for k in tags if k.startswith(_KIND_TAG_PREFIXES))


def _text(value: Any) -> str:
    """A metadata value as text: strings as they are, the rest as JSON when possible, else repr."""
    if isinstance(value, str):
        return value
    inner = getattr(value, "value", value)  # MetadataValue wrappers
    try:
        return json.dumps(inner, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


class _PartitionsSummary:
    """Summaries of partitions definitions, one per distinct definition (they are value objects,
    and thousands of assets usually share a handful)."""

    def __init__(self, store: Any, now: datetime | None) -> None:
        self.store = getattr(store, "dynamic_partitions_store", store)  # an instance, or its store
        self.now = now
        self._memo: dict[Any, PartitionsSnap] = {}

    def of(self, pdef: Any, name: str | None = None) -> PartitionsSnap | None:
        if pdef is None:
            return None
        try:
            memo_key: Any = (pdef, name)
            hash(memo_key)
        except TypeError:
            memo_key = None
        if memo_key is not None and memo_key in self._memo:
            return self._memo[memo_key]
        snap = self._build(pdef, name)
        if snap.index_ranges is None:
            snap = replace(snap, index_ranges=self._index_ranges(pdef))
        if memo_key is not None:
            self._memo[memo_key] = snap
        return snap

    def _build(self, pdef: Any, name: str | None) -> PartitionsSnap:
        from .._defs.multi_partitions import MultiPartitionsDefinition
        from .._defs.partitions import DynamicPartitionsDefinition, StaticPartitionsDefinition
        from .._defs.time_partitions import TimeWindowPartitionsDefinition

        common: dict[str, Any] = {
            "name": name,
            "index_space_id": _safe(lambda: pdef.index_space_id),
            "description": repr(pdef),
        }
        if isinstance(pdef, MultiPartitionsDefinition):
            dims = [self._build(sub, dim) for dim, sub in pdef.partitions_defs.items()]
            count = 1
            for d in dims:
                count *= d.count
            return PartitionsSnap(kind="multi", count=count, dimensions=dims, **common)
        if isinstance(pdef, DynamicPartitionsDefinition):
            common["name"] = name or pdef.name
            if self.store is None:
                return PartitionsSnap(kind="dynamic", **common)
            return PartitionsSnap(kind="dynamic", **self._bounds(pdef), **common)
        if isinstance(pdef, StaticPartitionsDefinition):
            keys = pdef.partition_keys
            listed = keys if len(keys) <= PartitionsSnap.MAX_LISTED_KEYS else None
            return PartitionsSnap(
                kind="static",
                count=len(keys),
                first_key=keys[0] if keys else None,
                last_key=keys[-1] if keys else None,
                keys=listed,
                **common,
            )
        if isinstance(pdef, TimeWindowPartitionsDefinition):
            return PartitionsSnap(
                kind="time",
                cron=pdef.cron_schedule,
                timezone=pdef.timezone,
                fmt=pdef.fmt,
                start=pdef.start.isoformat(),
                end=pdef.end.isoformat() if pdef.end else None,
                **self._bounds(pdef),
                **common,
            )
        return PartitionsSnap(kind=type(pdef).__name__, **self._bounds(pdef), **common)

    def _index_ranges(self, pdef: Any) -> list[list[int]] | None:
        """The current keys' index ranges (a partition bar places status indices by them)."""
        from .._defs.partitions import DynamicPartitionsDefinition

        if isinstance(pdef, DynamicPartitionsDefinition) and self.store is None:
            return None
        ranges = _safe(lambda: pdef.all_index_ranges(self.now, self.store))
        if ranges is None or len(ranges) > PartitionsSnap.MAX_INDEX_RANGES:
            return None
        return [[a, b] for a, b in ranges]

    def _bounds(self, pdef: Any) -> dict[str, Any]:
        """Count, first and last key from the index ranges: no key list is built."""
        try:
            return {
                "count": pdef.get_num_partitions(self.now, self.store),
                "first_key": pdef.get_first_partition_key(self.now, self.store),
                "last_key": pdef.get_last_partition_key(self.now, self.store),
            }
        except Exception:  # a custom definition, or a store that cannot answer: shown uncounted
            return {}


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except Exception:
        return None


# -- jobs, DAGs, schedules, sensors -----------------------------------------------------------


def _jobs(definitions: Any, graph: Graph) -> list[JobSnap]:
    from .._defs.job import AssetJob

    out = []
    for job in definitions.jobs:
        if not isinstance(job, AssetJob):
            continue
        keys = [
            k.to_user_string()
            for nid in graph.order
            if nid in job.node_ids
            for k in graph.nodes[nid].asset_keys
            if graph.nodes[nid].kind == NodeKind.ASSET
        ]
        partitioned = job.partitions_def is not None or any(
            graph.nodes[nid].partitions_def is not None for nid in job.node_ids
        )
        out.append(JobSnap(job.name, keys, partitioned, job.description, dict(job.tags)))
    return out


def _dag(dag: Any) -> DagSnap:
    tasks = [
        TaskSnap(
            task_id=t.task_id,
            operator=type(t).__name__,
            group=t.task_group.group_id if t.task_group is not None else None,
            trigger_rule=str(t.trigger_rule),
            retries=int(t.retries),
            pool=t.pool,
            outlets=[k.to_user_string() for k in t.outlets],
            doc=t.doc,
        )
        for t in dag.task_dict.values()
    ]
    edges = [(up, t.task_id) for t in dag.task_dict.values() for up in sorted(t.upstream_task_ids)]
    first = next(iter(dag.task_dict.values()), None)
    return DagSnap(
        dag_id=dag.dag_id,
        tasks=tasks,
        edges=edges,
        schedule=dag.schedule.summary,
        timezone=dag.schedule.timezone,
        start_date=dag.start_date.isoformat() if dag.start_date else None,
        end_date=dag.end_date.isoformat() if dag.end_date else None,
        catchup=bool(dag.catchup),
        max_active_runs=int(dag.max_active_runs),
        tags=[str(t) for t in dag.tags],
        description=dag.description,
        file=first.source.file if first is not None else None,
        schedule_kind=dag.schedule.kind,
        params={str(k): _param_default(v) for k, v in dag.params.items()},
        edge_labels={t.task_id: dict(t.edge_labels) for t in dag.task_dict.values() if t.edge_labels},
    )


def _param_default(value: Any) -> Any:
    from .._defs.params import Param

    if isinstance(value, Param):
        value = value.default if value.has_default else None
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _schedule(schedule: Any, definitions: Any) -> ScheduleSnap:
    is_dag = any(d.dag_id == schedule.job_name for d in definitions.dags)
    return ScheduleSnap(
        name=schedule.name,
        cron=schedule.cron_schedule,
        timezone=schedule.execution_timezone,
        target=schedule.job_name,
        default_status=str(schedule.default_status),
        description=schedule.description,
        target_kind="dag" if is_dag else "job",
    )


_SENSOR_KINDS = {"standard": "sensor", "asset": "asset_sensor", "run_status": "run_status"}


def _sensors(definitions: Any, graph: Graph) -> list[SensorSnap]:
    out = []
    for s in definitions.sensors:
        selection = getattr(s, "asset_selection", None)
        target = s.job_name if s.job_name is not None else (str(selection) if selection is not None else None)
        asset_key = getattr(s, "asset_key", None)
        out.append(
            SensorSnap(
                name=s.name,
                kind=_SENSOR_KINDS.get(getattr(s, "sensor_type", "standard"), "sensor"),
                minimum_interval=float(s.minimum_interval_seconds),
                target=target,
                default_status=str(s.default_status),
                description=s.description,
                asset_key=asset_key.to_user_string() if asset_key is not None else None,
            )
        )
    # The daemon's automation component (eager / on_cron assets, DAGs scheduled on assets).
    automated = [n for n in graph.nodes.values() if getattr(n, "automation_condition", None) is not None]
    asset_dags = [d.dag_id for d in definitions.dags if d.schedule.kind == "assets"]
    if automated or asset_dags:
        parts = ([f"{len(automated)} asset(s)"] if automated else []) + (
            [f"DAG(s) {', '.join(asset_dags)}"] if asset_dags else []
        )
        out.append(
            SensorSnap(
                name="automation",
                kind="automation",
                minimum_interval=0.5,
                target=" and ".join(parts),
                default_status="running",
                description="assets with automation conditions and DAGs scheduled on assets",
            )
        )
    return out
