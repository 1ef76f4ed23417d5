"""``/api/v1/assets`` and ``/api/v1/lineage``: assets with their latest facts, one asset's history,
and the lineage graph's layout (cached per snapshot version) with its statuses apart."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from .._core.errors import DerasError
from .._instance.views import assets as asset_views
from .._instance.views.asset_states import asset_states
from .code_access import current_snapshot, require_snapshot
from .lineage_layout import layout_of_assets
from .schemas import ERRORS, AssetDetail, AssetPage, AssetStatuses, LineageLayoutView
from .state import WebState, web_state

router = APIRouter(tags=["assets"])


@router.get(
    "/assets",
    response_model=AssetPage,
    responses=ERRORS,
    summary="Assets by key, in pages, with their latest facts",
)
def list_assets(
    state: WebState = Depends(web_state),
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    search: str | None = Query(None, description="only assets whose key or group contains this (any case)"),
    partitioned: bool = Query(False, description="only partitioned assets"),
) -> Any:
    try:
        page = asset_views.list_assets(
            state.instance,
            current_snapshot(state),
            limit=limit,
            cursor=cursor,
            search=search,
            partitioned=partitioned,
        )
    except DerasError as err:  # a cursor that is not one of ours
        raise HTTPException(400, str(err)) from err
    return JSONResponse(page.to_json())


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
    summary="The state of each asset with one, as columns (an asset left out is missing): refetched live",
)
def lineage_statuses(state: WebState = Depends(web_state)) -> Any:
    # Sent as built: 10,000 entries validated again would cost more than reading them.
    return JSONResponse(asset_states(state.instance, require_snapshot(state)).to_json())
