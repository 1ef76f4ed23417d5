"""``dg.Variable``: Airflow's Variables, named values kept in the metadata database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_MISSING: Any = object()


class Variable:
    """Read and write variables from DAG code: in a running task, in that run's instance's
    database; elsewhere (a DAG file's top level, a script), in ``$DERAS_HOME``'s.

    >>> # dg.Variable.set("config", {"batch": 500}, serialize_json=True)
    >>> # dg.Variable.get("config", deserialize_json=True)["batch"]
    >>> # dg.Variable.get("region", default_var="eu")   # the default if it is not set
    """

    @staticmethod
    def get(
        key: str, default_var: Any = _MISSING, deserialize_json: bool = False, *, default: Any = _MISSING
    ) -> Any:
        """The value of ``key`` (parsed as JSON with ``deserialize_json``); ``default_var`` (or
        Airflow 3's ``default``) if it is not set, else ``VariableNotFoundError`` (a ``KeyError``)."""
        from .._storage.variables import VariableNotFoundError

        fallback = default if default is not _MISSING else default_var
        try:
            text = _with_store(lambda store: store.get(key))
        except VariableNotFoundError:
            if fallback is _MISSING:
                raise
            return fallback
        return json.loads(text) if deserialize_json else text

    @staticmethod
    def set(key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        """Store ``value`` under ``key`` (as JSON with ``serialize_json``, else as ``str(value)``)."""
        text = json.dumps(value, indent=2) if serialize_json else str(value)
        _with_store(lambda store: store.set(key, text, now=time.time(), description=description))

    @staticmethod
    def delete(key: str) -> int:
        """Remove ``key``: 1 if it was set, 0 if not (as Airflow counts)."""
        return int(_with_store(lambda store: store.delete(key)))

    @staticmethod
    def setdefault(
        key: str, default: Any, description: str | None = None, deserialize_json: bool = False
    ) -> Any:
        """The value of ``key``; if it is not set, store ``default`` and return it."""
        value = Variable.get(key, default_var=None, deserialize_json=deserialize_json)
        if value is None:
            if default is None:
                raise ValueError(f"variable {key!r} is not set and the default is None")
            Variable.set(key, default, description=description, serialize_json=deserialize_json)
            return default
        return value


def _with_store(use: Callable[[Any], T]) -> T:
    from .._dags.context import current_task_context

    context = current_task_context.get()
    if context is not None and "var" in context:  # in a running task: its run's database
        return use(context["var"].store)
    from .instance import DerasInstance

    instance = DerasInstance.get()
    try:
        return use(instance.store.variables)
    finally:
        instance.dispose()
