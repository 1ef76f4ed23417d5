"""Reads of runs and attempts for the read model (``deras._instance.views``): pages and windows.

Every listing is a keyset page: rows after a sort key (never an offset), read along an index, so
page 2,000 of 100,000 runs costs what page 1 does. Each filter has an index whose last columns
are the sort key: ``ix_runs_create_time``, ``ix_runs_status``, ``ix_runs_target``,
``ix_runs_backfill_id``, ``ix_runs_dag_create`` (all ``..., create_time, id``) and ``ix_runs_dag``
(``dag_id, logical_date, id``) for a DAG's grid. A tag filter is a range of ``run_tags``
(``ix_run_tags_key_value``: key, value, create_time, run row id) joined to the runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from deras._core.records import RunRecord
from deras._core.status import RunStatus

from .database import IN_BATCH, Database, in_batch, in_batch_params
from .escaping import escape_text
from .runs import run_record
from .schema import attempts, run_tags, runs

RunKey = tuple[float, int]
"""Where a run sits in a listing: (create_time or logical_date, id)."""


_NODE_STATUSES = (
    sa.select(attempts.c.run_id, attempts.c.node, attempts.c.status)
    .where(in_batch(attempts.c.run_id, "r"))
    .order_by(attempts.c.run_id, attempts.c.node, attempts.c.attempt)
)

_ATTEMPTS_OF_RUN = (
    sa.select(
        attempts.c.node,
        attempts.c.attempt,
        attempts.c.status,
        attempts.c.start_time,
        attempts.c.end_time,
        attempts.c.error,
    )
    .where(attempts.c.run_id == sa.bindparam("r"))
    .order_by(
        sa.func.coalesce(attempts.c.start_time, attempts.c.end_time), attempts.c.node, attempts.c.attempt
    )
)

AttemptRow = tuple[str, int, str, float | None, float | None, str | None]
"""``(node, attempt, status, start_time, end_time, error)`` of one attempt."""


class RunReads:
    """Pages of runs, windows of a DAG's runs, and the latest attempt of each node of many runs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def runs_page(
        self,
        *,
        limit: int,
        after: RunKey | None = None,
        statuses: Sequence[RunStatus] | None = None,
        target: str | None = None,
        dag_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        backfill_id: str | None = None,
    ) -> list[tuple[RunKey, RunRecord]]:
        """Up to ``limit`` runs after ``after``, newest first by (create_time, id), with their keys."""
        wanted = [(escape_text(str(k)), escape_text(str(v))) for k, v in (tags or {}).items()]
        if wanted:
            # The first tag's rows are the index range (ix_run_tags_key_value, newest first);
            # the runs are joined by row id, and any other tag must exist too.
            (key, value), others = wanted[0], wanted[1:]
            t = run_tags
            order: tuple[Any, Any] = (t.c.create_time, t.c.run_row_id)
            query = (
                sa.select(runs)
                .select_from(t.join(runs, runs.c.id == t.c.run_row_id))
                .where(t.c.key == key, t.c.value == value)
                .order_by(t.c.create_time.desc(), t.c.run_row_id.desc())
            )
            for other_key, other_value in others:
                other = run_tags.alias()
                query = query.where(
                    sa.exists().where(
                        other.c.run_id == runs.c.run_id,
                        other.c.key == other_key,
                        other.c.value == other_value,
                    )
                )
        else:
            order = (runs.c.create_time, runs.c.id)
            query = sa.select(runs).order_by(runs.c.create_time.desc(), runs.c.id.desc())
        if statuses:
            query = query.where(runs.c.status.in_([RunStatus(s).value for s in statuses]))
        if target is not None:
            query = query.where(runs.c.target == target)
        if dag_id is not None:
            query = query.where(runs.c.dag_id == dag_id)
        if backfill_id is not None:
            query = query.where(runs.c.backfill_id == backfill_id)
        if after is not None:
            query = query.where(
                sa.tuple_(*order) < sa.tuple_(sa.literal(after[0], sa.Double), sa.literal(after[1]))
            )
        with self._db.read() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [((row.create_time, row.id), run_record(row)) for row in rows]

    def dag_runs_window(
        self, dag_id: str, *, limit: int, before: RunKey | None = None
    ) -> list[tuple[RunKey, RunRecord]]:
        """A DAG's ``limit`` latest runs by logical date (before ``before``), latest first."""
        query = (
            sa.select(runs)
            .where(runs.c.dag_id == dag_id)
            .order_by(runs.c.logical_date.desc(), runs.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(_before(runs.c.logical_date, before))
        with self._db.read() as conn:
            return [((row.logical_date, row.id), run_record(row)) for row in conn.execute(query)]

    def node_statuses(self, run_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """``(run_id, node, status)`` of every attempt of the runs, each node's attempts in
        order (so the last one seen is the latest): one range of the attempts' primary key per
        run, fetched as plain tuples (125,000 for a 5,000-task DAG's 25 runs)."""
        if not run_ids:
            return []
        prepared = self._db.prepared(_NODE_STATUSES)
        out: list[tuple[str, str, str]] = []
        with self._db.read() as conn:
            for params in in_batch_params("r", list(run_ids)):
                result = conn.exec_driver_sql(prepared.sql, prepared.params(params))
                # The driver's own tuples: building 125,000 Core rows would double the time.
                out.extend(result.cursor.fetchall())
        return out

    def attempt_rows(self, run_id: str) -> list[AttemptRow]:
        """Every attempt of the run by start time (else end time), node and number, as the
        driver's tuples: a 5,000-task DAG run's attempts as records cost more than the read."""
        prepared = self._db.prepared(_ATTEMPTS_OF_RUN)
        with self._db.read() as conn:
            return conn.exec_driver_sql(prepared.sql, prepared.params({"r": run_id})).cursor.fetchall()

    def latest_runs_of_dags(self, dag_ids: Sequence[str]) -> dict[str, RunRecord]:
        """Each DAG's run with the latest logical date: one index probe per DAG, in one query."""
        found: dict[str, RunRecord] = {}
        with self._db.read() as conn:
            for start in range(0, len(dag_ids), IN_BATCH):
                chunk = dag_ids[start : start + IN_BATCH]
                latest = [
                    sa.select(runs.c.id)
                    .where(runs.c.dag_id == dag_id)
                    .order_by(runs.c.logical_date.desc(), runs.c.id.desc())
                    .limit(1)
                    .scalar_subquery()
                    for dag_id in chunk
                ]
                for row in conn.execute(sa.select(runs).where(runs.c.id.in_(latest))):
                    found[row.dag_id] = run_record(row)
        return found

    def count_by_status(self) -> dict[str, int]:
        """How many runs have each status (the ``ix_runs_status`` index, counted)."""
        query = sa.select(runs.c.status, sa.func.count()).group_by(runs.c.status)
        with self._db.read() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def count_by_status_since(self, since: float, *, unfinished: Sequence[RunStatus]) -> dict[str, int]:
        """How many runs have each status: every run of the ``unfinished`` statuses, and only the
        runs created since ``since`` of the others. Each count is a range of ``ix_runs_status``
        (status, create_time): the few runs in progress and a day of history, never the whole
        table (counting 100,000 runs by status took 30-80 ms on Postgres)."""
        counts = []
        for status in RunStatus:
            count = sa.select(sa.func.count()).where(runs.c.status == status.value)
            if status not in unfinished:
                count = count.where(runs.c.create_time >= since)
            counts.append(count.scalar_subquery().label(status.value))
        with self._db.read() as conn:
            row = conn.execute(sa.select(*counts)).one()
        return {status.value: int(n) for status, n in zip(RunStatus, row, strict=True)}

    def count_with_status(self, statuses: Sequence[RunStatus]) -> int:
        """How many runs have one of ``statuses`` (a range of ``ix_runs_status`` each)."""
        query = sa.select(sa.func.count()).where(runs.c.status.in_([RunStatus(s).value for s in statuses]))
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def step_duration_histogram(self, since: float, bounds: Sequence[float]) -> tuple[list[int], int, float]:
        """Attempts that ran, of the runs that ended after ``since`` (``ix_runs_end_time``, then
        their attempts by primary key), as a histogram counted in the database: ``(how many
        took at most each bound, how many in all, their total seconds)``."""
        ended = sa.select(runs.c.run_id).where(runs.c.end_time > since)
        took = attempts.c.end_time - attempts.c.start_time
        columns = [sa.func.count(), sa.func.coalesce(sa.func.sum(took), 0.0)]
        columns += [
            sa.func.coalesce(sa.func.sum(sa.case((took <= sa.literal(b, sa.Double), 1), else_=0)), 0)
            for b in bounds
        ]
        query = sa.select(*columns).where(
            attempts.c.run_id.in_(ended), attempts.c.start_time.is_not(None), attempts.c.end_time.is_not(None)
        )
        with self._db.read() as conn:
            row = conn.execute(query).one()
        return [int(n) for n in row[2:]], int(row[0]), float(row[1])


def _before(column: Any, key: RunKey) -> Any:
    """Rows after ``key`` in the descending order (sort column, id): a row-value comparison,
    which both databases answer as an index range."""
    return sa.tuple_(column, runs.c.id) < sa.tuple_(sa.literal(key[0], sa.Double), sa.literal(key[1]))
