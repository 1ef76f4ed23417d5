"""Turning a ``LaunchRequest`` into queued work, inside the code server (which holds the code).

Runs are built by the daemon's ``RunFactory`` and stored QUEUED (the daemon's run queue then
starts them in worker processes); backfills go through ``launch_backfill``; a re-execution is
planned by ``plan_reexecution`` and queued as a child run. Whatever the request names that the
code does not have raises ``LaunchRejected`` before anything is written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from .._core.errors import DerasError
from .client import same_source
from .request import LaunchRejected, LaunchRequest, LaunchResult

__all__ = ["LaunchRejected", "LaunchRequest", "LaunchResult", "launch"]


def launch(
    request: LaunchRequest, *, definitions: Any, location: dict[str, str], instance: Any
) -> LaunchResult:
    """Queue what ``request`` asks for; ``LaunchRejected`` (nothing written) if it cannot be."""
    from .._daemon.run_factory import RunFactory

    factory = RunFactory(definitions, location, instance)
    try:
        kind = request.target_kind
        if kind == "backfill":
            return LaunchResult(backfill_id=_backfill(request, definitions, location, instance))
        if kind == "clear":
            return LaunchResult(run_id=_clear(request, definitions, location, instance))
        if kind == "reexecute":
            run = _reexecution(request, definitions, location, instance)
        elif kind == "dag_id":
            run = _dag_run(request, factory)
        else:
            run = _asset_run(request, factory)
    except DerasError as err:
        raise LaunchRejected(str(err)) from err
    created = instance.store.create_runs([run])
    if created:
        return LaunchResult(run_id=created[0].run_id)
    existing = instance.store.get_run_by_idempotency_key(run.idempotency_key)  # the same request again
    assert existing is not None
    return LaunchResult(run_id=existing.run_id)


def _key(request: LaunchRequest) -> str:
    return f"launch:{request.request_id}"


def _asset_run(request: LaunchRequest, factory: Any) -> Any:
    from .._graph.selection import resolve_selection

    if request.job is not None:
        target = _job(factory.definitions, request.job)
        node_ids, job_name, tags = sorted(target.node_ids), target.name, {**target.tags, **request.tags}
    else:
        node_ids = sorted(resolve_selection(factory.definitions.asset_graph, request.selection))
        job_name, tags = None, dict(request.tags)
    return factory.for_assets(
        node_ids,
        key=_key(request),
        partition_key=request.partition,
        partition_range=request.partition_range,
        tags=tags,
        run_config=request.config,
        job_name=job_name,
    )


def _job(definitions: Any, name: str) -> Any:
    from .._defs.job import AssetJob

    jobs = [j for j in definitions.jobs if isinstance(j, AssetJob)]
    for job in jobs:
        if job.name == name:
            return job
    if any(d.dag_id == name for d in definitions.dags):
        raise DerasError(f'\'{name}\' is a DAG, not an asset job: launch it with {{"dag_id": "{name}"}}')
    raise DerasError(f"no job named '{name}' (jobs: {sorted(j.name for j in jobs)})")


def _dag(definitions: Any, dag_id: str) -> Any:
    for dag in definitions.dags:
        if dag.dag_id == dag_id:
            return dag
    raise DerasError(f"no DAG named '{dag_id}' (DAGs: {sorted(d.dag_id for d in definitions.dags)})")


def _dag_run(request: LaunchRequest, factory: Any) -> Any:
    from .._dags.dag_run import in_dag_timezone
    from .._dags.run_window import check_in_window

    assert request.dag_id is not None
    dag = _dag(factory.definitions, request.dag_id)
    if request.partition is not None or request.partition_range is not None:
        raise DerasError(f"DAG '{dag.dag_id}' runs for a logical_date, not a partition")
    if request.logical_date is not None:
        try:
            logical_date = datetime.fromisoformat(request.logical_date)
        except ValueError:
            raise DerasError(
                f"logical_date {request.logical_date!r} is not a date: use YYYY-MM-DD or an ISO datetime"
            ) from None
    else:
        logical_date = dag.schedule.infer_logical_date(datetime.now(UTC))
    logical_date = in_dag_timezone(dag, logical_date)  # naive: a wall time of the DAG's timezone
    check_in_window(dag, logical_date)
    return factory.for_dag(
        dag,
        logical_date=logical_date,
        run_type="manual",
        key=_key(request),
        conf=request.conf,
        tags=request.tags,
    )


def _backfill(request: LaunchRequest, definitions: Any, location: dict[str, str], instance: Any) -> str:
    spec = dict(request.backfill or {})
    named = [k for k in ("selection", "job", "dag_id") if spec.get(k) is not None]
    if len(named) != 1:
        raise DerasError('a backfill names one of "selection", "job" or "dag_id"')
    target = spec.pop(named[0])
    if named[0] == "job":
        target = _job(definitions, target).name
    elif named[0] == "dag_id":
        target = _dag(definitions, target)
    keys, key_range = spec.pop("partitions", None), spec.pop("partition_range", None)
    tags = spec.pop("tags", None) or request.tags
    run_config = spec.pop("config", None) or request.config
    if spec:
        raise DerasError(f"unknown backfill field(s) {sorted(spec)}: use partitions or partition_range")
    if keys is not None and key_range is not None:
        raise DerasError("a backfill takes partitions or partition_range, not both")
    if keys is not None and not (isinstance(keys, list) and all(isinstance(k, str) for k in keys) and keys):
        raise DerasError("backfill partitions: a non-empty list of partition keys")
    if key_range is not None and not (
        isinstance(key_range, list | tuple)
        and len(key_range) == 2
        and all(isinstance(k, str) for k in key_range)
    ):
        raise DerasError('backfill partition_range: [first, last], e.g. ["2025-01-01", "2025-01-31"]')
    return str(
        instance.launch_backfill(
            target,
            partition_keys=keys,
            partition_range=tuple(key_range) if key_range is not None else None,
            definitions=definitions,
            code_location=location,
            tags=tags,
            run_config=run_config,
        )
    )


def _reexecution(request: LaunchRequest, definitions: Any, location: dict[str, str], instance: Any) -> Any:
    from .._core.new_runs import new_run
    from .._exec.reexecute import plan_reexecution

    assert request.reexecute is not None
    parent = instance.get_run(request.reexecute)
    if parent is None:
        raise DerasError(f"no run with id {request.reexecute}")
    _same_location(parent, location)
    again = plan_reexecution(
        instance, parent.run_id, from_failure=request.from_failure, definitions=definitions
    )
    return new_run(
        parent.run_target,
        selection=again.plan.node_ids,
        label=parent.target,
        partition_key=again.plan.partition_key,
        partition_range=again.plan.partition_range,
        tags={**again.tags, **request.tags},
        run_config=parent.run_config,
        code_location=parent.code_location or location,
        parent=parent,
        idempotency_key=_key(request),
        priority=parent.priority,
    )


def _same_location(run: Any, location: dict[str, str]) -> None:
    """A run launched from another code location is checked against that code, not this one."""
    recorded = run.code_location or {}
    theirs = [recorded[k] for k in ("file", "module", "dags_folder") if recorded.get(k)]
    if theirs and not same_source(recorded, location):
        raise DerasError(f"run {run.run_id} ran code from {theirs[0]}, which this code location is not")


def _clear(request: LaunchRequest, definitions: Any, location: dict[str, str], instance: Any) -> str:
    """Check the clear, then run ``deras tasks clear`` in a process of its own (it executes the
    tasks, which the code server must not: a long task would hold it)."""
    spec = dict(request.clear or {})
    run_id, task_ids, downstream = spec.get("run_id"), spec.get("task_ids"), spec.get("downstream", False)
    if not isinstance(run_id, str):
        raise DerasError('clear needs "run_id": the DAG run whose task instances to run again')
    if not (isinstance(task_ids, list) and task_ids and all(isinstance(t, str) for t in task_ids)):
        raise DerasError('clear needs "task_ids": a non-empty list of task ids')
    run = instance.get_run(run_id)
    if run is None:
        raise DerasError(f"no run with id {run_id}")
    if run.dag_id is None:
        raise DerasError(f"run {run_id} is not a DAG run: re-execute it instead")
    _same_location(run, location)
    dag = _dag(definitions, run.dag_id)
    for task_id in task_ids:
        dag.get_task(task_id)  # an unknown task raises, naming the DAG's tasks
    if not run.status.is_finished:
        raise DerasError(f"run {run_id} is {run.status}: clear its tasks once it has finished")
    flags = {"file": "-f", "module": "-m", "dags_folder": "-d"}
    source = [a for key, flag in flags.items() if key in location for a in (flag, location[key])]
    argv = [sys.executable, "-m", "deras", "tasks", "clear", dag.dag_id, "--run", run_id]
    argv += [a for t in task_ids for a in ("--task", t)] + (["--downstream"] if downstream else []) + source
    subprocess.Popen(
        argv,
        cwd=location.get("working_dir") or os.getcwd(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives the code server: a reload must not stop it halfway
    )
    return run_id
