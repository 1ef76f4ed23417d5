"""Reading a user function's parameters cheaply (10,000 decorators must stay fast)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

_VAR_KEYWORD_FLAG = inspect.CO_VARKEYWORDS
_NO_ANNOTATION = inspect.Parameter.empty


class Params(NamedTuple):
    """A function's parameters as deras wires them (a tuple: one allocation per decorator)."""

    names: tuple[str, ...]  # every named parameter but the context one, in order
    context: str | None  # the parameter that receives the context, if any
    var_keyword: bool  # the function takes **kwargs
    returns_none: bool  # annotated ``-> None``: nothing to store


def read_params(fn: Callable[..., Any]) -> Params:
    code = getattr(fn, "__code__", None)
    annotations: dict[str, Any] = getattr(fn, "__annotations__", None) or {}
    names: tuple[str, ...]
    if code is not None and not isinstance(fn, type):
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        var_keyword = bool(code.co_flags & _VAR_KEYWORD_FLAG)
    else:
        sig = inspect.signature(fn)
        names = tuple(
            p.name for p in sig.parameters.values() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )
        var_keyword = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    context = None
    for name in names:
        annotation = annotations.get(name)
        if name == "context" or (annotation is not None and _is_context_annotation(annotation)):
            context = name
            names = tuple(n for n in names if n != name)
            break
    ret = annotations.get("return", _NO_ANNOTATION)
    return Params(names, context, var_keyword, ret is None or ret == "None")


def _is_context_annotation(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.endswith("ExecutionContext")
