"""One attempt of one node, in whatever process executes it: inputs, resources, context, events."""

from __future__ import annotations

import traceback
from typing import Any

from .._core.errors import RetryRequested, SkipTask, ValueNotStoredError
from .._core.events import EventType
from .._core.keys import AssetKey
from .._core.metadata import normalize_metadata
from .._core.status import NodeStatus
from .._core.user_traceback import format_user_traceback
from .._defs.failure import Failure
from .._defs.io_manager import OutputContext
from .._defs.run_config import config_value
from .._graph.node import Node, NodeKind
from .asset_inputs import load_input
from .capture import capture_output
from .check_evaluation import raise_blocking, raise_missing, record_check
from .context import AssetCheckExecutionContext, AssetExecutionContext, Resources
from .outputs import (
    AssetOutput,
    StepResults,
    check_verdict,
    multi_check_results,
    record_materializations,
    runtime_materialization,
    step_results,
)
from .step_scope import StepScope
from .step_types import SkipCause, SkipKind, StepOutcome, StepSpec
from .timeout import deadline
from .user_logger import attempt_logging


def execute_step(scope: StepScope, spec: StepSpec) -> StepOutcome:
    """Run one attempt of ``spec``'s node here: its events, its values stored, its callbacks.

    The attempt's outputs are stored (durable) before it reports success; a value that
    cannot be stored fails the attempt. A failure is recorded as a retry when ``spec`` has
    retries left and the error allows one; the run loop submits the next attempt.
    """
    node = scope.graph.nodes[spec.node_id]
    name, attempt, events = spec.name, spec.attempt, scope.events
    keys = scope.partition_keys if node.partitions_def is not None else []
    span = _span(node, keys, scope.instance.dynamic_partitions_store)
    events.add(scope.run_id, EventType.STEP_START, name, attempt)
    if scope.durable_start:
        events.flush()
    else:
        events.transition()
    if attempt == 0 and span is not None and node.kind == NodeKind.ASSET:
        for key in node.asset_keys:
            events.add(
                scope.run_id,
                EventType.MATERIALIZATION_PLANNED,
                name,
                attempt,
                data={"asset_key": str(key), "partitions": span},
            )
    callback_context: dict[str, Any] = {"run_id": scope.run_id, "node": name, "try_number": attempt + 1}
    branch: frozenset[str] | None = None
    try:
        with attempt_logging(scope.log_handler):
            if node.kind == NodeKind.TASK:
                from .task_step import task_context

                # Built first, so failure and retry callbacks get the whole context (ti, ds, ...).
                callback_context = task_context(scope, spec, node)
                branch = _task_attempt(scope, spec, node, callback_context)
            elif node.kind == NodeKind.OP:
                _op_attempt(scope, node, attempt, name)
            else:
                _attempt(scope, node, keys, attempt, span, name)
    except SkipTask as err:
        reason = str(err) or "the task raised SkipTask"
        data = {"reason": reason}
        events.add(scope.run_id, EventType.STEP_SKIPPED, name, attempt, f"skipped: {reason}", "INFO", data)
        run_callback(scope, node, name, "on_skipped", callback_context)
        events.transition()
        return _outcome(spec, NodeStatus.SKIPPED, skip=SkipCause(SkipKind.RAISED, reason))
    except Exception as err:
        error = f"{type(err).__name__}: {err}"
        tb = "" if getattr(err, "_deras_no_traceback", False) else format_user_traceback(err)
        retryable = not getattr(err, "_deras_no_retry", False)
        context = {**callback_context, "exception": err}
        return _fail(scope, spec, node, span, error, tb, retryable, context, **_failure_details(err))
    events.add(scope.run_id, EventType.STEP_SUCCESS, name, attempt)
    run_callback(scope, node, name, "on_success", callback_context)
    events.transition()
    return _outcome(spec, NodeStatus.SUCCESS, branch_choice=branch)


