"""Turning what a user function returned into per-asset outputs or a check verdict."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from .._core.errors import DerasError
from .._core.keys import AssetKey
from .._defs.results import AssetCheckResult, MaterializeResult, Output
from .._graph.node import Node

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


def asset_outputs(node: Node, result: Any) -> list[AssetOutput]:
    """Map a return value (plain, tuple, ``Output``, ``MaterializeResult``, generator) to outputs.

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
    for item in items:
        if isinstance(item, MaterializeResult):
            out = by_key.get(AssetKey.coerce(item.asset_key)) if item.asset_key else _only(node, outs)
            if out is None:
                raise DerasError(f"{node.id} returned MaterializeResult for unknown asset {item.asset_key}")
            assert out.asset_key is not None  # asset outputs always have a key
            produced[out.name] = AssetOutput(
                out.asset_key, out.io_manager_key, metadata=dict(item.metadata or {})
            )
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
    missing = [name for name in outs if name not in produced]
    if missing and len(outs) > 1:
        raise DerasError(f"{node.id} produced no value for output(s) {missing}")
    return list(produced.values())


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
