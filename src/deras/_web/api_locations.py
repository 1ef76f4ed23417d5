"""``/api/v1/locations``: code locations, their load errors (with tracebacks), reload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from starlette.concurrency import run_in_threadpool

from .code_access import all_locations, find_location, is_load_error, snapshot_of, warm_lineage
from .schemas import ERRORS, CodeLocationView
from .state import WebState, web_state

router = APIRouter(tags=["code locations"])


def location_json(location: Any) -> dict[str, Any]:
    snapshot = snapshot_of(location)
    name = location.name
    ref = location.location
    data: dict[str, Any] = {
        "name": name,
        "location": ref.to_json(),
        "status": "error" if is_load_error(snapshot) else "loaded",
        "error": snapshot.to_json() if is_load_error(snapshot) else None,
    }
    if not is_load_error(snapshot):
        data.update(
            version=snapshot.version,
            loaded_at=snapshot.loaded_at,
            load_errors=snapshot.load_errors,  # a DAG folder's files that did not import
            counts={
                "assets": len(snapshot.assets),
                "checks": len(snapshot.checks),
                "jobs": len(snapshot.jobs),
                "dags": len(snapshot.dags),
                "schedules": len(snapshot.schedules),
                "sensors": len(snapshot.sensors),
            },
            jobs=[j.to_json() for j in snapshot.jobs],
            schedules=[x.to_json() for x in snapshot.schedules],
            sensors=[x.to_json() for x in snapshot.sensors],
        )
    return data


@router.get("/locations", response_model=list[CodeLocationView], responses=ERRORS, summary="Code locations")
def list_locations(state: WebState = Depends(web_state)) -> Any:
    return [location_json(loc) for loc in all_locations(state)]


@router.post(
    "/locations/{name}/reload",
    response_model=CodeLocationView,
    responses=ERRORS,
    summary="Load the location's code again (in a new process; the old one serves until it is up)",
)
async def reload_location(name: str, state: WebState = Depends(web_state)) -> Any:
    from .._code_server.client import CodeServerError

    location = find_location(state, name)
    try:
        await run_in_threadpool(location.reload)
    except CodeServerError as err:  # the new server did not come up: the old one still serves
        raise HTTPException(503, str(err)) from err
    state.feed.notify()
    warm_lineage(state)
    return location_json(location)
