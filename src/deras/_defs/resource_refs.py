"""Telling resource parameters apart from asset parameters, without importing pydantic."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def is_resource_annotation(fn: Callable[..., Any], annotation: Any) -> bool:
    """True when a parameter's annotation names a resource class (``database: DuckDBResource``)."""
    if annotation is None:
        return False
    if isinstance(annotation, str):
        resolved = _resolve_string_annotation(fn, annotation)
        if resolved is None:
            # A class imported inside a function is not in the module's globals: go by its name.
            return annotation.strip().split(".")[-1].endswith(("Resource", "IOManager"))
        annotation = resolved
    return _is_resource_class(annotation)


def _resolve_string_annotation(fn: Callable[..., Any], text: str) -> Any:
    # ``from __future__ import annotations`` leaves "DuckDBResource" or "dg.DuckDBResource".
    namespace = getattr(fn, "__globals__", {})
    parts = text.strip().split(".")
    obj = namespace.get(parts[0]) or getattr(namespace.get("__builtins__"), parts[0], None)
    for part in parts[1:]:
        obj = getattr(obj, part, None)
    return obj


def _is_resource_class(annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return False
    resource_mod = sys.modules.get("deras._defs.resource")
    if resource_mod is not None and issubclass(annotation, resource_mod.ConfigurableResource):
        return True
    io_mod = sys.modules.get("deras._defs.io_manager")
    return io_mod is not None and issubclass(annotation, io_mod.IOManager)
