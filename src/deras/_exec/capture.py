"""Capturing what a node says: ``context.log`` records and its stdout/stderr, per attempt."""

from __future__ import annotations

import io
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from .._core.events import EventType
from .event_writer import EventWriter


class AttemptLogHandler(logging.Handler):
    """Turns log records into LOG events of the attempt currently running."""

    def __init__(self, events: EventWriter, run_id: str) -> None:
        super().__init__(logging.DEBUG)
        self.events = events
        self.run_id = run_id
        self.node: str | None = None
        self.attempt: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info))
        except Exception:  # a bad format string must not break the run
            message = str(record.msg)
        self.events.add(self.run_id, EventType.LOG, self.node, self.attempt, message, record.levelname)


def run_logger(handler: AttemptLogHandler) -> logging.Logger:
    # A logger outside the logging manager's registry: nothing leaks between runs and
    # records do not propagate to the root logger twice.
    logger = logging.Logger(f"deras.run.{handler.run_id[:8]}", logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False
    return logger


class _Tee(io.TextIOBase):
    """A stream that keeps what is written and also passes it to the terminal when asked."""

    def __init__(self, echo: TextIO | None) -> None:
        self.buffer_text = io.StringIO()
        self.echo = echo

    def write(self, s: str) -> int:
        self.buffer_text.write(s)
        if self.echo is not None:
            self.echo.write(s)
        return len(s)

    def flush(self) -> None:
        if self.echo is not None:
            self.echo.flush()


@contextmanager
def capture_output(events: EventWriter, run_id: str, node: str, attempt: int, echo: bool) -> Iterator[None]:
    """Record the attempt's stdout and stderr as LOG events (levels STDOUT / STDERR)."""
    out, err = _Tee(sys.stdout if echo else None), _Tee(sys.stderr if echo else None)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for stream, level in ((out, "STDOUT"), (err, "STDERR")):
            text = stream.buffer_text.getvalue()
            if text:
                events.add(run_id, EventType.LOG, node, attempt, text.rstrip("\n"), level)
