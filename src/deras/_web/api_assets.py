"""``/api/v1/assets`` and ``/api/v1/lineage``: assets with their latest facts, one asset's history,
and the lineage graph's layout (cached per snapshot version) with its statuses apart."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from .._core.errors import DerasError
from .code_access import current_snapshot, require_snapshot
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

    return [a.to_json() for a in asset_views.list_assets(state.instance, current_snapshot(state))]


@router.get("/assets/{key:path}", response_model=AssetDetail, responses=ERRORS, summary="One asset's history")
def get_asset(
    key: str,
    state: WebState = Depends(web_state),
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, description="next_cursor: older materializations"),
) -> Any:
    from .._instance.views import assets as asset_views

    snapshot = current_snapshot(state)
    try:
        detail = asset_views.asset_detail(state.instance, snapshot, key, limit=limit, cursor=cursor)
    except DerasError as err:
        raise HTTPException(400, str(err)) from err
    if detail is None:
        raise HTTPException(404, f"no asset {key!r} in the definitions or the store")
    return detail.to_json()


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
    last = summary.get("last_materialization")
    failing = sum(1 for check in summary.get("checks", ()) if check.get("passed") is False)
    partitions = summary.get("partitions") or {}
    if partitions.get("in_progress"):
        state = "in_progress"
    elif partitions.get("failed"):
        state = "failed"
    else:
        state = "materialized" if last else "missing"
    return [state, last["timestamp"] if last else None, failing]
