"""``Failure``: what a step raises to fail with a description and metadata."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Failure(Exception):
    """Fail the step with a description and metadata (recorded on its failure event).

    ``allow_retries=False`` fails it for good even when its ``RetryPolicy`` has retries left.

    >>> err = Failure(description="the API answered 503", metadata={"status": 503}, allow_retries=False)
    >>> (str(err), err.metadata, err.allow_retries)
    ('the API answered 503', {'status': 503}, False)
    """

    def __init__(
        self,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        allow_retries: bool = True,
    ) -> None:
        if description is not None and not isinstance(description, str):
            raise TypeError(f"Failure(description=) takes a string, got {type(description).__name__}")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise TypeError(f"Failure(metadata=) takes a dict, got {type(metadata).__name__}")
        if not isinstance(allow_retries, bool):
            raise TypeError(f"Failure(allow_retries=) takes True or False, got {allow_retries!r}")
        super().__init__(description or "")
        self.description = description
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.allow_retries = allow_retries

    @property
    def _deras_no_retry(self) -> bool:  # read by the step: a RetryPolicy does not apply
        return not self.allow_retries
