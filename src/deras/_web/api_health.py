"""``/api/v1/health`` (the daemon's) and ``/api/v1/overview`` (what the overview page shows)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from .code_access import current_snapshot
from .read_model import read_model
from .schemas import Health, Overview
from .state import WebState, web_state

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Daemon health: heartbeats, components, queue depth")
def health(state: WebState = Depends(web_state)) -> Any:
    health_views = read_model("health")

    return health_views.daemon_health(state.instance).to_json()


@router.get(
    "/overview", response_model=Overview, summary="Recent runs, failing checks, next ticks, daemon health"
)
def overview(state: WebState = Depends(web_state)) -> Any:
    overview_views = read_model("overview")

    return overview_views.overview(state.instance, current_snapshot(state)).to_json()
