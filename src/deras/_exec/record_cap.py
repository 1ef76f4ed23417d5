"""Keeping events small: a text longer than 64 KiB characters is stored cut, whole in a log file.

A node that prints a 10 MB line would otherwise make one 10 MB event row, read back by every
``runs logs``. The stored text keeps its first ``MAX_TEXT_CHARS`` characters and ends with a
pointer to the run's log file (``$DERAS_HOME/logs/RUN_ID.log``), where the whole text is
appended. An in-memory instance has no such file: the rest is dropped, and the pointer says so.
"""

from __future__ import annotations

import time
from pathlib import Path

from .._core.events import EventRecord

MAX_TEXT_CHARS = 64 * 1024
_CAPPED_DATA = ("error", "traceback")  # the free texts of failure events, besides the message


def run_log_file(log_dir: Path, run_id: str) -> Path:
    return log_dir / f"{run_id}.log"


def cap_event(event: EventRecord, log_dir: Path | None) -> None:
    """Cut ``event``'s long texts in place, keeping each whole in the run's log file."""
    if len(event.message) > MAX_TEXT_CHARS:
        event.message = _cut(event, "message", event.message, log_dir)
    for key in _CAPPED_DATA:
        value = event.data.get(key) if event.data else None
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            event.data = {**event.data, key: _cut(event, key, value, log_dir)}


def _cut(event: EventRecord, field: str, text: str, log_dir: Path | None) -> str:
    rest = len(text) - MAX_TEXT_CHARS
    head = text[:MAX_TEXT_CHARS]
    if log_dir is None:
        return f"{head}\n[... {rest} more characters not stored (an in-memory instance keeps no log file)]"
    try:
        path, offset = _append(log_dir, event, field, text)
    except OSError as err:
        return f"{head}\n[... {rest} more characters not stored: writing the run's log file failed: {err}]"
    return f"{head}\n[... {rest} more characters: the whole text is in {path} from byte {offset}]"


def _append(log_dir: Path, event: EventRecord, field: str, text: str) -> tuple[Path, int]:
    log_dir.mkdir(parents=True, exist_ok=True)
    path = run_log_file(log_dir, event.run_id)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.timestamp))
    where = f" [{event.node}]" if event.node else ""
    header = f"--- {stamp} {event.level or event.event_type.value}{where} {field}, {len(text)} characters\n"
    with path.open("ab") as f:
        f.write(header.encode())
        offset = f.tell()
        f.write(text.encode("utf-8", "backslashreplace") + b"\n")
    return path, offset
