"""``materialize()``: run assets in this process, the quickest way to try a pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._core.errors import DerasError
from .._core.records import RunTarget
from .._defs.asset import AssetsDefinition, flatten
from .._defs.check import AssetChecksDefinition
from .._defs.check_spec import MultiAssetChecksDefinition
from .._defs.definitions import Definitions
from .._defs.io_manager import InMemoryIOManager, IOManager
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


def materialize_to_memory(
    assets: Sequence[Any],
    resources: Mapping[str, Any] | None = None,
    selection: Any = None,
    partition_key: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    instance: DerasInstance | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
) -> ExecutionResult:
    """``materialize`` with every IO manager the assets name replaced by one in memory, in this
    process: values never touch disk; read them with ``result.asset_value`` /
    ``result.output_for_node``. Passing an IO manager in ``resources`` is an error (it would
    not be used).

    >>> import deras as dg
    >>> @dg.asset(io_manager_key="warehouse")
    ... def table():
    ...     return [1, 2]
    >>> dg.materialize_to_memory([table]).output_for_node("table")
    [1, 2]
    """
    given = dict(resources or {})
    io_keys = [k for k, v in given.items() if isinstance(v, IOManager) or _is_io_manager_factory(v)]
    if io_keys:
        raise DerasError(
            f"materialize_to_memory got IO manager(s) in resources: {', '.join(sorted(io_keys))}. "
            "It keeps every value in memory, so they would not be used. Fix: drop them, or call "
            "dg.materialize(...) to use them."
        )
    memory = InMemoryIOManager()
    keys = {"io_manager"}
    for item in flatten(list(assets)):
        keys.update(s.io_manager_key for s in getattr(item, "specs", ()) if hasattr(s, "io_manager_key"))
    given.update(dict.fromkeys(keys, memory))
    return materialize(
        assets,
        resources=given,
        selection=selection,
        partition_key=partition_key,
        run_config=run_config,
        instance=instance,
        executor="in_process",
        raise_on_error=raise_on_error,
        tags=tags,
    )


def _is_io_manager_factory(value: Any) -> bool:
    return callable(getattr(value, "_deras_build_resource", None))
