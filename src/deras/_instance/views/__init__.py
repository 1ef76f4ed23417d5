"""The read model: what the CLI and the web show, as frozen dataclasses with ``to_json()``.

Functions of an instance (and, where definitions matter, an optional ``CodeSnapshot`` from
``deras._snapshot``); they run no user code and read the store through the queries of
``_storage/run_reads.py`` and ``_storage/asset_reads.py``. Listings are keyset pages
(:class:`Page`, opaque cursors), never offsets.
"""

from .logs import LogPage, LogRecord, run_logs
from .page import Page
from .runs import (
    AttemptView,
    CheckResultView,
    EventView,
    RunDetail,
    RunSummary,
    StepView,
    list_runs,
    run_detail,
    run_events,
)

__all__ = [
    "AttemptView",
    "CheckResultView",
    "EventView",
    "LogPage",
    "LogRecord",
    "Page",
    "RunDetail",
    "RunSummary",
    "StepView",
    "list_runs",
    "run_detail",
    "run_events",
    "run_logs",
]
