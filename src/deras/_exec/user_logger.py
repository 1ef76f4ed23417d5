"""``get_dagster_logger``: a logger for code that has no context, captured by the running step."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .capture import AttemptLogHandler

_BASE = "deras.user"
_current: ContextVar[AttemptLogHandler | None] = ContextVar("deras_current_attempt", default=None)


class _ToRunningAttempt(logging.Handler):
    """Hands records to the log handler of the attempt running in this thread, if any."""

    def emit(self, record: logging.LogRecord) -> None:
        handler = _current.get()
        if handler is not None:
            handler.emit(record)


_logger = logging.getLogger(_BASE)
_logger.setLevel(logging.DEBUG)  # the step's log shows debug records, as context.log does
_logger.addHandler(_ToRunningAttempt(logging.DEBUG))


def get_dagster_logger(name: str | None = None) -> logging.Logger:
    """A standard ``logging.Logger`` whose records land in the log of the step that runs when they
    are written (outside a step they only propagate, like any logger's).

    >>> log = get_dagster_logger("prices")
    >>> log.name
    'deras.user.prices'
    """
    return _logger.getChild(name) if name else _logger


get_logger = get_dagster_logger


@contextmanager
def attempt_logging(handler: AttemptLogHandler) -> Iterator[None]:
    """Within the block, ``get_dagster_logger()`` records go to ``handler`` (the attempt's)."""
    token = _current.set(handler)
    try:
        yield
    finally:
        _current.reset(token)
