"""``/api/v1/dags``: DAGs with their last run and next tick, one DAG's graph, and its grid."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse

from .._core.errors import DerasError
from .._instance.views import dags as dag_views
from .code_access import require_snapshot
from .lineage_layout import layered_layout
from .schemas import ERRORS, DagGrid, DagSummary
from .state import WebState, web_state

router = APIRouter(tags=["dags"])


@router.get("/dags", response_model=list[DagSummary], responses=ERRORS, summary="Every DAG")
def list_dags(state: WebState = Depends(web_state)) -> Any:
    snapshot = require_snapshot(state)
    return [d.to_json() for d in dag_views.list_dags(state.instance, snapshot)]


def _dag(state: WebState, dag_id: str) -> tuple[Any, Any]:
    snapshot = require_snapshot(state)
    for dag in snapshot.dags:
        if dag.dag_id == dag_id:
            return snapshot, dag
    raise HTTPException(404, f"no DAG {dag_id!r} in the definitions")


@router.get(
    "/dags/{dag_id}", response_model=DagSummary, responses=ERRORS, summary="A DAG and its graph, laid out"
)
def get_dag(dag_id: str, state: WebState = Depends(web_state)) -> Any:
    snapshot, dag = _dag(state, dag_id)
    version = f"{snapshot.version}:dag:{dag_id}"
    tasks = [t.task_id for t in dag.tasks]
    deps: dict[str, list[str]] = {}
    for up, down in dag.edges:
        deps.setdefault(down, []).append(up)
    groups = {t.task_id: t.group or "default" for t in dag.tasks}
    layout = state.layouts.get(version, lambda: layered_layout(version, tasks, deps, groups))
    return {**dag.to_json(), "layout": layout.to_json()}


@router.get(
    "/dags/{dag_id}/grid",
    response_model=DagGrid,
    responses=ERRORS,
    summary="Runs by tasks, coloured by state: a window of runs, latest first",
)
def dag_grid(
    dag_id: str,
    state: WebState = Depends(web_state),
    limit: int = Query(25, ge=1, le=100),
    before: str | None = Query(None, description="next_cursor of the previous window"),
) -> Any:
    """``cells[i][j]`` is the state of ``tasks[j]`` in ``runs[i]``, one letter per task (see
    ``state_codes``; ``.``: no instance): 5,000 tasks x 25 runs are 125 KB, not 1.4 MB."""
    snapshot, _dag_snap = _dag(state, dag_id)
    try:
        grid = dag_views.dag_grid(state.instance, snapshot, dag_id, limit=limit, before=before)
    except DerasError as err:
        raise HTTPException(400, str(err)) from err
    codes: dict[str | None, str] = {None: "."}
    cells = []
    for row in grid.states:
        for value in row:
            if value not in codes:
                codes[value] = _CODE_LETTERS[len(codes) - 1]
        cells.append("".join(codes[value] for value in row))
    body = {
        "dag_id": grid.dag_id,
        "tasks": grid.tasks,
        "runs": [r.to_json() for r in grid.runs],
        "state_codes": {code: value for value, code in codes.items() if value is not None},
        "cells": cells,
        "next_cursor": grid.next_cursor,
    }
    return JSONResponse(body)  # sent as built: validating 125,000 cells again costs more than the grid


_CODE_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
