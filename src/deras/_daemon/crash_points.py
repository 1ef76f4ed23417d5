"""Named crash points: fault injection for the exactly-once tests.

``DERAS_CRASH_AFTER=<name>`` makes the process kill itself with SIGKILL right after the named
step, the way a power cut or the OOM killer would: no ``finally``, no flush, no atexit. The
crash tests restart the daemon after each point and check that nothing ran twice or was lost.
The check is one dictionary lookup, so the points stay in production code.
"""

from __future__ import annotations

import os
import signal

CRASH_POINTS = (
    "tick created",
    "run created",
    "run launched",
    "cursor saved",
    "backfill batch written",
    "run worker started",
)


def crash_point(name: str) -> None:
    """Die here, now, if ``DERAS_CRASH_AFTER`` names this point."""
    if os.environ.get("DERAS_CRASH_AFTER") == name:
        os.kill(os.getpid(), signal.SIGKILL)
