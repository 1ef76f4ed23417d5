"""Metadata values attached to materializations and check results.

Plain str/int/float/bool/dict/list values are stored as JSON; ``MetadataValue`` wraps values
that a reader (the UI) should render specially: markdown, links, paths, table schemas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MetadataValue:
    """A typed metadata value.

    >>> MetadataValue.md("# Report").to_json()
    {'__metadata__': 'md', 'value': '# Report'}
    """

    type: str
    value: Any

    @staticmethod
    def md(text: str) -> MetadataValue:
        return MetadataValue("md", text)

    @staticmethod
    def url(url: str) -> MetadataValue:
        return MetadataValue("url", url)

    @staticmethod
    def path(path: str) -> MetadataValue:
        return MetadataValue("path", str(path))

    @staticmethod
    def text(text: str) -> MetadataValue:
        return MetadataValue("text", text)

    @staticmethod
    def json(data: Any) -> MetadataValue:
        return MetadataValue("json", data)

    @staticmethod
    def int(value: int) -> MetadataValue:
        return MetadataValue("int", value)

    @staticmethod
    def float(value: float) -> MetadataValue:
        return MetadataValue("float", value)

    @staticmethod
    def table_schema(columns: Mapping[str, str] | list[tuple[str, str]]) -> MetadataValue:
        """Column names and types, e.g. ``MetadataValue.table_schema({"date": "DATE"})``."""
        cols = columns.items() if isinstance(columns, Mapping) else columns
        return MetadataValue("table_schema", [{"name": n, "type": t} for n, t in cols])

    def to_json(self) -> dict[str, Any]:
        """How it is stored: the ``__metadata__`` marker cannot clash with a user's own dict keys."""
        return {"__metadata__": self.type, "value": _normalize(self.value)}


def normalize_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """Turn user metadata into JSON-safe values; anything else becomes its ``repr``."""
    if not metadata:
        return {}
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        out[str(key)] = _normalize(value)
    return out


def _normalize(value: Any) -> Any:
    if isinstance(value, MetadataValue):
        return value.to_json()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalize(v) for v in value]
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
