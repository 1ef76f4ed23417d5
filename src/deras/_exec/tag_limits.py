"""Tag concurrency limits within a run: at most N steps with a given tag run at once.

The form is Dagster's: ``{"key": "db", "value": "warehouse", "limit": 2}`` limits steps tagged
``db=warehouse``; without ``value`` the limit counts every step that has the key, whatever its
value; ``"value": {"applyLimitPerUniqueValue": True}`` gives each value its own limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._core.errors import ConfigError

_PER_VALUE = "applyLimitPerUniqueValue"


@dataclass(frozen=True, slots=True)
class _Limit:
    key: str
    value: str | None  # None: any value
    per_value: bool
    limit: int

    def counts(self, tags: Mapping[str, str], other: Mapping[str, str]) -> bool:
        """Whether a running step tagged ``other`` counts against this limit for ``tags``."""
        if self.key not in other:
            return False
        if self.per_value:
            return other[self.key] == tags[self.key]
        return self.value is None or other[self.key] == self.value

    def applies(self, tags: Mapping[str, str]) -> bool:
        return self.key in tags and (self.value is None or tags[self.key] == self.value)


class TagLimits:
    """Parsed limits; ``has_room`` says whether a step with ``tags`` may start beside others."""

    def __init__(self, limits: Sequence[_Limit]) -> None:
        self._limits = list(limits)

    def __bool__(self) -> bool:
        return bool(self._limits)

    @classmethod
    def parse(cls, entries: Sequence[Mapping[str, Any]]) -> TagLimits:
        """``entries`` as users write them; a malformed one is a ``ConfigError`` naming it.

        >>> bool(TagLimits.parse([{"key": "db", "limit": 1}]))
        True
        """
        limits = []
        for entry in entries:
            key, value, limit = entry.get("key"), entry.get("value"), entry.get("limit")
            per_value = isinstance(value, Mapping) and bool(value.get(_PER_VALUE))
            ok_value = value is None or isinstance(value, str) or per_value
            if not isinstance(key, str) or not ok_value or not isinstance(limit, int) or limit < 1:
                raise ConfigError(
                    f"tag concurrency limit {dict(entry)!r}: expected {{'key': str, 'limit': int >= 1}} "
                    f"and optionally 'value': a string or {{'{_PER_VALUE}': True}}"
                )
            limits.append(_Limit(key, value if isinstance(value, str) else None, per_value, limit))
        return cls(limits)

    def has_room(self, tags: Mapping[str, str], running: Sequence[Mapping[str, str]]) -> bool:
        for limit in self._limits:
            if limit.applies(tags) and sum(limit.counts(tags, other) for other in running) >= limit.limit:
                return False
        return True
