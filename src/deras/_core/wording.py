"""Counts in messages: the noun agrees with the number."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (``plural`` when adding an s is wrong).

    >>> count(1, "run"), count(3, "check"), count(0, "dependency", "dependencies")
    ('1 run', '3 checks', '0 dependencies')
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
