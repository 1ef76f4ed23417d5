"""``/api/v1/assets`` and ``/api/v1/lineage``: assets with their latest facts, one asset's history,
and the lineage graph's layout (cached per snapshot version) with its statuses apart."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from .code_access import require_snapshot
from .lineage_layout import layout_of_assets
from .schemas import ERRORS, AssetDetail, AssetStatuses, AssetSummary, LineageLayoutView
from .state import WebState, web_state

router = APIRouter(tags=["assets"])


@router.get(
    "/assets",
    response_model=list[AssetSummary],
    responses=ERRORS,
    summary="Every asset, with its latest facts",
)
def list_assets(state: WebState = Depends(web_state)) -> Any:
    from .._instance.views import assets as asset_views

    snapshot = require_snapshot(state)
    return [a.to_json() for a in asset_views.list_assets(state.instance, snapshot)]


@router.get("/assets/{key:path}", response_model=AssetDetail, responses=ERRORS, summary="One asset's history")
def get_asset(key: str, state: WebState = Depends(web_state), limit: int = Query(100, ge=1, le=1000)) -> Any:
    from .._instance.views import assets as asset_views

    snapshot = require_snapshot(state)
    if key not in {a.key for a in snapshot.assets}:
        raise HTTPException(404, f"no asset {key!r} in the definitions")
    return asset_views.asset_detail(state.instance, snapshot, key, limit=limit).to_json()


@router.get(
    "/lineage",
    response_model=LineageLayoutView,
    responses=ERRORS,
    summary="The lineage graph laid out (columns of node keys, groups and coordinates)",
)
def lineage(state: WebState = Depends(web_state)) -> Any:
    snapshot = require_snapshot(state)
    layout = state.layouts.get(snapshot.version, lambda: layout_of_assets(snapshot.version, snapshot.assets))
    return layout.to_json()


@router.get(
    "/lineage/statuses",
    response_model=AssetStatuses,
    responses=ERRORS,
    summary="Each asset's latest state, keyed by asset key (small; refetched as runs progress)",
)
def lineage_statuses(state: WebState = Depends(web_state)) -> Any:
    from .._instance.views import assets as asset_views

    snapshot = require_snapshot(state)
    statuses = {}
    for summary in asset_views.list_assets(state.instance, snapshot):
        data = summary.to_json()
        statuses[data["key"]] = status_of(data)
    return {"version": snapshot.version, "statuses": statuses}


def status_of(summary: dict[str, Any]) -> list[Any]:
    """``[state, last materialization time, failing checks]`` of one asset summary."""
    checks = summary.get("check_statuses") or summary.get("checks") or {}
    failing = sum(1 for s in (checks.values() if isinstance(checks, dict) else checks) if _failed(s))
    last = summary.get("last_materialization_time") or summary.get("last_materialized")
    state = summary.get("state") or ("materialized" if last else "missing")
    return [state, last, failing]


def _failed(check_status: Any) -> bool:
    if isinstance(check_status, dict):
        check_status = check_status.get("status") or check_status.get("passed")
    return check_status in ("failed", "failure", False)
