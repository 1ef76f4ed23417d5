"""Running one node: inputs, resources, context, attempts with retries and timeouts, events."""

from __future__ import annotations

import time
import traceback
from typing import Any

from .._core.errors import SkipTask
from .._core.events import EventType
from .._core.keys import AssetKey
from .._core.metadata import normalize_metadata
from .._core.status import NodeStatus
from .._core.task_state import TaskInstanceState as TI
from .._defs.io_manager import InputContext, OutputContext
from .._graph.node import Node, NodeInput, NodeKind
from .capture import capture_output
from .context import AssetCheckExecutionContext, AssetExecutionContext, Resources
from .outputs import AssetOutput, asset_outputs, check_verdict
from .run_state import RunState
from .timeout import deadline


def run_node(state: RunState, node: Node) -> NodeStatus:
    """Execute ``node`` (every mapped instance of a mapped task), with retries and callbacks."""
    if node.kind == NodeKind.TASK and node.definition.is_mapped:
        return _run_mapped(state, node)
    return _run_instance(state, node, -1)


def _run_mapped(state: RunState, node: Node) -> NodeStatus:
    from .taskflow_args import expansion

    attempt = state.first_attempts.get(node.id, 0)  # a cleared run records its next try
    try:
        lists = expansion(state, node.definition)
    except Exception as err:
        error = f"{type(err).__name__}: cannot expand {node.id}: {err}"
        state.events.add(
            state.run_id,
            EventType.STEP_FAILURE,
            node.id,
            attempt,
            error,
            "ERROR",
            {"error": error, "traceback": traceback.format_exc()},
        )
        return NodeStatus.FAILED
    count = len(next(iter(lists.values()))) if lists else 0
    state.map_counts[node.id] = count
    if count == 0:
        reason = "mapped over an empty list: no instance to run"
        state.events.add(
            state.run_id,
            EventType.STEP_SKIPPED,
            node.id,
            attempt,
            f"skipped: {reason}",
            "INFO",
            {"reason": reason},
        )
        return NodeStatus.SKIPPED
    outcomes = [_run_instance(state, node, i) for i in range(count)]
    if NodeStatus.FAILED in outcomes:
        return NodeStatus.FAILED
    if all(o == NodeStatus.SKIPPED for o in outcomes):
        return NodeStatus.SKIPPED
    return NodeStatus.SUCCESS


def _run_instance(state: RunState, node: Node, map_index: int) -> NodeStatus:
    """Every attempt of one node (or one mapped instance); events flush at the attempt's end."""
    keys = state.plan.partition_keys if node.partitions_def is not None else []
    span = _span(node, keys, state.instance.dynamic_partitions_store)
    retries = node.retry_policy.max_retries if node.retry_policy else 0
    name = node.id if map_index < 0 else f"{node.id}[{map_index}]"
    first = attempt = state.first_attempts.get(name, 0)
    state.move(name, TI.SCHEDULED)
    while True:
        state.move(name, TI.QUEUED, TI.RUNNING)
        state.events.add(state.run_id, EventType.STEP_START, name, attempt)
        state.events.transition()
        if attempt == 0 and span is not None and node.kind == NodeKind.ASSET:
            for key in node.asset_keys:
                state.events.add(
                    state.run_id,
                    EventType.MATERIALIZATION_PLANNED,
                    name,
                    attempt,
                    data={"asset_key": str(key), "partitions": span},
                )
        callback_context: dict[str, Any] = {"run_id": state.run_id, "node": name, "try_number": attempt + 1}
        try:
            if node.kind == NodeKind.TASK:
                from .task_step import task_context

                # Built first, so failure and retry callbacks get the whole context (ti, ds, ...).
                callback_context = task_context(state, node, attempt, map_index)
                _task_attempt(state, node, name, attempt, map_index, callback_context)
            else:
                _attempt(state, node, keys, attempt, span, name)
        except SkipTask as err:
            state.move(name, TI.SKIPPED)
            reason = str(err) or "the task raised SkipTask"
            state.events.add(
                state.run_id,
                EventType.STEP_SKIPPED,
                name,
                attempt,
                f"skipped: {reason}",
                "INFO",
                {"reason": reason},
            )
            state.events.transition()
            return NodeStatus.SKIPPED
        except Exception as err:
            error = f"{type(err).__name__}: {err}"
            tb = "" if getattr(err, "_deras_no_traceback", False) else traceback.format_exc()
            callback_context = {**callback_context, "exception": err}
            if attempt - first < retries and not getattr(err, "_deras_no_retry", False):
                delay = node.retry_policy.delay_for(attempt - first + 1)
                state.events.add(
                    state.run_id,
                    EventType.STEP_RETRY,
                    name,
                    attempt,
                    f"attempt {attempt + 1} failed ({error}); retrying in {delay:g} s",
                    "WARNING",
                    {"error": error, "traceback": tb, "delay": delay},
                )
                run_callback(state, node, name, "on_retry", callback_context)
                state.move(name, TI.UP_FOR_RETRY, TI.SCHEDULED)
                state.events.flush()
                if delay:
                    time.sleep(delay)
                attempt += 1
                continue
            state.events.add(
                state.run_id,
                EventType.STEP_FAILURE,
                name,
                attempt,
                error,
                "ERROR",
                {"error": error, "traceback": tb},
            )
            if node.kind == NodeKind.ASSET:
                for key in node.asset_keys:
                    data: dict[str, Any] = {"asset_key": str(key)}
                    if span is not None:
                        data["partitions"] = span
                    state.events.add(state.run_id, EventType.ASSET_FAILED, name, attempt, data=data)
            state.move(name, TI.FAILED)
            run_callback(state, node, name, "on_failure", callback_context)
            state.events.flush()
            return NodeStatus.FAILED
        state.events.add(state.run_id, EventType.STEP_SUCCESS, name, attempt)
        state.move(name, TI.SUCCESS)
        run_callback(state, node, name, "on_success", callback_context)
        state.events.transition()
        return NodeStatus.SUCCESS