def record_lost_attempt(
    scope: StepScope, spec: StepSpec, error: str, *, redispatch: bool = False
) -> StepOutcome:
    """The attempt's process died (or was killed at its timeout) before it said how it ended:
    record its failure here, a retry if the node's policy has one left. With ``redispatch`` (its
    machine was lost, not the node's doing) it is recorded as a retry in any case, without using
    one up: the run loop runs the step again."""
    node = scope.graph.nodes[spec.node_id]
    if redispatch:
        scope.events.add(
            scope.run_id,
            EventType.STEP_RETRY,
            spec.name,
            spec.attempt,
            f"attempt {spec.attempt + 1} lost ({error}); running it again",
            "WARNING",
            {"error": error, "traceback": "", "delay": 0.0, "redispatch": True},
        )
        scope.events.flush()
        return _outcome(spec, NodeStatus.UP_FOR_RETRY, error=error, redispatch=True)
    keys = scope.partition_keys if node.partitions_def is not None else []
    span = _span(node, keys, scope.instance.dynamic_partitions_store)
    context: dict[str, Any] = {"run_id": scope.run_id, "node": spec.name, "try_number": spec.attempt + 1}
    if node.kind == NodeKind.TASK:
        from .task_step import task_context

        context = task_context(scope, spec, node)
    return _fail(scope, spec, node, span, error, "", True, context)


def record_expansion_failure(scope: StepScope, node_id: str, attempt: int, err: Exception) -> None:
    """A mapped task whose lists could not be computed fails without an instance."""
    error = f"{type(err).__name__}: cannot expand {node_id}: {err}"
    scope.events.add(
        scope.run_id,
        EventType.STEP_FAILURE,
        node_id,
        attempt,
        error,
        "ERROR",
        {"error": error, "traceback": traceback.format_exc()},
    )


def _fail(
    scope: StepScope,
    spec: StepSpec,
    node: Node,
    span: Any,
    error: str,
    tb: str,
    retryable: bool,
    callback_context: dict[str, Any],
    *,
    metadata: dict[str, Any] | None = None,
    requested: tuple[int, float] | None = None,
) -> StepOutcome:
    """Record a failed attempt: a retry if one is left (``requested``: the retries and wait of a
    ``RetryRequested``, instead of the node's policy), else the step's failure."""
    name, attempt, events = spec.name, spec.attempt, scope.events
    details: dict[str, Any] = {"error": error, "traceback": tb}
    if metadata:
        details["metadata"] = normalize_metadata(metadata)
    if requested is not None:
        max_retries, delay = requested
        will_retry = attempt < max_retries
        if not will_retry:
            error = details["error"] = f"{error}: exceeded max_retries={max_retries}"
    else:
        will_retry = retryable and spec.retries_left > 0
        if will_retry:
            delay = node.retry_policy.delay_for(node.retry_policy.max_retries - spec.retries_left + 1)
    if will_retry:
        events.add(
            scope.run_id,
            EventType.STEP_RETRY,
            name,
            attempt,
            f"attempt {attempt + 1} failed ({error}); retrying in {delay:g} s",
            "WARNING",
            {**details, "delay": delay},
        )
        run_callback(scope, node, name, "on_retry", callback_context)
        events.flush()
        return _outcome(spec, NodeStatus.UP_FOR_RETRY, error=error, retry_delay=delay)
    events.add(scope.run_id, EventType.STEP_FAILURE, name, attempt, error, "ERROR", details)
    if node.kind == NodeKind.ASSET:
        for key in node.asset_keys:
            data: dict[str, Any] = {"asset_key": str(key)}
            if span is not None:
                data["partitions"] = span
            events.add(scope.run_id, EventType.ASSET_FAILED, name, attempt, data=data)
    run_callback(scope, node, name, "on_failure", callback_context)
    events.flush()
    return _outcome(spec, NodeStatus.FAILED, error=error)


