"""``/api/v1/schedules`` and ``/api/v1/sensors``: state, next ticks, tick history, start and stop."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from .._core.errors import DerasError
from .code_access import require_snapshot
from .read_model import read_model
from .schemas import ERRORS, InstigatorStatus, InstigatorView, TickPage
from .state import WebState, web_state

router = APIRouter(tags=["schedules and sensors"])
_STORAGE_PREFIX = {"schedules": "schedule", "sensors": "sensor"}


def _names(snapshot: Any, kind: str) -> set[str]:
    found = snapshot.schedules if kind == "schedules" else snapshot.sensors
    return {item.name for item in found}


def _instigators(state: WebState, kind: str) -> Any:
    instigator_views = read_model("instigators")

    snapshot = require_snapshot(state)
    listing = getattr(instigator_views, f"list_{kind}")
    return [item.to_json() for item in listing(state.instance, snapshot)]


@router.get(
    "/schedules", response_model=list[InstigatorView], responses=ERRORS, summary="Schedules, with next ticks"
)
def list_schedules(state: WebState = Depends(web_state)) -> Any:
    return _instigators(state, "schedules")


@router.get(
    "/sensors", response_model=list[InstigatorView], responses=ERRORS, summary="Sensors, with their last tick"
)
def list_sensors(state: WebState = Depends(web_state)) -> Any:
    return _instigators(state, "sensors")


def _storage_name(state: WebState, kind: str, name: str) -> str:
    snapshot = require_snapshot(state)
    if name not in _names(snapshot, kind):
        raise HTTPException(404, f"no {kind[:-1]} named {name!r} in the definitions")
    return f"{_STORAGE_PREFIX[kind]}:{name}"


def _ticks(kind: str) -> Any:
    def ticks(
        name: str,
        state: WebState = Depends(web_state),
        limit: int = Query(50, ge=1, le=500),
        cursor: str | None = Query(None, description="next_cursor of the previous page"),
    ) -> Any:
        instigator_views = read_model("instigators")

        key = _storage_name(state, kind, name)
        try:
            return instigator_views.tick_history(state.instance, key, limit=limit, cursor=cursor).to_json()
        except DerasError as err:
            raise HTTPException(400, str(err)) from err

    return ticks


def _setter(kind: str, status: str) -> Any:
    def set_status(name: str, state: WebState = Depends(web_state)) -> Any:
        key = _storage_name(state, kind, name)
        state.instance.store.ticks.set_status(key, status, time.time())
        state.feed.notify()
        return {"name": name, "status": status}

    return set_status


for _kind in ("schedules", "sensors"):
    _one = _kind[:-1]
    router.add_api_route(
        f"/{_kind}/{{name}}/ticks",
        _ticks(_kind),
        methods=["GET"],
        response_model=TickPage,
        responses=ERRORS,
        summary=f"A {_one}'s ticks, newest first (skip reasons, errors, run ids)",
        operation_id=f"{_one}_ticks",
    )
    for _verb, _status in (("start", "running"), ("stop", "stopped")):
        router.add_api_route(
            f"/{_kind}/{{name}}/{_verb}",
            _setter(_kind, _status),
            methods=["POST"],
            response_model=InstigatorStatus,
            responses=ERRORS,
            summary=f"{_verb.capitalize()} a {_one}",
            operation_id=f"{_verb}_{_one}",
        )
