"""``/api/v1/runs``: list (filters, cursor pages), detail, events, logs, launch, cancel, re-execute,
clear task instances."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .._core.errors import DerasError
from .._instance.views import logs as log_views
from .._instance.views import runs as run_views
from .code_access import current_snapshot, launch
from .schemas import (
    ERRORS,
    ClearTasks,
    EventPage,
    Launched,
    LaunchRun,
    LogPage,
    Reexecute,
    RunDetail,
    RunPage,
    RunStatusView,
)
from .state import WebState, web_state

router = APIRouter(tags=["runs"])
STATUSES = ("queued", "starting", "started", "success", "failure", "canceling", "canceled")
_STATUS_HELP = f"any of: {', '.join(STATUSES)}"


def parse_tags(tags: list[str]) -> dict[str, str] | None:
    """``key=value`` filters; a tag without ``=`` is a 400."""
    parsed: dict[str, str] = {}
    for tag in tags:
        key, sep, value = tag.partition("=")
        if not sep or not key:
            raise HTTPException(400, f"tag filter {tag!r}: write it as key=value")
        parsed[key] = value
    return parsed or None


@router.get("/runs", response_model=RunPage, responses=ERRORS, summary="List runs, newest first")
def list_runs(
    state: WebState = Depends(web_state),
    status: list[str] = Query([], description=_STATUS_HELP),
    target: str | None = Query(None, description="a job name, DAG id or asset key the run targets"),
    dag_id: str | None = None,
    tag: list[str] = Query([], description="key=value; every one must match"),
    backfill_id: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
) -> Any:
    bad = [s for s in status if s not in STATUSES]
    if bad:
        raise HTTPException(400, f"unknown status {bad[0]!r}: use one of {', '.join(STATUSES)}")
    try:
        page = run_views.list_runs(
            state.instance,
            status=status or None,
            target=target,
            dag_id=dag_id,
            tags=parse_tags(tag),
            backfill_id=backfill_id,
            limit=limit,
            cursor=cursor,
        )
    except DerasError as err:  # a cursor that is not one of ours
        raise HTTPException(400, str(err)) from err
    return page.to_json()


@router.get("/runs/{run_id}", response_model=RunDetail, responses=ERRORS, summary="A run with its steps")
def get_run(
    run_id: str,
    state: WebState = Depends(web_state),
    steps_limit: int = Query(
        500, ge=1, le=100_000, description="at most this many steps, and of failed_steps (step_count: all)"
    ),
) -> Any:
    detail = run_views.run_detail(state.instance, run_id, current_snapshot(state), steps_limit=steps_limit)
    if detail is None:
        raise HTTPException(404, f"no run with id {run_id}")
    # Sent as built: a big DAG run's steps validated again would cost more than reading them.
    return JSONResponse(detail.to_json())


@router.get("/runs/{run_id}/events", response_model=EventPage, responses=ERRORS, summary="A run's events")
def get_run_events(
    run_id: str,
    state: WebState = Depends(web_state),
    after: int | None = Query(None, ge=0, description="only events after this event_id"),
    node: str | None = None,
    limit: int = Query(1000, ge=1, le=10_000),
) -> Any:
    if state.instance.get_run(run_id) is None:
        raise HTTPException(404, f"no run with id {run_id}")
    return run_views.run_events(state.instance, run_id, after, limit, node=node).to_json()


@router.get("/runs/{run_id}/logs", response_model=LogPage, responses=ERRORS, summary="A run's log, in pages")
def get_run_logs(
    run_id: str,
    state: WebState = Depends(web_state),
    node: str | None = Query(None, description="one node's records only"),
    after: int | None = Query(None, ge=0, description="records after this event id (a live tail)"),
    offset: int = Query(0, ge=-100_000, description="skip this many records (negative: the last N)"),
    limit: int = Query(1000, ge=1, le=10_000),
) -> Any:
    try:
        page = log_views.run_logs(
            state.instance, run_id, node=node, after_event_id=after, offset=offset, limit=limit
        )
    except DerasError as err:
        raise HTTPException(404 if "no run" in str(err) else 400, str(err)) from err
    return {"run_id": run_id, "node": node, **page.to_json()}


@router.post(
    "/runs", response_model=Launched, responses=ERRORS, summary="Launch a run (queued for the daemon)"
)
async def launch_run(body: LaunchRun, state: WebState = Depends(web_state)) -> Any:
    request = body.model_dump(exclude_none=True)
    targets = [k for k in ("selection", "job", "dag_id") if k in request]
    if len(targets) != 1:
        raise HTTPException(400, "give exactly one of selection, job or dag_id")
    return {"run_id": await run_in_threadpool(launch, state, request)}


@router.post("/runs/{run_id}/cancel", response_model=RunStatusView, responses=ERRORS, summary="Cancel a run")
def cancel_run(run_id: str, state: WebState = Depends(web_state)) -> Any:
    try:
        status = state.instance.cancel_run(run_id)
    except DerasError as err:
        raise HTTPException(404, str(err)) from err
    return {"run_id": run_id, "status": str(status)}


@router.post(
    "/runs/{run_id}/reexecute",
    response_model=Launched,
    responses=ERRORS,
    summary="Re-execute a run (from failure: only what did not succeed)",
)
async def reexecute_run(
    run_id: str, body: Reexecute = Body(default_factory=Reexecute), state: WebState = Depends(web_state)
) -> Any:
    if state.instance.get_run(run_id) is None:
        raise HTTPException(404, f"no run with id {run_id}")
    request = {"reexecute": run_id, "from_failure": body.from_failure}
    return {"run_id": await run_in_threadpool(launch, state, request)}


@router.post(
    "/runs/{run_id}/clear",
    response_model=Launched,
    responses=ERRORS,
    summary="Clear task instances of a DAG run (they run again in the same run)",
)
async def clear_tasks(run_id: str, body: ClearTasks, state: WebState = Depends(web_state)) -> Any:
    run = state.instance.get_run(run_id)
    if run is None:
        raise HTTPException(404, f"no run with id {run_id}")
    if not run.dag_id:
        raise HTTPException(400, f"run {run_id} is not a DAG run: re-execute it instead")
    request = {
        "clear": {"run_id": run_id, "task_ids": body.tasks, "downstream": body.downstream},
    }
    return {"run_id": await run_in_threadpool(launch, state, request)}
