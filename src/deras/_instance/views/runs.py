"""Runs as the CLI and the web show them: pages of summaries, a run's steps and attempts, its events.

>>> from deras._instance.instance import DerasInstance
>>> list_runs(DerasInstance.ephemeral()).items
[]
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..._core.errors import DerasError
from ..._core.events import DATA_TRACEBACK, EventRecord, EventType
from ..._core.records import RunRecord
from ..._core.status import NodeStatus, RunStatus
from ..._storage.run_reads import AttemptRow
from .checks import CheckResultView
from .page import Page, check_limit, decode_cursor, encode_cursor

FAILED_STEP_STATUSES = frozenset({NodeStatus.FAILED.value, NodeStatus.UPSTREAM_FAILED.value})
_TRIED = frozenset({NodeStatus.FAILED.value, NodeStatus.UP_FOR_RETRY.value})


@dataclass(frozen=True)
class RunSummary:
    """One run in a listing. ``owner_gone`` says why an active run's process is gone, if it is."""

    run_id: str
    status: str
    target: str
    target_kind: str  # "assets", "job" or "dag"
    job_name: str | None
    dag_id: str | None
    logical_date: str | None  # as the DAG's calendar writes it
    run_type: str | None
    partition_key: str | None
    partition_range: list[str] | None
    tags: dict[str, str]
    backfill_id: str | None
    parent_run_id: str | None
    root_run_id: str | None
    priority: int
    create_time: float
    start_time: float | None
    end_time: float | None
    duration: float | None
    owner_gone: str | None = None

    @classmethod
    def of(cls, run: RunRecord, owner_gone: str | None = None) -> RunSummary:
        return cls(
            run_id=run.run_id,
            status=str(run.status),
            target=run.target,
            target_kind=str(run.run_target.kind),
            job_name=run.job_name,
            dag_id=run.dag_id,
            logical_date=run.logical_date_text,
            run_type=run.run_type,
            partition_key=run.partition_key,
            partition_range=list(run.partition_range) if run.partition_range else None,
            tags=dict(run.tags),
            backfill_id=run.backfill_id,
            parent_run_id=run.parent_run_id,
            root_run_id=run.root_run_id,
            priority=run.priority,
            create_time=run.create_time,
            start_time=run.start_time,
            end_time=run.end_time,
            duration=run.end_time - run.start_time if run.start_time and run.end_time else None,
            owner_gone=owner_gone,
        )

    @property
    def scope(self) -> str:
        """What the run was for: its partition, its range (``first…last``) or its logical date."""
        if self.partition_key:
            return self.partition_key
        if self.partition_range:
            return "…".join(self.partition_range)
        return self.logical_date or ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AttemptView:
    """One attempt of a step. ``try_number`` is None for a node skipped before it ran."""

    attempt: int
    status: str
    start_time: float | None
    end_time: float | None
    try_number: int | None
    error: str | None
    traceback: str | None
    map_index: int  # -1 unless the node is an instance of a mapped task

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class StepView:
    """A node of the run (``kind``: asset, check or task) and its attempts, oldest first."""

    node: str
    kind: str
    status: str
    attempts: list[AttemptView]

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "kind": self.kind,
            "status": self.status,
            "attempts": [a.to_json() for a in self.attempts],
        }


