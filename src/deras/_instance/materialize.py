"""``materialize()``: run assets in this process, the quickest way to try a pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._core.records import RunTarget
from .._defs.asset import AssetsDefinition, flatten
from .._defs.check import AssetChecksDefinition
from .._defs.check_spec import MultiAssetChecksDefinition
from .._defs.definitions import Definitions
from .._exec.launch import execute_run
from .._exec.result import ExecutionResult
from .._plan.plan import plan_run
from .instance import DerasInstance


def materialize(
    assets: Sequence[Any],
    resources: Mapping[str, Any] | None = None,
    selection: Any = None,
    partition_key: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    instance: DerasInstance | None = None,
    executor: Any = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    partition_keys: Sequence[str] | None = None,
) -> ExecutionResult:
    """Materialize ``assets`` (and run their checks) in this process.

    Runs on an in-memory instance unless ``instance=`` is given. With ``raise_on_error``
    a failed asset raises ``RunFailedError`` after the run is recorded; a failed check
    does not raise.

    >>> import deras as dg
    >>> @dg.asset
    ... def one():
    ...     return 1
    >>> @dg.asset
    ... def two(one):
    ...     return one + 1
    >>> dg.materialize([one, two]).asset_value("two")
    2
    """
    items = flatten(list(assets))
    defs = Definitions(
        assets=[a for a in items if isinstance(a, AssetsDefinition)],
        asset_checks=[c for c in items if isinstance(c, AssetChecksDefinition | MultiAssetChecksDefinition)],
        resources=resources,
        # DAGs given too join the lineage (an asset may depend on a task's outlet); their tasks
        # are not run: an asset selection runs assets.
        dags=[d for d in items if callable(getattr(d, "graph_nodes", None))],
    )
    inst = instance if instance is not None else DerasInstance.ephemeral()
    plan = plan_run(
        defs.asset_graph,
        selection,
        partition_key=partition_key,
        partition_keys=partition_keys,
        dynamic_partitions_store=inst.dynamic_partitions_store,
    )
    label = "assets:" + ",".join(n for n in plan.node_ids if defs.asset_graph.nodes[n].check is None)
    return execute_run(
        inst,
        plan,
        defs.resources,
        target=RunTarget.assets(),
        label=label[:500],
        tags=tags,
        run_config=run_config,
        executor=executor,
        raise_on_error=raise_on_error,
    )
