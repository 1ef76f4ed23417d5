"""An asset function's return annotation, resolved once into the classes its value must be.

Resolved when the asset is lowered (string annotations of ``from __future__ import
annotations`` included), so checking a value is one ``isinstance``. Only what ``isinstance``
can decide is checked: classes (builtins, pandas or pyarrow frames, your own), generics by
their origin (``list[int]`` is ``list``), ``None``, unions and ``Optional``. ``Any``, no
annotation, an annotation that does not resolve, protocols, ``Literal``, type variables and
generator functions are not checked.
"""

from __future__ import annotations

import builtins
import inspect
import numbers
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .results import MaterializeResult, Output

# PEP 484's numeric tower, also numpy's scalars (numpy.int64 is no int, but it is Integral).
_WIDER = {int: numbers.Integral, float: numbers.Real, complex: numbers.Complex}
_UNIONS = (typing.Union, types.UnionType)
_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR
_MISSING = object()


@dataclass(frozen=True, slots=True)
class ReturnType:
    """The classes an asset's returned value must be an instance of, and the annotation's text."""

    classes: tuple[type, ...]
    text: str

    def check(self, asset: str, result: Any, kind: str = "asset") -> None:
        """Raise ``TypeError`` naming the asset, the annotation and the type returned, on a mismatch.

        ``Output(value)`` is checked by its value; a ``MaterializeResult`` carries no value.
        """
        if isinstance(result, self.classes):
            return
        if isinstance(result, Output):
            value = result.value
            if isinstance(value, self.classes):
                return
        elif isinstance(result, MaterializeResult):
            return
        else:
            value = result
        raise TypeError(
            f"{kind} '{asset}' returned {type_name(type(value))}, but its return annotation is {self.text}. "
            f"Fix: return a value of that type, or change the annotation (-> Any is not checked)."
        )


def return_type_of(
    fn: Callable[..., Any], memo: dict[Any, ReturnType | None] | None = None
) -> ReturnType | None:
    """The check for ``fn``'s return annotation, or None when there is nothing to check.

    ``memo`` (one per ``Definitions`` build) resolves each annotation once per module, so ten
    thousand ``-> int`` assets cost one resolution.
    """
    try:
        annotation = fn.__annotations__.get("return", _MISSING)
    except Exception:  # no annotations (a callable object); lazily evaluated ones (PEP 649) may raise
        return None
    if annotation is _MISSING:
        return None
    code = getattr(fn, "__code__", None)
    if code is not None and code.co_flags & _GENERATOR_FLAGS:
        return None
    namespace = getattr(fn, "__globals__", {})
    key = (annotation, id(namespace)) if isinstance(annotation, str) else annotation
    if memo is None:
        return _resolve(annotation, namespace)
    try:
        return memo[key]
    except KeyError:
        found = memo[key] = _resolve(annotation, namespace)
        return found
    except TypeError:  # an unhashable annotation
        return _resolve(annotation, namespace)


def _resolve(annotation: Any, namespace: dict[str, Any]) -> ReturnType | None:
    text = annotation if isinstance(annotation, str) else describe(annotation)
    if isinstance(annotation, str):
        try:
            annotation = eval(_compiled(annotation), namespace)
        except Exception:  # a name only imported under TYPE_CHECKING, a typo: not checked
            return None
    classes = _classes(annotation)
    return None if classes is None else ReturnType(classes, text)


@lru_cache(maxsize=1024)
def _compiled(text: str) -> types.CodeType:
    return compile(text, "<return annotation>", "eval")


def _classes(annotation: Any) -> tuple[type, ...] | None:
    """What ``isinstance`` must accept for ``annotation``; None when it cannot decide."""
    if annotation is None or annotation is types.NoneType:
        return (types.NoneType,)
    if annotation is Any or annotation is object:
        return None
    origin = typing.get_origin(annotation)  # first: list[int] passes for a type, isinstance refuses it
    if origin is None and isinstance(annotation, type):
        if getattr(annotation, "_is_protocol", False):  # isinstance needs @runtime_checkable
            return None
        wider = _WIDER.get(annotation)
        return (annotation,) if wider is None else (annotation, wider)
    if origin in _UNIONS:
        found: list[type] = []
        for arg in typing.get_args(annotation):
            classes = _classes(arg)
            if classes is None:  # Optional[Any] accepts anything
                return None
            found.extend(classes)
        return tuple(dict.fromkeys(found))
    if origin is typing.Annotated:
        return _classes(typing.get_args(annotation)[0])
    if isinstance(origin, type):  # list[int], dict[str, int], collections.abc.Sequence[str]...
        return _classes(origin)
    return None  # TypeVar, Literal, NewType, ...


def describe(annotation: Any) -> str:
    """``int``, ``pandas.core.frame.DataFrame``, ``list[int]``, ``int | None``..."""
    if annotation is None or annotation is types.NoneType:
        return "None"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return type_name(annotation)
    return repr(annotation)


def type_name(cls: type) -> str:
    """A class's name, with its module unless it is a builtin."""
    if cls.__module__ == builtins.__name__:
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"
