"""Text that UTF-8 cannot encode is stored escaped, never refused.

Python strings may hold lone surrogates: ``os.listdir`` and ``os.fsdecode`` turn a file name's
bytes that are not UTF-8 into ``\\udc80``-``\\udcff`` (``b"caf\\xe9"`` → ``"caf\\udce9"``), and
such text reaches the store in log messages, metadata, error messages, tags or partition keys.
Neither driver can send it, so a write holding it would fail and lose the run's history.

The store keeps such text with each lone surrogate replaced by its Python escape: the six
characters ``\\udce9`` (what ``repr`` shows). Happy paths pay nothing: JSON is checked only when
it is not ASCII (``str.isascii`` is O(1)), and plain text columns are escaped only when the
driver has refused them (``Database.transact`` re-runs the transaction with escaping on, a
read re-runs its statement with escaped values). A lookup by such text therefore finds what was
stored for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql import visitors

_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _in_json(match: re.Match[str]) -> str:
    # Inside a JSON string a backslash is written "\\": the text read back is the plain escape.
    return f"\\\\u{ord(match.group()):04x}"


def escape_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by its escape ``\\udcXX``."""
    return _SURROGATE.sub(_plain, text)


def escape_json_text(text: str) -> str:
    """JSON text (``ensure_ascii=False``) whose strings hold the escapes instead of surrogates.

    Surrogates can only occur inside the JSON's string literals (keys and values), where the
    escape's backslash must itself be escaped.
    """
    if text.isascii():
        return text
    return _SURROGATE.sub(_in_json, text)


def escape_value(value: Any) -> Any:
    """``value`` escaped if it is text (a list of texts, for ``IN``: each); else unchanged."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, list | tuple):
        return type(value)(escape_value(v) for v in value)
    return value


def escape_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Statement parameters with their text escaped."""
    return {name: escape_value(value) for name, value in params.items()}


def escape_binds(statement: sa.Executable) -> sa.Executable:
    """A copy of a Core statement whose bound values have their text escaped."""

    def visit_bindparam(bind: sa.BindParameter[Any]) -> None:
        bind.value = escape_value(bind.value)

    return cast(
        sa.Executable, visitors.cloned_traverse(cast(Any, statement), {}, {"bindparam": visit_bindparam})
    )
