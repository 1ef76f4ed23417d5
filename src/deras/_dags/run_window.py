"""A DAG's run window: the logical dates from its ``start_date`` to its ``end_date``, both included.

Nothing runs outside it: the daemon's catchup (``due_runs``), backfills, triggers and test
runs all ask here, so a DAG that ended on 2025-03-06 never gets a run for 2025-03-07.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .._core.errors import DerasError

_TINY = timedelta(microseconds=1)


def outside_window(dag: Any, logical_date: datetime) -> str | None:
    """Why ``logical_date`` (aware) may not run, or None when it lies in the DAG's window."""
    if dag.start_date is not None and logical_date < dag.start_date:
        return f"is before its start_date {_show(dag, dag.start_date)}"
    if dag.end_date is not None and logical_date > dag.end_date:
        return f"is after its end_date {_show(dag, dag.end_date)}"
    return None


def check_in_window(dag: Any, logical_date: datetime) -> None:
    """Raise ``DerasError`` naming the date, the DAG's window and the fix, if it lies outside."""
    why = outside_window(dag, logical_date)
    if why is not None:
        raise DerasError(
            f"DAG '{dag.dag_id}' does not run for logical date {_show(dag, logical_date)}: it {why}. "
            f"Fix: give a logical date {describe_window(dag)}, or change the DAG's start_date/end_date."
        )


def describe_window(dag: Any) -> str:
    """``from 2025-03-01T00:00:00+00:00 to 2025-03-06T00:00:00+00:00`` (either end may be open)."""
    parts = []
    if dag.start_date is not None:
        parts.append(f"from {_show(dag, dag.start_date)}")
    if dag.end_date is not None:
        parts.append(f"to {_show(dag, dag.end_date)}")
    return " ".join(parts) or "(any date)"


def scheduled_dates(dag: Any, first: datetime, last: datetime) -> tuple[list[datetime], list[datetime]]:
    """The schedule's logical dates from ``first`` to ``last`` inclusive: those in the DAG's window,
    and those outside it (which must not run), each oldest first."""
    inside: list[datetime] = []
    outside: list[datetime] = []
    if not dag.schedule.is_periodic:
        return inside, outside
    current = dag.schedule.next_logical_date(first - _TINY)
    while current is not None and current <= last:
        (outside if outside_window(dag, current) else inside).append(current)
        current = dag.schedule.next_logical_date(current)
    return inside, outside


def _show(dag: Any, moment: datetime) -> str:
    return moment.astimezone(dag.schedule.tz).isoformat()
