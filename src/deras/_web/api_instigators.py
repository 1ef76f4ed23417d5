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


def _views(state: WebState, kind: str, **options: Any) -> list[Any]:
    instigator_views = read_model("instigators")

    listing = getattr(instigator_views, f"list_{kind}")
    return list(listing(state.instance, require_snapshot(state), **options))


def _instigators(state: WebState, kind: str) -> Any:
    return [item.to_json() for item in _views(state, kind)]


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


def _find(state: WebState, kind: str, name: str) -> Any:
    """The listed schedule or sensor that ``name`` names: its key (``dag:etl``: a DAG's own
    schedule, ``schedule:nightly``), else its name (a schedule before a DAG of the same name)."""
    items = _views(state, kind, ticks=0) if kind == "schedules" else _views(state, kind)
    found = [i for i in items if i.key == name] or [i for i in items if i.name == name]
    if not found:
        raise HTTPException(404, f"no {kind[:-1]} named {name!r} in the definitions")
    return found[0]


def _storage_name(state: WebState, kind: str, name: str) -> str:
    return str(_find(state, kind, name).key)


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
        item = _find(state, kind, name)
        state.instance.store.ticks.set_status(item.key, status, time.time())
        state.feed.notify()
        return {"name": item.name, "key": item.key, "status": status}

    return set_status


_KEYS = {"schedules": "schedule:NAME; dag:ID, a DAG's own schedule", "sensors": "sensor:NAME"}
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
            summary=f"{_verb.capitalize()} a {_one} by name or key ({_KEYS[_kind]})",
            operation_id=f"{_verb}_{_one}",
        )
