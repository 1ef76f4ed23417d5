"""What flows in and out of ops: ``In``, ``Out``, ``DagsterType`` checks and ``Nothing``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._core.errors import TypeCheckError


@dataclass(frozen=True, slots=True)
class TypeCheck:
    """What a ``type_check_fn`` may return instead of a bool, with a description of the failure."""

    success: bool
    description: str | None = None
    metadata: dict[str, Any] | None = None


class DagsterType:
    """A named check on the values of an op's inputs and outputs.

    ``type_check_fn(context, value)`` returns a bool or a ``dg.TypeCheck``; a value that fails
    fails the step (before an output is stored, or before the op runs for an input).

    >>> import deras as dg
    >>> Positive = dg.DagsterType(name="Positive", type_check_fn=lambda _, v: isinstance(v, int) and v > 0)
    >>> Positive.type_check(None, 3).success, Positive.type_check(None, -1).success
    (True, False)
    """

    def __init__(
        self,
        type_check_fn: Callable[[Any, Any], Any],
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        if not callable(type_check_fn):
            raise TypeError(f"DagsterType(type_check_fn={type_check_fn!r}): give a function (context, value)")
        self.type_check_fn = type_check_fn
        self.name = name or getattr(type_check_fn, "__name__", "DagsterType")
        self.description = description

    @property
    def is_nothing(self) -> bool:
        return self is Nothing

    def type_check(self, context: Any, value: Any) -> TypeCheck:
        result = self.type_check_fn(context, value)
        if isinstance(result, TypeCheck):
            return result
        if isinstance(result, bool):
            return TypeCheck(result)
        raise TypeCheckError(
            f"type_check_fn of DagsterType '{self.name}' returned {result!r}: return a bool or dg.TypeCheck"
        )

    def __repr__(self) -> str:
        return f"<DagsterType {self.name}>"


Nothing = DagsterType(lambda _, value: value is None, name="Nothing")
"""The type of an input or output that carries no value: an ordering-only dependency."""


@dataclass(frozen=True, slots=True)
class In:
    """An op input: its type check, a default value, a description.

    ``In(dg.Nothing)`` is an ordering-only input: no function parameter receives it.
    """

    dagster_type: Any = None
    description: str | None = None
    default_value: Any = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Out:
    """An op output: its type check; ``is_required=False`` lets the op skip yielding it.

    >>> import deras as dg
    >>> @dg.op(out={"evens": dg.Out(), "odds": dg.Out()})
    ... def split(numbers: list[int]):
    ...     return [n for n in numbers if n % 2 == 0], [n for n in numbers if n % 2]
    """

    dagster_type: Any = None
    description: str | None = None
    is_required: bool = True
    io_manager_key: str = "io_manager"
    metadata: dict[str, Any] | None = None


def is_nothing(dagster_type: Any) -> bool:
    return dagster_type is Nothing


def check_value(dagster_type: Any, value: Any, what: str) -> None:
    """Raise ``TypeCheckError`` naming ``what`` when ``value`` fails ``dagster_type``.

    ``dagster_type`` is a ``DagsterType``, a Python class (an ``isinstance`` check) or None.
    """
    if dagster_type is None or dagster_type is Any:
        return
    if isinstance(dagster_type, DagsterType):
        verdict = dagster_type.type_check(None, value)
        if not verdict.success:
            why = f": {verdict.description}" if verdict.description else ""
            raise TypeCheckError(
                f"{what} failed the type check of '{dagster_type.name}' (value {_short(value)}){why}"
            )
        return
    if isinstance(dagster_type, type) and not isinstance(value, dagster_type):
        raise TypeCheckError(
            f"{what} is {type(value).__name__} {_short(value)}, but its type is {dagster_type.__name__}"
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
