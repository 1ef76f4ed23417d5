"""Turning what a user function returned into per-asset outputs, check results and events."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._core.errors import DerasError
from .._core.events import EventType
from .._core.keys import AssetKey
from .._core.metadata import normalize_metadata
from .._defs.results import AssetCheckResult, AssetMaterialization, MaterializeResult, Output
from .._graph.node import CheckTarget, Node

if TYPE_CHECKING:
    from .step_scope import StepScope

_NO_VALUE = object()


@dataclass(slots=True)
class AssetOutput:
    """One asset's result: a value to store (or none) and its metadata."""

    asset_key: AssetKey
    io_manager_key: str
    value: Any = _NO_VALUE
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def has_value(self) -> bool:
        return self.value is not _NO_VALUE


@dataclass(slots=True)
class StepResults:
    """Everything one attempt of an asset step produced, in the order it is recorded."""

    outputs: list[AssetOutput]
    checks: list[tuple[CheckTarget, AssetCheckResult]] = field(default_factory=list)
    materializations: list[AssetMaterialization] = field(default_factory=list)


def step_results(node: Node, result: Any) -> StepResults:
    """Map a return value (plain, tuple, ``Output``, ``MaterializeResult``, generator) to outputs,
    the check results of its ``check_specs`` and the ``AssetMaterialization`` events it yielded.

    A value that does not match the function's return annotation raises ``TypeError`` here,
    before anything is stored or handed downstream.
    """
    if node.return_type is not None:
        node.return_type.check(node.id, result)
    outs = {o.name: o for o in node.outputs}
    by_key = {o.asset_key: o for o in node.outputs}
    items: list[Any]
    if inspect.isgenerator(result):
        items = list(result)
    elif len(node.outputs) > 1 and isinstance(result, tuple):
        if len(result) != len(node.outputs):
            raise DerasError(
                f"{node.id} returned {len(result)} values for {len(node.outputs)} outputs "
                f"({', '.join(outs)}). Fix: return one value per entry of outs=, in order."
            )
        items = [Output(v, name) for v, name in zip(result, outs, strict=True)]
    else:
        items = [result]
    produced: dict[str, AssetOutput] = {}
    found = StepResults([])
    checks: list[AssetCheckResult] = []
    for item in items:
        if isinstance(item, AssetCheckResult):
            checks.append(item)
        elif isinstance(item, AssetMaterialization):
            found.materializations.append(item)
        elif isinstance(item, MaterializeResult):
            out = by_key.get(AssetKey.coerce(item.asset_key)) if item.asset_key else _only(node, outs)
            if out is None:
                known = ", ".join(str(o.asset_key) for o in node.outputs)
                raise DerasError(
                    f"{node.id} returned MaterializeResult for asset '{item.asset_key}', which it does "
                    f"not produce (it produces {known}). Fix: name one of those, or add a spec for it."
                )
            assert out.asset_key is not None  # asset outputs always have a key
            produced[out.name] = AssetOutput(
                out.asset_key, out.io_manager_key, metadata=dict(item.metadata or {})
            )
            checks.extend(item.check_results)
        elif isinstance(item, Output):
            out = outs[item.output_name] if item.output_name in outs else _only(node, outs)
            assert out.asset_key is not None
            produced[out.name] = AssetOutput(
                out.asset_key, out.io_manager_key, item.value, dict(item.metadata or {})
            )
        else:
            out = _only(node, outs)
            value = _NO_VALUE if (item is None and not node.stores_output) else item
            produced[out.name] = AssetOutput(out.asset_key, out.io_manager_key, value)
    missing = [name for name, out in outs.items() if name not in produced and not out.skippable]
    if missing and (len(outs) > 1 or items):  # a generator that yielded only check results, say
        raise DerasError(
            f"{node.id} produced no value for output(s) {missing}. Fix: yield dg.Output(value) or "
            "dg.MaterializeResult(...) for each (or mark the AssetSpec skippable=True)."
        )
    found.outputs = list(produced.values())
    found.checks = [(check_target(node, c), c) for c in checks]
    return found


def multi_check_results(node: Node, result: Any) -> list[tuple[CheckTarget, AssetCheckResult]]:
    """The results a ``@multi_asset_check`` yielded (or returned), each with the check it is for."""
    items = list(result) if inspect.isgenerator(result) or isinstance(result, list | tuple) else [result]
    for item in items:
        if not isinstance(item, AssetCheckResult):
            raise DerasError(
                f"check {node.id} produced {type(item).__name__}, not dg.AssetCheckResult. "
                "Fix: yield a dg.AssetCheckResult(asset_key=..., check_name=..., passed=...) per spec."
            )
    return [(check_target(node, c), c) for c in items]


def check_target(node: Node, result: AssetCheckResult) -> CheckTarget:
    """The check spec a result is for: named by ``check_name``/``asset_key``, or the only one."""
    key = AssetKey.coerce(result.asset_key) if result.asset_key is not None else None
    fits = [
        t
        for t in node.check_targets
        if (key is None or t.asset_key == key) and result.check_name in (None, t.check_name)
    ]
    if len(fits) == 1:
        return fits[0]
    specs = ", ".join(f"{t.asset_key}:{t.check_name}" for t in node.check_targets) or "none"
    named = f"check '{result.check_name or '?'}' on '{key or '?'}'"
    if not fits:
        raise DerasError(
            f"{node.id} yielded an AssetCheckResult for {named}, which is not one of its check specs "
            f"({specs}). Fix: add a dg.AssetCheckSpec for it to check_specs=, or fix check_name=/asset_key=."
        )
    raise DerasError(
        f"{node.id} yielded an AssetCheckResult for {named}, which fits several of its check specs "
        f"({specs}). Fix: give check_name= and asset_key=."
    )


def _only(node: Node, outs: dict[str, Any]) -> Any:
    if len(outs) != 1:
        raise DerasError(
            f"{node.id} produces {len(outs)} assets; return a tuple in the order of outs= or yield "
            "dg.Output(value, output_name=...) for each."
        )
    return next(iter(outs.values()))


def check_verdict(node: Node, result: Any) -> AssetCheckResult:
    if inspect.isgenerator(result):
        found = [r for r in result if isinstance(r, AssetCheckResult)]
        result = found[0] if found else None
    if not isinstance(result, AssetCheckResult):
        raise DerasError(
            f"check {node.id} returned {type(result).__name__}, not dg.AssetCheckResult. "
            "Fix: return dg.AssetCheckResult(passed=...)."
        )
    return result


def runtime_materialization(event: Any, keys: list[str]) -> dict[str, Any]:
    """The event data of an ``AssetMaterialization`` the function yielded or logged."""
    if not isinstance(event, AssetMaterialization):
        raise DerasError(
            f"context.log_event got {type(event).__name__}; it records dg.AssetMaterialization events"
        )
    data: dict[str, Any] = {
        "asset_key": str(AssetKey.coerce(event.asset_key)),
        "metadata": normalize_metadata(event.metadata or {}),
        "runtime": True,
    }
    if event.description:
        data["description"] = event.description
    partition = event.partition or (keys[0] if len(keys) == 1 else None)
    if partition is not None:
        data["partition"] = partition
    return data


def record_materializations(
    scope: StepScope, node_id: str, attempt: int, events: list[dict[str, Any]]
) -> None:
    """Add one materialization event per entry of ``events`` (asset steps and op steps alike),
    after the attempt's output, as the log reads best."""
    for data in events:
        scope.events.add(
            scope.run_id,
            EventType.ASSET_MATERIALIZATION,
            node_id,
            attempt,
            f"materialized {data['asset_key']}",
            data=data,
        )
