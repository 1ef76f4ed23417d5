"""Reading a user function's parameters cheaply (10,000 decorators must stay fast)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Params:
    names: tuple[str, ...]  # every named parameter but the context one, in order
    context: str | None  # the parameter that receives the context, if any
    var_keyword: bool  # the function takes **kwargs
    returns_none: bool  # annotated ``-> None``: nothing to store


def read_params(fn: Callable[..., Any]) -> Params:
    code = getattr(fn, "__code__", None)
    annotations: dict[str, Any] = getattr(fn, "__annotations__", {}) or {}
    if code is not None and not isinstance(fn, type):
        nargs = code.co_argcount + code.co_kwonlyargcount
        names = list(code.co_varnames[:nargs])
        var_keyword = bool(code.co_flags & inspect.CO_VARKEYWORDS)
    else:
        sig = inspect.signature(fn)
        names = [p.name for p in sig.parameters.values() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        var_keyword = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    context = None
    for name in names:
        if name == "context" or _is_context_annotation(annotations.get(name)):
            context = name
            break
    ret = annotations.get("return", inspect.Parameter.empty)
    returns_none = ret is None or ret == "None"
    return Params(tuple(n for n in names if n != context), context, var_keyword, returns_none)


def _is_context_annotation(annotation: Any) -> bool:
    if annotation is None:
        return False
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.endswith("ExecutionContext")
