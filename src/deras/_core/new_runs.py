"""Making run records: every new RunRecord deras creates is built here.

:func:`new_run` makes a run of a target (``execute_run`` for ``materialize``, re-executions,
debug runs and ``run_dag``; the daemon's ``RunFactory`` for schedules, sensors, backfills and
asset triggers); :func:`retry_of` the run monitor's retries. Both fill the columns a run is
looked up by (``dag_id``, ``logical_date``, ``run_type``, ``job_name``) and the deras tags
that repeat them, from one typed :class:`RunTarget`, so they cannot disagree.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from . import tags as deras_tags
from .errors import DerasError
from .records import RunRecord, RunTarget, TargetKind
from .status import RunStatus


def new_run_id() -> str:
    return str(uuid.uuid4())


def new_run(
    target: RunTarget,
    *,
    selection: Sequence[str],
    label: str | None = None,
    status: RunStatus = RunStatus.QUEUED,
    partition_key: str | None = None,
    partition_range: tuple[str, str] | None = None,
    logical_date: datetime | None = None,
    run_type: str | None = None,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, Any] | None = None,
    code_location: Mapping[str, str] | None = None,
    parent: RunRecord | None = None,
    backfill_id: str | None = None,
    idempotency_key: str | None = None,
    priority: int | None = None,
    create_time: float | None = None,
) -> RunRecord:
    """A new run of ``target`` (not stored yet), with a new id.

    A DAG run needs an aware ``logical_date`` (in the DAG's timezone: its tag keeps that
    calendar's text) and a ``run_type``; other runs take neither. ``label`` defaults to the
    target's. The tag ``deras/priority`` wins over ``priority``. ``parent`` makes this a run
    made from another one (its parent and root run ids).
    """
    all_tags = dict(tags or {})
    dag_id: str | None = None
    if target.kind is TargetKind.DAG:
        if logical_date is None or logical_date.tzinfo is None or run_type is None:
            raise ValueError("a DAG run needs an aware logical_date and a run_type")
        dag_id = target.name
        all_tags.update(
            {
                deras_tags.DAG_ID: target.name or "",
                deras_tags.RUN_TYPE: run_type,
                deras_tags.LOGICAL_DATE: logical_date.isoformat(),
            }
        )
        logical_date = logical_date.astimezone(UTC)
    elif logical_date is not None or run_type is not None:
        raise ValueError(f"a run of {target.label} has no logical_date or run_type")
    return RunRecord(
        run_id=new_run_id(),
        target=label or target.label,
        status=status,
        job_name=target.name,
        partition_key=partition_key,
        partition_range=partition_range,
        tags=all_tags,
        run_config=dict(run_config or {}),
        selection=list(selection),
        code_location=None if code_location is None else dict(code_location),
        parent_run_id=None if parent is None else parent.run_id,
        root_run_id=None if parent is None else parent.root_run_id or parent.run_id,
        backfill_id=backfill_id,
        create_time=create_time or time.time(),
        idempotency_key=idempotency_key,
        priority=run_priority(all_tags, priority),
        dag_id=dag_id,
        logical_date=logical_date,
        run_type=run_type,
    )


def retry_of(
    run: RunRecord, number: int, *, selection: Sequence[str], idempotency_key: str, create_time: float
) -> RunRecord:
    """A queued retry of ``run`` (its ``number``-th): the same target, partition, DAG run and
    config, of ``selection`` (all of ``run``'s nodes, or those left from its failure)."""
    retry = new_run(
        run.run_target,
        selection=selection,
        label=run.target,
        partition_key=run.partition_key,
        partition_range=run.partition_range,
        logical_date=run.logical_date,
        run_type=run.run_type,
        tags={**run.tags, deras_tags.RETRY_NUMBER: str(number), deras_tags.PARENT_RUN_ID: run.run_id},
        run_config=run.run_config,
        code_location=run.code_location,
        parent=run,
        backfill_id=run.backfill_id,
        idempotency_key=idempotency_key,
        priority=run.priority,
        create_time=create_time,
    )
    if deras_tags.LOGICAL_DATE in run.tags:  # as the DAG's calendar wrote it, not in UTC
        retry.tags[deras_tags.LOGICAL_DATE] = run.tags[deras_tags.LOGICAL_DATE]
    return retry


def run_priority(tags: Mapping[str, str], default: int | None) -> int:
    """The run's queue priority: its ``deras/priority`` tag, else ``default``, else 0."""
    text = tags.get(deras_tags.PRIORITY)
    if text is not None:
        try:
            return int(text)
        except ValueError:
            raise DerasError(
                f"tag {deras_tags.PRIORITY}={text!r} is not an integer: give a whole number, e.g. '5'"
            ) from None
    return default or 0
