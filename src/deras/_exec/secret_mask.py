"""Masking ``EnvVar`` secret values in anything a run stores or shows.

One rule for every path: a secret's value becomes ``*****``. Stored events are masked whole
(:func:`mask`); output echoed to a terminal as it arrives is masked piece by piece
(:class:`MaskedStream`), holding back a piece's end while it may be the start of a secret.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

MASK = "*****"


def mask(value: Any, secrets: Set[str]) -> Any:
    """``value`` with every secret replaced by ``*****``, in strings nested in dicts and lists.

    >>> mask({"msg": ["token s3cr3t used"]}, {"s3cr3t"})
    {'msg': ['token ***** used']}
    """
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret and secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {k: mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, secrets) for v in value]
    return value


class MaskedStream:
    """Masks secrets in text that arrives in pieces (a secret may be split between two).

    ``secrets`` is read at every piece: secrets that join it later (a resource resolved in the
    middle of a node) are masked from then on.

    >>> stream = MaskedStream({"s3cr3t"})
    >>> stream.feed("token s3c"), stream.feed("r3t!"), stream.finish()
    ('token ', '*****!', '')
    """

    def __init__(self, secrets: Set[str]) -> None:
        self._secrets = secrets
        self._held = ""

    def feed(self, text: str) -> str:
        """The part of what came so far that can be shown: masked, minus a possible secret's start."""
        text = mask(self._held + text, self._secrets)
        keep = _secret_start_at_end(text, self._secrets)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def finish(self) -> str:
        """What was held back: no more text comes, so it is not a secret."""
        held, self._held = self._held, ""
        return held


def _secret_start_at_end(text: str, secrets: Set[str]) -> int:
    """Length of the longest end of ``text`` that is a proper beginning of a secret."""
    longest = 0
    for secret in secrets:
        for size in range(min(len(secret) - 1, len(text)), longest, -1):
            if text.endswith(secret[:size]):
                longest = size
                break
    return longest