def _failure_details(err: Exception) -> dict[str, Any]:
    """What a ``dg.Failure`` / ``dg.RetryRequested`` adds to how the attempt's failure is recorded."""
    if isinstance(err, Failure):
        return {"metadata": err.metadata}
    if isinstance(err, RetryRequested):
        return {"requested": (err.max_retries, float(err.seconds_to_wait))}
    return {}


def _outcome(spec: StepSpec, status: NodeStatus, **fields: Any) -> StepOutcome:
    return StepOutcome(spec.run_id, spec.node_id, spec.attempt, status, spec.map_index, **fields)


def _task_attempt(
    scope: StepScope, spec: StepSpec, node: Node, context: dict[str, Any]
) -> frozenset[str] | None:
    """Run the task's operator; the task ids it chose if it is a branch."""
    from .task_step import run_task_attempt

    handler = scope.log_handler
    handler.node, handler.attempt = spec.name, spec.attempt
    with (
        capture_output(scope.events, scope.run_id, spec.name, spec.attempt, scope.echo_output, scope.run_fds),
        deadline(node.timeout if scope.own_timeouts else None, f"task {node.id}"),
    ):
        run_callback(scope, node, spec.name, "on_execute", context)
        return run_task_attempt(scope, spec, node, context)


def _op_attempt(scope: StepScope, node: Node, attempt: int, name: str) -> None:
    from .op_step import run_op_attempt

    handler = scope.log_handler
    handler.node, handler.attempt = name, attempt
    with (
        capture_output(scope.events, scope.run_id, name, attempt, scope.echo_output, scope.run_fds),
        deadline(node.timeout if scope.own_timeouts else None, f"op {node.id}"),
    ):
        run_op_attempt(scope, node, attempt)


def run_callback(scope: StepScope, node: Node, name: str, which: str, context: dict[str, Any]) -> None:
    """Call a node's callback with ``context=``; a raising callback is logged, nothing else."""
    callback = node.callbacks.get(which)
    if callback is None:
        return
    try:
        with capture_output(scope.events, scope.run_id, name, None, scope.echo_output, scope.run_fds):
            call_with_context(callback, context)
    except Exception:
        scope.events.add(
            scope.run_id,
            EventType.LOG,
            name,
            None,
            f"{which}_callback raised (ignored):\n{traceback.format_exc()}",
            "ERROR",
        )


def call_with_context(callback: Any, context: dict[str, Any]) -> Any:
    code = getattr(callback, "__code__", None)
    if (
        code is not None
        and "context" not in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        and not code.co_flags & 0x08
        and code.co_argcount >= 1
    ):
        return callback(context)  # an Airflow-style ``def cb(ctx)``: one positional argument
    return callback(context=context)


def _attempt(scope: StepScope, node: Node, keys: list[str], attempt: int, span: Any, name: str) -> None:
    handler = scope.log_handler
    handler.node, handler.attempt = name, attempt
    context = _context(scope, node, keys, attempt)
    with capture_output(scope.events, scope.run_id, node.id, attempt, scope.echo_output, scope.run_fds):
        with deadline(node.timeout if scope.own_timeouts else None, f"{node.kind} {node.id}"):
            kwargs: dict[str, Any] = {}
            if node.context_param:
                kwargs[node.context_param] = context
            for inp in node.inputs:
                kwargs[inp.param] = load_input(scope, node, inp, keys)
            for param, key in node.resources.items():
                kwargs[param] = scope.resources.get(key)
            if node.config is not None and node.config.param is not None:
                config = config_value(node.config, scope.run.run_config)
                kwargs[node.config.param] = config
                context.op_config = config.model_dump()
            assert node.fn is not None
            result = node.fn(**kwargs)
            if node.kind == NodeKind.CHECK and not node.check_targets:
                assert node.check is not None
                verdict = check_verdict(node, result)
                record_check(scope, node, node.check, keys, attempt, verdict)
                raise_blocking([(node.check, verdict)])
                return
            if node.kind == NodeKind.CHECK:  # a multi_asset_check
                results = StepResults([], multi_check_results(node, result))
            else:
                results = step_results(node, result)
        # Inside the capture: an IO manager is user code too, and may print.
        outputs = results.outputs
        materialized = [_stored(scope, node, context, out, keys, span, len(outputs)) for out in outputs]
    materialized.extend(runtime_materialization(m, keys) for m in context.logged_events)
    materialized.extend(runtime_materialization(m, keys) for m in results.materializations)
    record_materializations(scope, node.id, attempt, materialized)
    for target, verdict in results.checks:
        record_check(scope, node, target, keys, attempt, verdict)
    raise_missing(node, results.checks)
    raise_blocking(results.checks)


