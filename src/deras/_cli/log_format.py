"""Where the ``deras`` loggers write in long-running commands: stderr, as text or JSON lines.

One record is one line. JSON lines carry ``time`` (UTC, ISO 8601), ``level``, ``logger`` and
``message``, the facts a record holds in ``record.deras`` (``event``, ``run_id``...), and
``exc`` for a traceback, so that a log shipper needs no parsing of messages.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **(getattr(record, "deras", None) or {}),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def log_to_stderr(level: int = logging.INFO, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Send every ``deras.*`` record at ``level`` or above to stderr (or ``stream``), one line each."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT))
    root = logging.getLogger("deras")
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
