"""Capturing what a node says: ``context.log`` records and its stdout/stderr, per attempt."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from .._core.events import EventType
from .event_writer import EventWriter
from .fd_capture import AttemptCapture, RunFds


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


@contextmanager
def capture_output(
    events: EventWriter,
    run_id: str,
    node: str | None,
    attempt: int | None,
    echo: bool,
    run_fds: RunFds | None = None,
) -> Iterator[None]:
    """Record what the block writes to stdout and stderr as LOG events (levels STDOUT / STDERR).

    Captured at the file descriptor level (see :mod:`.fd_capture`), so ``os.write`` and child
    processes are included. The events are masked like every other (``EventWriter.add``);
    with ``echo`` the output also reaches the terminal as it comes, masked the same way.
    """
    capture = AttemptCapture(echo=echo, secrets=events.secrets, run_fds=run_fds)
    try:
        with capture:
            yield
    finally:
        for text, level in ((capture.stdout, "STDOUT"), (capture.stderr, "STDERR")):
            if text:
                events.add(run_id, EventType.LOG, node, attempt, text.rstrip("\n"), level)
