"""One attempt of an op: config, inputs from the run's value store, outputs into it, type checks.

Op outputs live in the value store beside XComs (files under ``$DERAS_HOME/storage/_xcom/<job>/
<run>/``, memory for an in-memory instance), so a pool or Celery worker reads what another wrote.
A re-execution reads the values of steps it does not run again from its parent runs.
"""

from __future__ import annotations

import inspect
from typing import Any

from .._core.errors import DerasError, SkipTask
from .._defs.op_types import check_value, is_nothing
from .._defs.results import AssetMaterialization, Output
from .._defs.run_config import config_value
from .._graph.node import Node, NodeInput
from .context import Resources
from .op_context import OpExecutionContext
from .outputs import record_materializations, runtime_materialization
from .step_scope import StepScope


def run_op_attempt(scope: StepScope, node: Node, attempt: int) -> None:
    """Call the op's function with its context, config, inputs and resources; store its outputs."""
    step = node.definition
    op, handle = step.op, step.handle
    config_obj = config_value(node.config, scope.run.run_config) if node.config is not None else None
    # An op without a schema takes no config (the run config check refuses any): None
    op_config = config_obj.model_dump() if config_obj is not None else None
    kwargs: dict[str, Any] = {}
    context: OpExecutionContext | None = None
    if node.context_param:
        context = kwargs[node.context_param] = OpExecutionContext(
            run_id=scope.run_id,
            op_name=handle,
            job_name=step.job_name,
            log=scope.log,
            resources=Resources(scope.resources.get),
            op_config=op_config,
            retry_number=attempt,
            instance=scope.instance,
            run_config=scope.run.run_config,
        )
    if op.config_param is not None:
        kwargs[op.config_param] = config_obj
    loaded: dict[str, list[Any]] = {}
    for inp in node.inputs:
        loaded.setdefault(inp.param, []).append(_load(scope, step.job_name, inp))
    for param in op.value_inputs:
        spec = op.ins[param]
        if param in loaded:
            value = loaded[param] if param in step.fan_in else loaded[param][0]
        else:
            value = spec.default_value
        check_value(spec.dagster_type, value, f"op '{handle}' input '{param}'")
        kwargs[param] = value
    for param, key in node.resources.items():
        kwargs[param] = scope.resources.get(key)
    assert node.fn is not None
    result = node.fn(**kwargs)
    if node.return_type is not None:  # the function's return annotation, as for assets
        node.return_type.check(handle, result, kind="op")
    materializations: list[AssetMaterialization] = []
    outputs = _outputs(op, handle, result, materializations)
    for name, value in outputs.items():
        check_value(op.outs[name].dagster_type, value, f"op '{handle}' output '{name}'")
    store = scope.instance.xcom_store
    for name, value in outputs.items():
        if name in {o.name for o in node.outputs}:
            store.put(step.job_name, scope.run_id, handle, name, -1, value)
    # What it logged with context.log_event, then what it yielded, as an asset step records them
    logged = context.logged_events if context is not None else []
    record_materializations(
        scope, node.id, attempt, [runtime_materialization(e, []) for e in [*logged, *materializations]]
    )


def _outputs(
    op: Any, handle: str, result: Any, materializations: list[AssetMaterialization]
) -> dict[str, Any]:
    """What the function returned or yielded, by output name (the ``AssetMaterialization``s it
    yielded go to ``materializations``); a missing required output raises."""
    names = list(op.outs)
    values: dict[str, Any] = {}
    if inspect.isgenerator(result):
        for item in result:
            if isinstance(item, AssetMaterialization):
                materializations.append(item)
                continue
            if not isinstance(item, Output):
                raise DerasError(f"op '{handle}' yielded {item!r}: yield dg.Output(value, output_name=...)")
            _put(values, names, handle, item.output_name, item.value)
    elif isinstance(result, Output):
        _put(values, names, handle, result.output_name, result.value)
    elif len(names) > 1:
        if not isinstance(result, tuple) or len(result) != len(names):
            raise DerasError(
                f"op '{handle}' has outputs {names}: return a tuple of {len(names)} values in that order, "
                f"or yield dg.Output(value, output_name=...) for each (it returned {type(result).__name__})"
            )
        values = dict(zip(names, result, strict=True))
    elif names:
        values[names[0]] = result
    for name in names:  # a Nothing output has no value to give
        if name not in values and is_nothing(op.outs[name].dagster_type):
            values[name] = None
    missing = [n for n in names if n not in values and op.outs[n].is_required]
    if missing:
        raise DerasError(f"op '{handle}' produced no value for required output(s) {missing}")
    return values


def _put(values: dict[str, Any], names: list[str], handle: str, name: str, value: Any) -> None:
    if name == "result" and len(names) == 1:
        name = names[0]
    if name not in names:
        raise DerasError(f"op '{handle}' has no output '{name}' (outputs: {names})")
    values[name] = value


def _load(scope: StepScope, job_name: str, inp: NodeInput) -> Any:
    """An upstream op's output: from this run, else (a re-execution) from the run it repeats."""
    assert inp.node_id is not None
    upstream = inp.node_id[len(job_name) + 1 :]
    store = scope.instance.xcom_store
    run: Any = scope.run
    while run is not None:
        try:
            return store.get(job_name, run.run_id, upstream, inp.output_name, -1)
        except KeyError:
            parent = run.parent_run_id
            run = scope.instance.get_run(parent) if parent else None
    up_node = scope.graph.nodes.get(inp.node_id)
    up_op = up_node.definition.op if up_node is not None else None
    if up_op is not None and not up_op.outs[inp.output_name].is_required:
        raise SkipTask(f"op '{upstream}' did not yield its optional output '{inp.output_name}'")
    raise DerasError(f"no value for output '{inp.output_name}' of op '{upstream}' in run {scope.run_id}")
