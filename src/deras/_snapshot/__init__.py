"""Plain-data snapshots of code locations (what the web server sees instead of user code)."""

from .build import snapshot_of
from .snapshot import (
    AssetSnap,
    CheckSnap,
    CodeSnapshot,
    DagSnap,
    JobSnap,
    LoadErrorSnap,
    LocationRef,
    PartitionsSnap,
    ScheduleSnap,
    SensorSnap,
    TaskSnap,
    graph_version,
    snapshot_from_json,
)

__all__ = [
    "AssetSnap",
    "CheckSnap",
    "CodeSnapshot",
    "DagSnap",
    "JobSnap",
    "LoadErrorSnap",
    "LocationRef",
    "PartitionsSnap",
    "ScheduleSnap",
    "SensorSnap",
    "TaskSnap",
    "graph_version",
    "snapshot_from_json",
    "snapshot_of",
]
