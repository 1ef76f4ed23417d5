"""Loading the upstream values an asset step reads: from this run's cache, else its IO manager."""

from __future__ import annotations

from typing import Any

from .._core.errors import SkipTask
from .._defs.io_manager import InputContext
from .._graph.node import Node, NodeInput
from .step_scope import StepScope

_MISSING = object()


def load_input(scope: StepScope, node: Node, inp: NodeInput, keys: list[str]) -> Any:
    """The value of one asset input: one upstream partition's value, or a dict by partition key
    when the mapping reads several (a range run, ``AllPartitionMapping``, ...)."""
    assert inp.asset_key is not None
    up_def = inp.upstream_partitions_def
    if up_def is None:
        return _load_one(scope, inp, None)
    from .._defs.partition_mapping import default_partition_mapping

    mapping = inp.partition_mapping or default_partition_mapping(node.partitions_def, up_def)
    assert mapping is not None  # an upstream with partitions always has a mapping
    up_keys = mapping.upstream_keys_for(
        keys or None,
        node.partitions_def,
        up_def,
        dynamic_partitions_store=scope.instance.dynamic_partitions_store,
    )
    if len(keys) <= 1 and mapping.is_one_to_one(node.partitions_def, up_def):
        # One upstream partition per downstream partition: the value itself (None when the
        # mapped partition does not exist, e.g. the day before the first day).
        return _load_one(scope, inp, up_keys[0]) if up_keys else None
    return {k: _load_one(scope, inp, k) for k in up_keys}


def _load_one(scope: StepScope, inp: NodeInput, partition: str | None) -> Any:
    assert inp.asset_key is not None
    cached = scope.values.get((inp.asset_key, partition), _MISSING)
    if cached is not _MISSING:
        return cached
    io_manager = scope.resources.get(inp.io_manager_key)
    try:
        return io_manager.load_input(
            InputContext(asset_key=inp.asset_key, name=inp.param, partition_key=partition, log=scope.log)
        )
    except Exception:
        up = scope.graph.nodes.get(inp.node_id) if inp.node_id else None
        if up is not None and any(o.name == inp.output_name and o.skippable for o in up.outputs):
            # Its step may leave it out (a skippable spec): nothing to read skips this one, as in Dagster.
            raise SkipTask(f"asset '{inp.asset_key}' has no value: its step did not yield it") from None
        raise
