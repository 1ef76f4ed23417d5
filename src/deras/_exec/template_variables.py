"""``{{ var.value.key }}`` and ``{{ var.json.key }}``: variables as a task's templates read them."""

from __future__ import annotations

import json
from typing import Any

_MISSING: Any = object()


class VariableReader:
    """Reads variables by attribute, item or ``get(key, default)``; ``as_json`` parses them.

    A missing variable without a default raises ``VariableNotFoundError`` naming the key.
    """

    def __init__(self, store: Any, *, as_json: bool) -> None:
        self.store = store  # the running instance's VariableStore
        self._as_json = as_json

    def get(self, key: str, default: Any = _MISSING) -> Any:
        from .._storage.variables import VariableNotFoundError

        try:
            text = self.store.get(key)
        except VariableNotFoundError:
            if default is _MISSING:
                raise
            return default
        return json.loads(text) if self._as_json else text

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self.get(key)

    def __getitem__(self, key: str) -> Any:  # {{ var.value['key.with.dots'] }}
        return self.get(key)

    def __repr__(self) -> str:
        return f"<variables ({'json' if self._as_json else 'text'})>"


class TemplateVariables:
    """``var`` in a task's context: ``var.value`` gives text, ``var.json`` parsed JSON."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.value = VariableReader(store, as_json=False)
        self.json = VariableReader(store, as_json=True)
