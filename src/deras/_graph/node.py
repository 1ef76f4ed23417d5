"""A node of the graph: one executable step (an asset op, a check, a task)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .._core.keys import AssetKey


class NodeKind(StrEnum):
    ASSET = "asset"
    CHECK = "check"
    TASK = "task"
    OP = "op"  # a step of an op job (@op in a @graph/@job): values pass through the run's value store


@dataclass(slots=True, eq=False)
class NodeInput:
    """A value the node's function receives from upstream.

    ``asset_key`` is set for asset inputs (loaded by that asset's IO manager);
    ``node_id`` is the producing node (None for an external asset).
    """

    param: str
    node_id: str | None
    asset_key: AssetKey | None = None
    partition_mapping: Any = None
    output_name: str = "result"
    upstream_partitions_def: Any = None
    io_manager_key: str = "io_manager"


@dataclass(slots=True, eq=False)
class NodeOutput:
    name: str
    asset_key: AssetKey | None
    io_manager_key: str = "io_manager"
    skippable: bool = False  # the step may end without a result for it


@dataclass(slots=True, eq=False)
class CheckTarget:
    asset_key: AssetKey
    check_name: str
    blocking: bool


@dataclass(slots=True, eq=False)
class Node:
    """One step of the graph.

    ``deps`` are order-only upstream node ids (``deps=``, blocking checks, ``a >> b``);
    data dependencies are in ``inputs``. ``definition`` points back at what the user wrote,
    for labels and error messages only: executors never branch on it.
    """

    id: str
    kind: NodeKind
    fn: Callable[..., Any] | None
    definition: Any
    inputs: list[NodeInput] = field(default_factory=list)
    outputs: list[NodeOutput] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)  # parameter -> resource key
    context_param: str | None = None
    check: CheckTarget | None = None
    # Checks whose results this step yields itself (an asset's check_specs=, a multi_asset_check)
    check_targets: list[CheckTarget] = field(default_factory=list)
    partitions_def: Any = None
    backfill_policy: Any = None
    retry_policy: Any = None
    timeout: float | None = None
    pool: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    group: str | None = None
    trigger_rule: str = "all_success"
    stores_output: bool = True
    automation_condition: Any = None  # an AutomationCondition of an asset, read by the daemon
    # What an asset's returned value must be (its resolved return annotation); None: unchecked
    return_type: Any = None
    # Where the run config configures this node and with what (a _defs.run_config.NodeConfig);
    # None: the node takes no config
    config: Any = None
    # on_failure / on_success / on_retry -> callable(context=...); a raising one is only logged
    callbacks: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # upstream node id -> partition mapping of a ``deps=[AssetDep(..., partition_mapping=)]`` edge
    dep_mappings: dict[str, Any] = field(default_factory=dict)

    @property
    def upstream_ids(self) -> list[str]:
        ids = [i.node_id for i in self.inputs if i.node_id is not None]
        ids.extend(self.deps)
        return ids

    @property
    def asset_keys(self) -> list[AssetKey]:
        return [o.asset_key for o in self.outputs if o.asset_key is not None]
