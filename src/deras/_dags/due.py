"""Which runs of a DAG are due now: what the daemon's schedule ticker asks each tick."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._core import tags as deras_tags
from .._core.errors import DerasError


def dag_due_runs(dag: Any, instance: Any, now: datetime, *, max_runs: int | None = None) -> list[Any]:
    """The scheduled runs of ``dag`` that should exist at ``now`` and are not in the store yet.

    With ``catchup`` every missed interval since ``start_date`` (oldest first), else only the
    latest complete one; runs of any type already recorded for a logical date count as done.
    ``max_runs`` defaults to the room ``max_active_runs`` leaves next to unfinished runs.
    """
    from .._defs.dag_schedule import due_runs

    if dag.start_date is None:
        if dag.schedule.is_periodic or dag.schedule.kind == "once":
            raise DerasError(
                f"DAG '{dag.dag_id}' has a schedule but no start_date: give start_date=datetime(...)"
            )
        return []
    # A test run (`deras dags test`, `tasks test`) does not stand in for a scheduled one.
    runs = [r for r in instance.get_runs(dag_id=dag.dag_id) if deras_tags.TEST not in r.tags]
    existing = [r.logical_date for r in runs if r.logical_date is not None]
    if max_runs is None:
        active = sum(1 for r in runs if not r.status.is_finished)
        max_runs = max(dag.max_active_runs - active, 0)
    return due_runs(
        dag.schedule,
        start_date=dag.start_date,
        end_date=dag.end_date,
        catchup=dag.catchup,
        existing_logical_dates=existing,
        now=now,
        max_runs=max_runs,
    )