def _stored(
    scope: StepScope,
    node: Node,
    context: AssetExecutionContext,
    out: AssetOutput,
    keys: list[str],
    span: Any,
    count: int,
) -> dict[str, Any]:
    """Store one output of an asset attempt; the data of its materialization event."""
    metadata = dict(context.output_metadata.get(None, {})) if count == 1 else {}
    metadata.update(context.output_metadata.get(out.asset_key, {}))
    metadata.update(out.metadata)
    if out.has_value:
        metadata.update(_store_output(scope, out.asset_key, out.io_manager_key, out.value, keys, node))
    data: dict[str, Any] = {"asset_key": str(out.asset_key), "metadata": normalize_metadata(metadata)}
    if len(keys) == 1:
        data["partition"] = keys[0]
    elif keys:
        data["partition_range"] = [keys[0], keys[-1]]
    if span is not None:
        data["partitions"] = span
    return data


def _context(scope: StepScope, node: Node, keys: list[str], attempt: int) -> AssetExecutionContext:
    cls = AssetCheckExecutionContext if node.kind == NodeKind.CHECK else AssetExecutionContext
    targets = node.check_targets or ([node.check] if node.check else [])  # every asset a check checks
    asset_keys = node.asset_keys or list(dict.fromkeys(t.asset_key for t in targets))
    context = cls(
        run_id=scope.run_id,
        node_id=node.id,
        asset_key=asset_keys[0] if len(asset_keys) == 1 else None,
        asset_keys=asset_keys,
        partition_keys=keys,
        partitions_def=node.partitions_def,
        log=scope.log,
        resources=Resources(scope.resources.get),
        retry_number=attempt,
        instance=scope.instance,
        run_config=scope.run.run_config,
    )
    if isinstance(context, AssetCheckExecutionContext) and node.check is not None:
        context.check_name = node.check.check_name
    return context


def _roundtrips(io_manager: Any) -> bool:
    return bool(getattr(io_manager, "_deras_exact_roundtrip", False))


def _store_output(
    scope: StepScope, key: AssetKey, io_key: str, value: Any, keys: list[str], node: Node
) -> dict[str, Any]:
    io_manager = scope.resources.get(io_key)
    ctx = OutputContext(
        asset_key=key,
        run_id=scope.run_id,
        partition_key=keys[0] if len(keys) == 1 else None,
        partition_keys=list(keys),
        log=scope.log,
    )
    try:
        io_manager.handle_output(ctx, value)
    except Exception as err:  # the value is not durable: the attempt did not succeed
        raise ValueNotStoredError(f"storing {key} failed: {type(err).__name__}: {err}") from err
    if _roundtrips(io_manager):
        if len(keys) <= 1:
            scope.values[(key, keys[0] if keys else None)] = value
        elif isinstance(value, dict) and set(value) <= set(keys):
            for k, v in value.items():
                scope.values[(key, k)] = v
        else:
            for k in keys:
                scope.values[(key, k)] = value
    return ctx._metadata


def _span(node: Node, keys: list[str], store: Any) -> dict[str, Any] | None:
    if not keys or node.partitions_def is None:
        return None
    span = node.partitions_def.to_span(keys, dynamic_partitions_store=store)
    return span.to_json()
