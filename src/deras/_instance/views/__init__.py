"""The read model: what the CLI and the web show, as frozen dataclasses with ``to_json()``.

Functions of an instance (and, where definitions matter, an optional ``CodeSnapshot`` from
``deras._snapshot``); they run no user code and read the store through the queries of
``_storage/run_reads.py`` and ``_storage/asset_reads.py``. Listings are keyset pages
(:class:`Page`, opaque cursors), never offsets.
"""

from .assets import AssetDetail, AssetSummary, asset_detail, list_assets
from .dags import DagGrid, DagSummary, dag_grid, list_dags
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
    "AssetDetail",
    "AssetSummary",
    "AttemptView",
    "CheckResultView",
    "DagGrid",
    "DagSummary",
    "EventView",
    "LogPage",
    "LogRecord",
    "Page",
    "RunDetail",
    "RunSummary",
    "StepView",
    "asset_detail",
    "dag_grid",
    "list_assets",
    "list_dags",
    "list_runs",
    "run_detail",
    "run_events",
    "run_logs",
]