def _task_attempt(
    state: RunState, node: Node, name: str, attempt: int, map_index: int, context: dict[str, Any]
) -> None:
    from .task_step import run_task_attempt

    handler = state.log_handler
    handler.node, handler.attempt = name, attempt
    with (
        capture_output(state.events, state.run_id, name, attempt, state.echo_output, state.run_fds),
        deadline(node.timeout, f"task {node.id}"),
    ):
        run_task_attempt(state, node, attempt, map_index, context)


def run_callback(state: RunState, node: Node, name: str, which: str, context: dict[str, Any]) -> None:
    """Call a node's callback with ``context=``; a raising callback is logged, nothing else."""
    callback = node.callbacks.get(which)
    if callback is None:
        return
    try:
        with capture_output(state.events, state.run_id, name, None, state.echo_output, state.run_fds):
            call_with_context(callback, context)
    except Exception:
        state.events.add(
            state.run_id,
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


class BlockingCheckFailed(Exception):
    _deras_no_retry = True
    _deras_no_traceback = True  # the check's verdict says it all


def _attempt(state: RunState, node: Node, keys: list[str], attempt: int, span: Any, name: str) -> None:
    handler = state.log_handler
    handler.node, handler.attempt = name, attempt
    context = _context(state, node, keys, attempt)
    with capture_output(state.events, state.run_id, node.id, attempt, state.echo_output, state.run_fds):
        with deadline(node.timeout, f"{node.kind} {node.id}"):
            kwargs: dict[str, Any] = {}
            if node.context_param:
                kwargs[node.context_param] = context
            for inp in node.inputs:
                kwargs[inp.param] = _load_input(state, node, inp, keys)
            for param, key in node.resources.items():
                kwargs[param] = state.resources.get(key)
            assert node.fn is not None
            result = node.fn(**kwargs)
            if node.kind == NodeKind.CHECK:
                _record_check(state, node, keys, attempt, check_verdict(node, result))
                return
            outputs = asset_outputs(node, result)
        # Inside the capture: an IO manager is user code too, and may print.
        materialized = [_stored(state, node, context, out, keys, span, len(outputs)) for out in outputs]
    for data in materialized:  # after the attempt's output, as the log reads best
        state.events.add(
            state.run_id,
            EventType.ASSET_MATERIALIZATION,
            node.id,
            attempt,
            f"materialized {data['asset_key']}",
            data=data,
        )


def _stored(
    state: RunState,
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
        metadata.update(_store_output(state, out.asset_key, out.io_manager_key, out.value, keys, node))
    data: dict[str, Any] = {"asset_key": str(out.asset_key), "metadata": normalize_metadata(metadata)}
    if len(keys) == 1:
        data["partition"] = keys[0]
    elif keys:
        data["partition_range"] = [keys[0], keys[-1]]
    if span is not None:
        data["partitions"] = span
    return data


def _context(state: RunState, node: Node, keys: list[str], attempt: int) -> AssetExecutionContext:
    cls = AssetCheckExecutionContext if node.kind == NodeKind.CHECK else AssetExecutionContext
    asset_keys = node.asset_keys or ([node.check.asset_key] if node.check else [])
    context = cls(
        run_id=state.run_id,
        node_id=node.id,
        asset_key=asset_keys[0] if len(asset_keys) == 1 else None,
        asset_keys=asset_keys,
        partition_keys=keys,
        partitions_def=node.partitions_def,
        log=state.log,
        resources=Resources(state.resources.get),
        retry_number=attempt,
        instance=state.instance,
        run_config=state.run.run_config,
    )
    if isinstance(context, AssetCheckExecutionContext) and node.check is not None:
        context.check_name = node.check.check_name
    return context


def _record_check(state: RunState, node: Node, keys: list[str], attempt: int, verdict: Any) -> None:
    assert node.check is not None
    severity = str(verdict.severity)
    data = {
        "asset_key": str(node.check.asset_key),
        "check_name": node.check.check_name,
        "passed": bool(verdict.passed),
        "severity": severity,
        "metadata": normalize_metadata(verdict.metadata),
        "blocking": node.check.blocking,
    }
    if len(keys) == 1:
        data["partition"] = keys[0]
    outcome = "passed" if verdict.passed else "failed"
    state.events.add(
        state.run_id,
        EventType.ASSET_CHECK_EVALUATION,
        node.id,
        attempt,
        f"check {node.check.check_name} on {node.check.asset_key} {outcome}",
        None if verdict.passed else "WARNING",
        data,
    )
    if not verdict.passed and node.check.blocking and severity == "ERROR":
        raise BlockingCheckFailed(
            f"blocking check {node.check.check_name} on {node.check.asset_key} failed"
            + (f": {verdict.description}" if verdict.description else "")
        )


def _roundtrips(io_manager: Any) -> bool:
    return bool(getattr(io_manager, "_deras_exact_roundtrip", False))


def _store_output(
    state: RunState, key: AssetKey, io_key: str, value: Any, keys: list[str], node: Node
) -> dict[str, Any]:
    io_manager = state.resources.get(io_key)
    ctx = OutputContext(
        asset_key=key,
        run_id=state.run_id,
        partition_key=keys[0] if len(keys) == 1 else None,
        partition_keys=list(keys),
        log=state.log,
    )
    ctx._defer = lambda write: state.events.defer_write(state.run_id, node.id, str(key), write)
    io_manager.handle_output(ctx, value)
    if _roundtrips(io_manager):
        if len(keys) <= 1:
            state.values[(key, keys[0] if keys else None)] = value
        elif isinstance(value, dict) and set(value) <= set(keys):
            for k, v in value.items():
                state.values[(key, k)] = v
        else:
            for k in keys:
                state.values[(key, k)] = value
    return ctx._metadata


def _load_input(state: RunState, node: Node, inp: NodeInput, keys: list[str]) -> Any:
    assert inp.asset_key is not None
    up_def = inp.upstream_partitions_def
    if up_def is None:
        return _load_one(state, inp, None)
    from .._defs.partition_mapping import default_partition_mapping

    mapping = inp.partition_mapping or default_partition_mapping(node.partitions_def, up_def)
    assert mapping is not None  # an upstream with partitions always has a mapping
    up_keys = mapping.upstream_keys_for(
        keys or None,
        node.partitions_def,
        up_def,
        dynamic_partitions_store=state.instance.dynamic_partitions_store,
    )
    if len(keys) <= 1 and mapping.is_one_to_one(node.partitions_def, up_def):
        # One upstream partition per downstream partition: the value itself (None when the
        # mapped partition does not exist, e.g. the day before the first day).
        return _load_one(state, inp, up_keys[0]) if up_keys else None
    return {k: _load_one(state, inp, k) for k in up_keys}


def _load_one(state: RunState, inp: NodeInput, partition: str | None) -> Any:
    assert inp.asset_key is not None
    cached = state.values.get((inp.asset_key, partition), _MISSING)
    if cached is not _MISSING:
        return cached
    io_manager = state.resources.get(inp.io_manager_key)
    return io_manager.load_input(
        InputContext(asset_key=inp.asset_key, name=inp.param, partition_key=partition, log=state.log)
    )


def _span(node: Node, keys: list[str], store: Any) -> dict[str, Any] | None:
    if not keys or node.partitions_def is None:
        return None
    span = node.partitions_def.to_span(keys, dynamic_partitions_store=store)
    return span.to_json()


_MISSING = object()
