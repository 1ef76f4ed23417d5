"""DAGs as the CLI and the web show them: the list (with last run and next run) and the grid.

The grid of a DAG is runs x tasks coloured by each task instance's state. It costs two
queries whatever its size: the window of runs (``ix_runs_dag``: dag_id, logical_date, id) and
the latest attempt of every node of those runs (the attempts' primary key, a range per run).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..._core.errors import DerasError
from .page import check_limit, decode_cursor, encode_cursor
from .runs import RunSummary, summarize

# A mapped task shows one cell: its worst instance, by this order (first wins).
_WORST_FIRST = (
    "failed",
    "upstream_failed",
    "running",
    "up_for_retry",
    "scheduled",
    "pending",
    "queued",
    "skipped",
    "success",
)
_RANK = {state: i for i, state in enumerate(_WORST_FIRST)}


@dataclass(frozen=True)
class DagSummary:
    """A DAG of the code location with its latest run and its next scheduled logical date."""

    dag_id: str
    schedule: str
    timezone: str
    tasks: int
    tags: list[str]
    file: str | None
    description: str | None
    last_run: RunSummary | None
    next_run: str | None  # ISO instant in the DAG's zone; None when not time-scheduled

    def to_json(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "schedule": self.schedule,
            "timezone": self.timezone,
            "tasks": self.tasks,
            "tags": self.tags,
            "file": self.file,
            "description": self.description,
            "last_run": self.last_run.to_json() if self.last_run else None,
            "next_run": self.next_run,
        }


@dataclass(frozen=True)
class DagGrid:
    """``states[i][j]``: the state of task ``tasks[j]`` in run ``runs[i]`` (None: no instance).

    Runs are latest logical date first; ``next_cursor`` gives the older ones.
    """

    dag_id: str
    tasks: list[str]
    runs: list[RunSummary]
    states: list[list[str | None]]
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "tasks": self.tasks,
            "runs": [r.to_json() for r in self.runs],
            "states": self.states,
            "next_cursor": self.next_cursor,
        }


def list_dags(instance: Any, snapshot: Any, *, now: datetime | None = None) -> list[DagSummary]:
    """Every DAG of ``snapshot`` (a ``CodeSnapshot``) by id, with its latest run (one query)."""
    dags = sorted(snapshot.dags, key=lambda d: d.dag_id)
    latest = instance.store.run_reads.latest_runs_of_dags([d.dag_id for d in dags])
    summaries = {s.run_id: s for s in summarize(instance, list(latest.values()))}
    at = now or datetime.now(UTC)
    return [
        DagSummary(
            dag_id=d.dag_id,
            schedule=d.schedule,
            timezone=d.timezone,
            tasks=len(d.tasks),
            tags=list(d.tags),
            file=d.file,
            description=d.description,
            last_run=summaries[latest[d.dag_id].run_id] if d.dag_id in latest else None,
            next_run=_next_run(d, at),
        )
        for d in dags
    ]


def dag_grid(
    instance: Any, snapshot: Any, dag_id: str, *, limit: int = 25, before: str | None = None
) -> DagGrid:
    """The DAG's latest ``limit`` runs x its tasks; ``before`` (a ``next_cursor``) pages back.

    Tasks are the snapshot's, in its order (``snapshot`` may be None: then the tasks are those
    the runs have, sorted). A mapped task's cell is its worst instance's state.
    """
    check_limit(limit, 500)
    after = None
    if before is not None:
        logical, row_id = decode_cursor(before, 2, "DAG grid")
        if not isinstance(logical, (int, float)) or not isinstance(row_id, int):
            raise DerasError(f"cursor {before[:40]!r} is not a cursor of this DAG grid")
        after = (float(logical), row_id)
    reads = instance.store.run_reads
    window = reads.dag_runs_window(dag_id, limit=limit + 1, before=after)
    more = len(window) > limit
    window = window[:limit]
    runs = [run for _, run in window]
    rows = reads.node_statuses([r.run_id for r in runs])
    tasks = _task_ids(snapshot, dag_id, rows)
    states = _cells(dag_id, tasks, runs, rows)
    cursor = encode_cursor(window[-1][0]) if more else None
    return DagGrid(dag_id, tasks, summarize(instance, runs), states, cursor)


def _cells(dag_id: str, tasks: list[str], runs: list[Any], rows: list[Any]) -> list[list[str | None]]:
    """The runs x tasks matrix of states from ``(run_id, node, status)`` rows (each node's
    attempts in order: the last wins). One dict lookup per row: this loop is the grid's cost."""
    column = {f"{dag_id}.{task}": j for j, task in enumerate(tasks)}
    line = {run.run_id: i for i, run in enumerate(runs)}
    states: list[list[str | None]] = [[None] * len(tasks) for _ in runs]
    mapped: dict[tuple[int, int], dict[str, str]] = {}
    for run_id, node, status in rows:
        j = column.get(node)
        if j is not None:
            states[line[run_id]][j] = status
            continue
        task = _mapped_task(dag_id, node)
        if task is not None and f"{dag_id}.{task}" in column:
            mapped.setdefault((line[run_id], column[f"{dag_id}.{task}"]), {})[node] = status
    for (i, j), instances in mapped.items():  # a mapped task's cell: its worst instance
        states[i][j] = min(instances.values(), key=lambda s: _RANK.get(s, 0))
    for row in states:
        for j, state in enumerate(row):
            if state == "pending":
                row[j] = "scheduled"
    return states


def _mapped_task(dag_id: str, node: str) -> str | None:
    """``etl.load[3]`` → ``load``; None for a node that is no instance of a task of the DAG."""
    prefix = f"{dag_id}."
    if not node.startswith(prefix) or not node.endswith("]") or "[" not in node:
        return None
    return node[len(prefix) : node.rindex("[")]


def _task_ids(snapshot: Any, dag_id: str, rows: list[Any]) -> list[str]:
    if snapshot is not None:
        for dag in snapshot.dags:
            if dag.dag_id == dag_id:
                return [t.task_id for t in dag.tasks]
        raise DerasError(f"DAG '{dag_id}' is not in the code location")
    prefix = f"{dag_id}."
    found = {
        _mapped_task(dag_id, node) or node[len(prefix) :] for _, node, _ in rows if node.startswith(prefix)
    }
    return sorted(found)


def _next_run(dag: Any, now: datetime) -> str | None:
    """The DAG's next logical date after ``now`` from its cron schedule, in its zone."""
    if getattr(dag, "schedule_kind", "cron") != "cron":
        return None
    from ..._defs.dag_schedule import parse_schedule

    try:
        ticks = parse_schedule(dag.schedule, timezone=dag.timezone).preview(1, now)
    except Exception:  # a schedule text only people read ("every 1:00:00"): no next date to show
        return None
    if not ticks:
        return None
    if dag.end_date and ticks[0] > datetime.fromisoformat(dag.end_date):
        return None
    return ticks[0].isoformat()