@dataclass(frozen=True)
class RunDetail:
    """A run with its steps (in the order they first started), check results and config.

    ``steps`` and ``failed_steps`` may be the first of many (``run_detail``'s ``steps_limit``).
    """

    summary: RunSummary
    steps: list[StepView]
    checks: list[CheckResultView]
    run_config: dict[str, Any]
    code_location: dict[str, Any] | None
    selection: list[str] | None
    step_count: int = 0  # every step of the run, ``steps`` may hold fewer
    step_statuses: dict[str, int] = field(default_factory=dict)  # every step, by its status
    failed_steps: list[StepView] = field(default_factory=list)  # failed or upstream_failed
    # Every attempt of the steps above by start time: the order `deras runs show` prints them in.
    attempts_by_time: list[tuple[str, AttemptView]] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary.to_json(),
            "run_config": self.run_config,
            "code_location": self.code_location,
            "selection": self.selection,
            "step_count": self.step_count,
            "step_statuses": self.step_statuses,
            "steps": [s.to_json() for s in self.steps],
            "failed_steps": [s.to_json() for s in self.failed_steps],
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class EventView:
    """One stored event of a run; ``event_id`` orders them and resumes a stream after one."""

    event_id: int
    run_id: str
    event_type: str
    node: str | None
    attempt: int | None
    level: str | None
    message: str
    timestamp: float
    data: dict[str, Any]

    @classmethod
    def of(cls, event: EventRecord) -> EventView:
        return cls(
            event_id=event.id or 0,
            run_id=event.run_id,
            event_type=str(event.event_type),
            node=event.node,
            attempt=event.attempt,
            level=event.level,
            message=event.message,
            timestamp=event.timestamp,
            data=event.data,
        )

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_runs(
    instance: Any,
    *,
    status: str | Sequence[str] | None = None,
    target: str | None = None,
    dag_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    backfill_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[RunSummary]:
    """Runs newest first (by creation), with every filter given; ``cursor`` continues a listing.

    ``status`` is one status or several; ``target`` the run's target label (``"dag:etl"``,
    ``"job:daily"``, ``"assets:a,b"``); ``tags`` every tag of the mapping.
    """
    check_limit(limit)
    statuses = _statuses(status)
    after = None
    if cursor is not None:
        created, row_id = decode_cursor(cursor, 2, "run listing")
        if not isinstance(created, (int, float)) or not isinstance(row_id, int):
            raise DerasError(f"cursor {cursor[:40]!r} is not a cursor of this run listing")
        after = (float(created), row_id)
    # One more than asked says whether there is a next page without another query.
    found = instance.store.run_reads.runs_page(
        limit=limit + 1,
        after=after,
        statuses=statuses,
        target=target,
        dag_id=dag_id,
        tags=tags,
        backfill_id=backfill_id,
    )
    more = len(found) > limit
    found = found[:limit]
    summaries = summarize(instance, [run for _, run in found])
    return Page(summaries, encode_cursor(found[-1][0]) if more else None)


def summarize(instance: Any, runs: Sequence[RunRecord]) -> list[RunSummary]:
    """Summaries of ``runs``, an active run whose owner process is gone saying so."""
    gone = owners_gone(instance, runs)
    return [RunSummary.of(run, gone.get(run.run_id)) for run in runs]


def owners_gone(instance: Any, runs: Sequence[RunRecord]) -> dict[str, str]:
    """Why the process of each active run is gone (a daemon's run monitor would fail the run)."""
    active = [r for r in runs if r.status.is_active]
    if not active:
        return {}
    from ..._exec.run_owner import dead_owner

    now = time.time()
    timeout = instance.daemon_settings.run_monitoring.heartbeat_timeout_seconds
    dead = {r.run_id: dead_owner(r, now, timeout) for r in active}
    return {run_id: d.message for run_id, d in dead.items() if d is not None}


def run_detail(
    instance: Any, run_id: str, snapshot: Any = None, *, steps_limit: int | None = None
) -> RunDetail | None:
    """The run with its steps and attempts (tracebacks of failed ones), or None if no such run.

    ``snapshot`` (a ``CodeSnapshot``) names each node's kind when the run's nodes are in it.
    ``steps_limit`` keeps the first steps (by first start) and the first failed ones, that many
    of each; ``step_count`` and ``step_statuses`` still count every step. A page shows a few
    hundred steps, and a 5,000-task DAG run's steps as JSON are a megabyte.
    """
    if steps_limit is not None:
        check_limit(steps_limit, 100_000)
    run = instance.store.get_run(run_id)
    if run is None:
        return None
    store = instance.store
    # Grouped as the driver's tuples, in the order read; views are built for the steps kept.
    read = store.run_reads.attempt_rows(run_id)
    rows_of: dict[str, list[AttemptRow]] = {}
    for row in read:
        rows = rows_of.get(row[0])
        if rows is None:
            rows_of[row[0]] = [row]
        else:
            rows.append(row)
    status_of = {}
    for node, rows in rows_of.items():
        if len(rows) > 1:
            rows.sort(key=_attempt_number)
        status_of[node] = rows[-1][2]
    nodes = list(rows_of)
    failed = [n for n in nodes if status_of[n] in FAILED_STEP_STATUSES]
    if steps_limit is not None:
        nodes, failed = nodes[:steps_limit], failed[:steps_limit]
    tracebacks = {
        (e.node, e.attempt or 0): e.data.get(DATA_TRACEBACK)
        for e in store.get_events(run_id, event_types=[EventType.STEP_FAILURE])
    }
    kinds = _node_kinds(snapshot, run, rows_of)
    built: dict[str, StepView] = {}

    def step(node: str) -> StepView:
        view = built.get(node)
        if view is None:
            attempts = [_attempt_view(row, tracebacks) for row in rows_of[node]]
            kind = kinds.get(node) or _guess_kind(run, node)
            view = built[node] = StepView(node, kind, status_of[node], attempts)
        return view

    steps = [step(node) for node in nodes]
    failed_steps = [step(node) for node in failed]
    attempt_of = {(s.node, a.attempt): a for s in built.values() for a in s.attempts}
    # The attempts of the steps kept, in the order read (by start time): `deras runs show`'s.
    by_time = [(row[0], attempt_of[row[0], row[1]]) for row in read if row[0] in built]
    checks = [CheckResultView.of(c) for c in store.get_check_results(run_id=run_id)]
    return RunDetail(
        summary=summarize(instance, [run])[0],
        steps=steps,
        checks=checks,
        run_config=run.run_config,
        code_location=run.code_location,
        selection=run.selection,
        step_count=len(rows_of),
        step_statuses=dict(Counter(status_of.values())),
        failed_steps=failed_steps,
        attempts_by_time=by_time,
    )


def run_events(
    instance: Any,
    run_id: str,
    after_event_id: int | None = None,
    limit: int = 1000,
    *,
    node: str | None = None,
) -> Page[EventView]:
    """The run's events after ``after_event_id`` (all from the first without), oldest first.

    A live view asks again with the last ``event_id`` it has; ``next_cursor`` is set when more
    than ``limit`` events were waiting.
    """
    check_limit(limit, 10_000)
    events = instance.store.get_events(run_id, node=node, after_id=after_event_id, limit=limit + 1)
    more = len(events) > limit
    items = [EventView.of(e) for e in events[:limit]]
    return Page(items, encode_cursor([items[-1].event_id]) if more else None)


def _statuses(status: str | Sequence[str] | None) -> list[RunStatus] | None:
    if status is None:
        return None
    names = [status] if isinstance(status, str) else list(status)
    known = {s.value for s in RunStatus}
    bad = [n for n in names if n not in known]
    if bad:
        raise DerasError(
            f"unknown run status {', '.join(map(repr, bad))}: use one of {', '.join(sorted(known))}"
        )
    return [RunStatus(n) for n in names]


def _attempt_view(row: AttemptRow, tracebacks: dict[tuple[str | None, int], Any]) -> AttemptView:
    node, number, status, start, end, error = row
    # A failed or retried attempt was a try even with no start recorded: its worker may have
    # died before its first event reached the store.
    ran = start is not None or status in _TRIED
    return AttemptView(
        attempt=number,
        status=status,
        start_time=start,
        end_time=end,
        try_number=number + 1 if ran else None,
        error=error,
        traceback=tracebacks.get((node, number)) if tracebacks else None,
        map_index=map_index(node),
    )


def _attempt_number(row: AttemptRow) -> int:
    return row[1]


def map_index(node: str) -> int:
    """The map index of a mapped task's node (``etl.load[3]`` → 3); -1 for any other node."""
    if node[-1:] == "]" and "[" in node:
        index = node[:-1].rpartition("[")[2]
        if index.isdigit():
            return int(index)
    return -1


def _node_kinds(snapshot: Any, run: RunRecord, nodes: Collection[str]) -> dict[str, str]:
    """The kind of each of ``nodes`` the snapshot defines: a DAG run's tasks are looked up in its
    DAG alone when that finds them all (no map of the snapshot's 10,000 assets per call)."""
    if snapshot is None or not hasattr(snapshot, "assets"):
        return {}
    kinds: dict[str, str] = {}
    for dag in snapshot.dags:
        if run.dag_id is None or dag.dag_id == run.dag_id:
            kinds.update({f"{dag.dag_id}.{t.task_id}": "task" for t in dag.tasks})
    if all(node in kinds for node in nodes):
        return kinds
    kinds.update({a.key: "asset" for a in snapshot.assets})
    kinds.update({f"{c.asset_key}:{c.name}": "check" for c in snapshot.checks})
    return kinds


def _guess_kind(run: RunRecord, node: str) -> str:
    """A node's kind from its id when no snapshot says: a DAG's tasks are ``dag_id.task``,
    checks ``asset:check``."""
    if run.dag_id is not None and node.startswith(f"{run.dag_id}."):
        return "task"
    return "check" if ":" in node else "asset"
