"""Pages of a listing and their cursors: opaque strings, the base64 of the last row's sort key.

A cursor is never an offset: the next page starts after the last row shown, found through an
index, so rows created meanwhile neither shift nor repeat what the reader sees.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..._core.errors import DerasError

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """Some items of a listing; ``next_cursor`` asks for the next page (None: this is the last).

    >>> Page(items=[1, 2], next_cursor=None).to_json(lambda n: n)
    {'items': [1, 2], 'next_cursor': None}
    """

    items: list[T]
    next_cursor: str | None

    def to_json(self, item_json: Callable[[T], Any] | None = None) -> dict[str, Any]:
        encode = item_json or (lambda item: item.to_json())  # type: ignore[attr-defined]
        return {"items": [encode(item) for item in self.items], "next_cursor": self.next_cursor}


def encode_cursor(key: Sequence[Any]) -> str:
    """The cursor of a sort key (a few JSON values).

    >>> decode_cursor(encode_cursor([1.5, 7]), 2)
    [1.5, 7]
    """
    return (
        base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")
    )


def decode_cursor(cursor: str, length: int, what: str = "listing") -> list[Any]:
    """The sort key in ``cursor``; a cursor that is not one of ours raises :class:`DerasError`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        key = None
    if not isinstance(key, list) or len(key) != length or any(isinstance(v, (dict, list)) for v in key):
        raise DerasError(
            f"cursor {cursor[:40]!r} is not a cursor of this {what}: pass the next_cursor of a "
            "previous page unchanged, or none for the first page"
        )
    return key


def check_limit(limit: int, most: int = 1000) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= most:
        raise DerasError(f"limit={limit!r}: give a number of items from 1 to {most}")
    return limit
