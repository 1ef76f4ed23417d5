"""Lowering assets and checks to graph nodes, collecting every definition problem on the way."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from .._core.keys import AssetKey
from .._graph.node import CheckTarget, Node, NodeInput, NodeKind, NodeOutput
from .asset import AssetOutSpec, AssetsDefinition
from .asset_in import AssetDep
from .check import AssetChecksDefinition
from .check_spec import MultiAssetChecksDefinition
from .resource_refs import is_resource_annotation
from .return_type import ReturnType, return_type_of
from .run_config import NodeConfig, find_config_param

DEFAULT_IO_MANAGER = "io_manager"


class AssetLowering:
    """Turns asset and check definitions into ``Node``s; problems are collected, not raised."""

    def __init__(
        self,
        assets: list[AssetsDefinition],
        checks: list[AssetChecksDefinition | MultiAssetChecksDefinition],
        resource_keys: Iterable[str],
        outlet_producers: Mapping[AssetKey, str] | None = None,
    ) -> None:
        self.outlet_producers = dict(outlet_producers or {})  # asset key -> DAG task node
        self.assets = assets
        self.checks = checks
        self.resource_keys = set(resource_keys)
        self.problems: list[str] = []
        self.by_key: dict[AssetKey, AssetsDefinition] = {}
        self.by_name: dict[str, list[AssetKey]] = {}
        # asset key -> (its definition, producing node id or None if external, its output spec)
        self.producer_of: dict[AssetKey, tuple[AssetsDefinition, str | None, AssetOutSpec]] = {}
        self.return_types: dict[Any, ReturnType | None] = {}  # resolved annotations, see return_type_of

    def lower(self) -> list[Node]:
        self._index()
        # A definition that lost a duplicate-key contest is reported already: not lowered again.
        by_key = self.by_key
        nodes = [
            self._asset_node(a)
            for a in self.assets
            if a.fn is not None and all(by_key.get(s.key) is a for s in a.specs)
        ]
        node_by_asset = {k: n for n in nodes for k in n.asset_keys}
        check_nodes = [
            self._multi_check_node(c, node_by_asset)
            if isinstance(c, MultiAssetChecksDefinition)
            else self._check_node(c, node_by_asset)
            for c in self._unique_checks(nodes)
        ]
        self._wire_blocking_checks(nodes, check_nodes, node_by_asset)
        return nodes + [c for c in check_nodes if c is not None]

    # -- indexing ---------------------------------------------------------------------------
    def _index(self) -> None:
        by_key, by_name, producer_of = self.by_key, self.by_name, self.producer_of
        for a in self.assets:
            node_id = None if a.is_external else a.node_id
            for spec in a.specs:
                key = spec.key
                other = by_key.get(key)
                if other is not None:
                    self.problems.append(
                        f"asset key '{key}' is defined twice: by {other.source} and by {a.source}. "
                        "Fix: rename one of them (name= or key_prefix=) or remove the duplicate."
                    )
                    continue
                by_key[key] = a
                producer_of[key] = (a, node_id, spec)
                names = by_name.get(key.name)
                if names is None:
                    by_name[key.name] = [key]
                else:
                    names.append(key)

    def _unique_checks(self, nodes: list[Node]) -> list[AssetChecksDefinition | MultiAssetChecksDefinition]:
        """Each check (``asset:name``) defined once, whichever step evaluates it."""
        seen: dict[str, Any] = {}  # check id -> its definition (or the asset step yielding it)
        for n in nodes:
            for t in n.check_targets:
                seen[f"{t.asset_key}:{t.check_name}"] = n.definition
        unique: dict[int, AssetChecksDefinition | MultiAssetChecksDefinition] = {}
        for c in self.checks:
            ids = [s.node_id for s in c.specs] if isinstance(c, MultiAssetChecksDefinition) else [c.node_id]
            clash = next((i for i in ids if i in seen and seen[i] is not c), None)
            if clash is not None:
                self.problems.append(
                    f"check '{clash}' is defined twice: by {seen[clash].source} and by {c.source}. "
                    "Fix: give one of them another name=."
                )
                continue
            seen.update(dict.fromkeys(ids, c))
            unique[id(c)] = c
        return list(unique.values())

    # -- assets -----------------------------------------------------------------------------
    def _asset_node(self, a: AssetsDefinition) -> Node:
        spec = a.specs[0]
        params = a.params
        fn = a.fn
        assert fn is not None  # AssetSpecs (external assets) are not lowered to nodes
        node = Node(
            id=a.node_id,
            kind=NodeKind.ASSET,
            fn=fn,
            definition=a,
            outputs=[
                NodeOutput(s.output_name, s.key, s.io_manager_key, skippable=s.skippable or a.can_subset)
                for s in a.specs
            ],
            context_param=params.context,
            partitions_def=a.partitions_def,
            backfill_policy=a.backfill_policy,
            retry_policy=a.retry_policy,
            timeout=a.timeout,
            pool=a.pool,
            tags=dict(spec.tags),
            group=spec.group_name,
            stores_output=not params.returns_none,
            automation_condition=a.automation_condition,
            return_type=return_type_of(fn, self.return_types),
        )
        for s in a.specs:
            if s.io_manager_key != DEFAULT_IO_MANAGER and s.io_manager_key not in self.resource_keys:
                self.problems.append(
                    f"asset '{s.key}' ({a.source}) uses io_manager_key='{s.io_manager_key}', but no "
                    f"resource has that key. Fix: add resources={{'{s.io_manager_key}': ...}} to Definitions."
                )
        prefix = spec.key.path[:-1]
        names: tuple[str, ...] = params.names
        found = find_config_param(fn, names)
        if found is not None:  # its op name (Dagster's): the key's parts joined by "__"
            config_name = "__".join(spec.key.path) if len(a.specs) == 1 else a.op_name
            node.config = NodeConfig((config_name,), f"asset '{a.node_id}'", found[1], found[0])
            names = tuple(n for n in names if n != found[0])
        if params.var_keyword:  # ``def join(**values)`` receives every ins= entry
            names += tuple(name for name in a.ins if name not in names)
        for param in names:
            self._resolve_param(a, node, param, prefix, a.ins)
        for name in a.ins:
            if name not in params.names and not params.var_keyword:
                self.problems.append(
                    f"{_what(a)} ({a.source}) declares ins['{name}'] but the function has no parameter "
                    f"'{name}'. Fix: add the parameter or remove the entry."
                )
        for dep in a.deps:
            self._resolve_dep(node, dep, a)
        for c in a.check_specs:
            if c.asset_key not in a.keys:
                self.problems.append(
                    f"{_what(a)} ({a.source}) has check_specs=[AssetCheckSpec('{c.name}', "
                    f"asset='{c.asset_key}')], but does not produce '{c.asset_key}'. Fix: name one of "
                    f"its assets ("
                    f"{', '.join(map(str, a.keys))}), or write a separate @dg.asset_check."
                )
                continue
            node.check_targets.append(CheckTarget(c.asset_key, c.name, c.blocking))
        return node

    def _resolve_param(
        self,
        definition: AssetsDefinition | AssetChecksDefinition | MultiAssetChecksDefinition,
        node: Node,
        param: str,
        prefix: tuple[str, ...],
        ins: Mapping[str, Any],
    ) -> None:
        spec = ins.get(param)
        if spec is not None:
            if spec.key is not None:
                key = AssetKey.coerce(spec.key)
            else:
                key = AssetKey(param).with_prefix(spec.key_prefix) if spec.key_prefix else AssetKey(param)
            if key not in self.producer_of:
                self.problems.append(
                    f"{_what(definition)} ({definition.source}): ins['{param}'] names asset '{key}', which "
                    "no asset defines. Fix: define it, or declare it with dg.AssetSpec(...) in "
                    "Definitions(assets=[...])."
                )
                return
            self._add_input(node, param, key, spec.partition_mapping)
            return
        annotation = (getattr(definition.fn, "__annotations__", None) or {}).get(param)
        if definition.fn is not None and is_resource_annotation(definition.fn, annotation):
            if param not in self.resource_keys:
                self.problems.append(
                    f"{_what(definition)} ({definition.source}) needs resource '{param}', which Definitions "
                    f"does not provide. Fix: add resources={{'{param}': ...}} to Definitions."
                )
            node.resources[param] = param
            return
        for key in (AssetKey([*prefix, param]), AssetKey(param)):
            if key in self.by_key:
                self._add_input(node, param, key, None)
                return
        if param in self.resource_keys:
            node.resources[param] = param
            return
        candidates = self.by_name.get(param, [])
        if len(candidates) == 1:
            self._add_input(node, param, candidates[0], None)
            return
        self.problems.append(self._unknown_param(definition, param))

    def _unknown_param(self, definition: Any, param: str) -> str:
        names = [k.to_user_string() for k in self.by_key] + sorted(self.resource_keys)
        close = difflib.get_close_matches(param, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return (
            f"{_what(definition)} ({definition.source}) has parameter '{param}', which is neither an "
            f"asset, a resource nor 'context'.{hint} Fix: rename it to an upstream asset's name, add "
            f"resources={{'{param}': ...}} to Definitions, or map it with "
            f"ins={{'{param}': dg.AssetIn(key=...)}}."
        )

    def _add_input(self, node: Node, param: str, key: AssetKey, mapping: Any) -> None:
        producer, node_id, spec = self.producer_of[key]
        node.inputs.append(
            NodeInput(
                param, node_id, key, mapping, spec.output_name, producer.partitions_def, spec.io_manager_key
            )
        )
        self._check_mapping(node, key, producer, mapping)

    def _check_mapping(self, node: Node, key: AssetKey, producer: AssetsDefinition, mapping: Any) -> None:
        up_def, down_def = producer.partitions_def, node.partitions_def
        if up_def is None or (mapping is None and down_def is None):
            return
        from .partition_mapping import default_partition_mapping

        chosen = mapping if mapping is not None else default_partition_mapping(down_def, up_def)
        problem = chosen.validate(down_def, up_def) if chosen is not None else None
        if problem:
            self.problems.append(
                f"asset '{node.id}' ({node.definition.source}): the partition mapping from '{key}' does not "
                f"fit: {problem}. Fix: pass ins={{...: dg.AssetIn(partition_mapping=...)}} with a mapping "
                "that fits both partitions definitions."
            )

    def _resolve_dep(self, node: Node, dep: Any, definition: AssetsDefinition) -> None:
        dep_node = getattr(dep, "graph_node_id", None)
        if isinstance(dep_node, str):  # a DAG task (``deps=[etl.get_task("load")]``)
            node.deps.append(dep_node)
            return
        mapping = None
        if isinstance(dep, AssetDep):
            dep, mapping = dep.asset, dep.partition_mapping
        keys = dep.keys if isinstance(dep, AssetsDefinition) else [AssetKey.coerce(dep)]
        for key in keys:
            if key in node.asset_keys:
                continue  # a sibling in the same multi_asset: produced by this very step
            producer = self.by_key.get(key)
            task_node = self.outlet_producers.get(key)
            if task_node is not None and (producer is None or producer.is_external):
                node.deps.append(task_node)  # a DAG task's outlet: order after that task
                continue
            if producer is None:
                self.problems.append(
                    f"{_what(definition)} ({definition.source}) lists deps=['{key}'], which no asset "
                    f"defines. Fix: define it, or declare it external with dg.AssetSpec('{key}') in "
                    "Definitions(assets=[...])."
                )
            elif not producer.is_external:
                node.deps.append(producer.node_id)
                if mapping is not None:
                    node.dep_mappings[producer.node_id] = mapping
                    self._check_mapping(node, key, producer, mapping)

    # -- checks -----------------------------------------------------------------------------
    def _check_node(self, c: AssetChecksDefinition, node_by_asset: dict[AssetKey, Node]) -> Node | None:
        if c.asset_key not in self.by_key:
            self.problems.append(
                f"check '{c.name}' ({c.source}) targets asset '{c.asset_key}', which no asset defines. "
                "Fix: add that asset to Definitions(assets=[...])."
            )
            return None
        target = node_by_asset.get(c.asset_key)
        node = Node(
            id=c.node_id,
            kind=NodeKind.CHECK,
            fn=c.fn,
            definition=c,
            context_param=c.params.context,
            check=CheckTarget(c.asset_key, c.name, c.blocking),
            retry_policy=c.retry_policy,
            timeout=c.timeout,
            partitions_def=target.partitions_def if target else None,
            group=target.group if target else None,
        )
        for param in c.params.names:
            if param in (c.asset_key.name, c.asset_key.to_user_string()) and param not in c.ins:
                self._add_input(node, param, c.asset_key, None)
            else:
                self._resolve_param(c, node, param, c.asset_key.path[:-1], c.ins)
        if target is not None and target.id not in node.upstream_ids:
            node.deps.append(target.id)
        return node

    def _multi_check_node(
        self, c: MultiAssetChecksDefinition, node_by_asset: dict[AssetKey, Node]
    ) -> Node | None:
        missing = [str(k) for k in c.asset_keys if k not in self.by_key]
        if missing:
            self.problems.append(
                f"multi_asset_check '{c.name}' ({c.source}) checks asset(s) {missing}, which no asset "
                "defines. Fix: add them to Definitions(assets=[...])."
            )
            return None
        targets = [CheckTarget(s.asset_key, s.name, s.blocking) for s in c.specs]
        node = Node(
            id=c.node_id,
            kind=NodeKind.CHECK,
            fn=c.fn,
            definition=c,
            context_param=c.params.context,
            check=targets[0],
            check_targets=targets,
            retry_policy=c.retry_policy,
            timeout=c.timeout,
        )
        for param in c.params.names:
            self._resolve_param(c, node, param, (), c.ins)
        for key in c.asset_keys:
            target = node_by_asset.get(key)
            if target is not None and target.id not in node.upstream_ids:
                node.deps.append(target.id)
            if target is not None and node.partitions_def is None:
                node.partitions_def, node.group = target.partitions_def, target.group
        return node

    def _wire_blocking_checks(
        self, nodes: list[Node], checks: list[Node | None], node_by_asset: dict[AssetKey, Node]
    ) -> None:
        blocking = [
            c
            for c in checks
            if c is not None and c.check is not None and any(t.blocking for t in c.check_targets or [c.check])
        ]
        if not blocking:
            return
        by_target: dict[str, list[str]] = {}
        for c in blocking:
            assert c.check is not None
            for t in c.check_targets or [c.check]:
                target = node_by_asset.get(t.asset_key)
                if t.blocking and target is not None and c.id not in by_target.get(target.id, ()):
                    by_target.setdefault(target.id, []).append(c.id)
        for n in nodes:
            for up in dict.fromkeys(n.upstream_ids):
                for check_id in by_target.get(up, ()):
                    n.deps.append(check_id)


def _what(definition: Any) -> str:
    """How problems name a definition: built only when there is a problem to report."""
    if isinstance(definition, AssetChecksDefinition | MultiAssetChecksDefinition):
        return f"check '{definition.name}'"
    return f"asset '{definition.node_id}'"
