"""The read model: what the CLI and the web show, as frozen dataclasses with ``to_json()``.

Functions of an instance (and, where definitions matter, an optional ``CodeSnapshot`` from
``deras._snapshot``); they run no user code and read the store through the queries of
``_storage/run_reads.py`` and ``_storage/asset_reads.py``. Listings are keyset pages
(:class:`Page`, opaque cursors), never offsets.
"""

from .assets import AssetDetail, AssetSummary, asset_detail, list_assets
from .backfills import BackfillDetail, BackfillSummary, PartitionProgress, backfill_detail, list_backfills
from .checks import CheckResultView
from .dags import DagGrid, DagSummary, dag_grid, list_dags
from .health import DaemonHealth, DaemonView, daemon_health
from .instigators import ScheduleView, SensorView, TickView, list_schedules, list_sensors, tick_history
from .logs import LogPage, LogRecord, run_logs
from .metrics import Metrics, metrics
from .overview import FailingCheck, NextTick, Overview, overview
from .page import Page
from .runs import (
    AttemptView,
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
    "BackfillDetail",
    "BackfillSummary",
    "CheckResultView",
    "DaemonHealth",
    "DaemonView",
    "DagGrid",
    "DagSummary",
    "EventView",
    "FailingCheck",
    "LogPage",
    "LogRecord",
    "Metrics",
    "NextTick",
    "Overview",
    "Page",
    "PartitionProgress",
    "RunDetail",
    "RunSummary",
    "ScheduleView",
    "SensorView",
    "StepView",
    "TickView",
    "asset_detail",
    "backfill_detail",
    "daemon_health",
    "dag_grid",
    "list_assets",
    "list_backfills",
    "list_dags",
    "list_runs",
    "list_schedules",
    "list_sensors",
    "metrics",
    "overview",
    "run_detail",
    "run_events",
    "run_logs",
    "tick_history",
]
