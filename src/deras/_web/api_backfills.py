"""``/api/v1/backfills``: list, show (per-partition progress), launch from a partition range, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from .._core.errors import DerasError
from .code_access import launch
from .read_model import read_model
from .schemas import ERRORS, BackfillLaunched, BackfillPage, BackfillStatusView, BackfillView, LaunchBackfill
from .state import WebState, web_state

router = APIRouter(tags=["backfills"])


@router.get("/backfills", response_model=BackfillPage, responses=ERRORS, summary="Backfills, newest first")
def list_backfills(
    state: WebState = Depends(web_state),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = None,
) -> Any:
    backfill_views = read_model("backfills")

    try:
        page = backfill_views.list_backfills(state.instance, limit=limit, cursor=cursor)
    except DerasError as err:
        raise HTTPException(400, str(err)) from err
    return page.to_json()


@router.get(
    "/backfills/{backfill_id}",
    response_model=BackfillView,
    responses=ERRORS,
    summary="One backfill's progress",
)
def get_backfill(backfill_id: str, state: WebState = Depends(web_state)) -> Any:
    backfill_views = read_model("backfills")

    view = backfill_views.backfill_detail(state.instance, backfill_id)
    if view is None:
        raise HTTPException(404, f"no backfill with id {backfill_id}")
    return view.to_json()


@router.post("/backfills", response_model=BackfillLaunched, responses=ERRORS, summary="Launch a backfill")
async def launch_backfill(body: LaunchBackfill, state: WebState = Depends(web_state)) -> Any:
    request = body.model_dump(exclude_none=True)
    targets = [k for k in ("selection", "job", "dag_id") if k in request]
    if len(targets) != 1:
        raise HTTPException(400, "give exactly one of selection, job or dag_id")
    if ("partition_range" in request) == ("partitions" in request):
        raise HTTPException(
            400, "give partition_range [first, last] or partitions [...], not both or neither"
        )
    backfill_id = await run_in_threadpool(launch, state, {"backfill": request})
    return {"backfill_id": backfill_id}


@router.post(
    "/backfills/{backfill_id}/cancel",
    response_model=BackfillStatusView,
    responses=ERRORS,
    summary="Cancel a backfill",
)
def cancel_backfill(backfill_id: str, state: WebState = Depends(web_state)) -> Any:
    instance = state.instance
    try:
        instance.cancel_backfill(backfill_id)
    except DerasError as err:
        raise HTTPException(404, str(err)) from err
    record = instance.store.backfills.get_backfill(backfill_id)
    return {"backfill_id": backfill_id, "status": str(record.status)}
