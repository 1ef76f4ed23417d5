"""The web side of code locations: snapshots to read, launches to send — never user code here.

Everything the pages know about definitions comes from a location's ``CodeSnapshot`` (plain
data built in the code server's process); everything that needs definitions to act (a launch,
a re-execution, clearing tasks) is a request to that process, which records queued runs.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import HTTPException

from .state import WebState


def all_locations(state: WebState) -> list[Any]:
    """The ``CodeLocation`` clients of the app (none when it serves a store without code)."""
    locations = state.code_locations
    if locations is None:
        return []
    return list(locations) if hasattr(locations, "__iter__") else [locations]


def find_location(state: WebState, name: str) -> Any:
    for location in all_locations(state):
        if location.name == name:
            return location
    raise HTTPException(404, f"no code location named {name!r}")


def snapshot_of(location: Any) -> Any:
    """The location's ``CodeSnapshot``, or its ``LoadErrorSnap`` (a broken file is not a crash)."""
    return location.snapshot()


def is_load_error(snapshot: Any) -> bool:
    return snapshot is not None and not hasattr(snapshot, "assets")


def current_snapshot(state: WebState) -> Any | None:
    """The first location's snapshot that loaded (None: no code, or all failed to load)."""
    for location in all_locations(state):
        snap = snapshot_of(location)
        if not is_load_error(snap):
            return snap
    return None


def require_snapshot(state: WebState) -> Any:
    snap = current_snapshot(state)
    if snap is None:
        raise HTTPException(
            503, "no definitions loaded: see /locations for the load error, fix the file, then reload"
        )
    return snap


def warm_lineage(state: WebState) -> None:
    """Lay out the lineage of the current code in the background (the first page then gets it
    from the cache instead of waiting for 10,000 assets to lay out); with
    ``state.freeze_long_lived``, then freeze the snapshot and layout out of the garbage
    collector's walks."""
    from .lineage_layout import layout_of_assets
    from .long_lived import freeze_long_lived

    def build() -> None:
        snapshot = current_snapshot(state)
        if snapshot is not None:
            state.layouts.get(snapshot.version, lambda: layout_of_assets(snapshot.version, snapshot.assets))
        if state.freeze_long_lived:
            freeze_long_lived()

    threading.Thread(target=build, name="deras-web-lineage-layout", daemon=True).start()


def launch(state: WebState, request: dict[str, Any]) -> str:
    """Send a launch request to the code location (the first one: deras serves one for now);
    bad input is a 400 naming what was wrong. Returns the run id (backfill id for a backfill)."""
    from .._code_server.client import CodeServerError
    from .._code_server.request import LaunchRejected

    locations = all_locations(state)
    if not locations:
        raise HTTPException(503, "this server has no code location: start it with `deras web -f FILE`")
    try:
        return str(locations[0].launch(request))
    except LaunchRejected as rejected:
        raise HTTPException(400, str(rejected)) from rejected
    except CodeServerError as err:  # the code server died or hung: it is started again next time
        raise HTTPException(503, str(err)) from err
