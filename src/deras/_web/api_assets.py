"""``/api/v1/assets`` and ``/api/v1/lineage``: assets with their latest facts, one asset's history,
and the lineage graph's layout (cached per snapshot version) with its statuses apart."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from .._core.errors import DerasError
from .._instance.views import assets as asset_views
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
    # Sent as built: validating 10,000 summaries again costs more than reading them.
    summaries = asset_views.list_assets(state.instance, current_snapshot(state))
    return JSONResponse([a.to_json() for a in summaries])


@router.get("/assets/{key:path}", response_model=AssetDetail, responses=ERRORS, summary="One asset's history")
def get_asset(
    key: str,
    state: WebState = Depends(web_state),
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, description="next_cursor: older materializations"),
) -> Any:
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
    summary="The lineage graph laid out (columns of node keys, groups and coordinates); ETag: its version",
)
def lineage(request: Request, state: WebState = Depends(web_state)) -> Any:
    snapshot = require_snapshot(state)
    etag = f'"{snapshot.version}"'
    cache = {"etag": etag, "cache-control": "private, no-cache"}  # the browser keeps it, and asks
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=cache)
    layout = state.layouts.get(snapshot.version, lambda: layout_of_assets(snapshot.version, snapshot.assets))
    return Response(layout.json_bytes, media_type="application/json", headers=cache)


@router.get(
    "/lineage/statuses",
    response_model=AssetStatuses,
    responses=ERRORS,
    summary="The state of each asset with any (by key; an asset left out is missing): small, refetched live",
)
def lineage_statuses(state: WebState = Depends(web_state)) -> Any:
    snapshot = require_snapshot(state)
    statuses = {}
    for summary in asset_views.list_assets(state.instance, snapshot):
        status = status_of(summary.to_json())
        if status != MISSING:
            statuses[summary.key] = status
    return JSONResponse({"version": snapshot.version, "statuses": statuses})


MISSING = ["missing", None, 0]


def status_of(summary: dict[str, Any]) -> list[Any]:
    """``[state, last materialization time, failing checks]`` of one asset summary."""
    last = summary.get("last_materialization")
    failing = sum(1 for check in summary.get("checks", ()) if check.get("passed") is False)
    partitions = summary.get("partitions") or {}
    if partitions.get("in_progress"):
        state = "in_progress"
    elif partitions.get("failed") or summary.get("failed_last"):
        state = "failed"
    else:
        state = "materialized" if last else "missing"
    return [state, last["timestamp"] if last else None, failing]
