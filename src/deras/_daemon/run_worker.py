"""Executing a stored run in this process: what ``deras run-worker RUN_ID`` and pool workers do.

A queued run carries everything needed to execute it (code location, selection, partition or
logical date, config), so any process that can open the instance can pick it up. While it
runs, the process's heartbeat thread stamps the run every few seconds (the run monitor fails a
run whose process is gone or whose stamps stop) and hears of cancel requests (``canceling``).
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from typing import TYPE_CHECKING, Any

from .._core.errors import DerasError
from .._core.events import EventRecord, EventType
from .._core.records import RunRecord
from .._core.status import RunStatus
from .._defs.code_cache import CodeCache
from .._exec.process_heartbeat import process_heartbeat
from .._exec.run_control import StoredRunControl
from .._exec.run_owner import this_process
from .crash_points import crash_point

if TYPE_CHECKING:
    from .._instance.instance import DerasInstance
    from .._storage.store import MetadataStore

log = logging.getLogger("deras.run_worker")


def execute_stored_run(
    instance: DerasInstance,
    run_id: str,
    *,
    code: CodeCache | None = None,
    heartbeat_interval: float | None = None,
) -> RunStatus:
    """Execute the stored run ``run_id`` here and return how it ended.

    A ``queued`` run is claimed first (so a run started by hand and by the daemon executes
    once); a ``starting`` one was claimed by the run queue for this process. Anything that
    goes wrong before the first node (code that does not import, a DAG that is gone, bad
    conf) fails the run with the error in its event log.
    """
    store = instance.store
    run = instance.get_run(run_id)
    if run is None:
        raise DerasError(f"no run with id {run_id}")
    if run.status == RunStatus.QUEUED:
        if not store.run_queue.claim([run_id], time.time(), this_process()):
            raise DerasError(f"run {run_id} was claimed by another worker")
        run.status = RunStatus.STARTING
    elif run.status == RunStatus.CANCELING and run.start_time is None:
        # Canceled between the run queue's claim and this worker: it ends canceled, not run
        # (left canceling, the run monitor would fail it once this process had exited).
        event = EventRecord(run_id, EventType.RUN_CANCELED, message="canceled before it started")
        store.store_events([event])
        return RunStatus.CANCELED
    elif run.status != RunStatus.STARTING:
        raise DerasError(f"run {run_id} is {run.status}; only a queued or starting run can be executed")
    elif not store.run_queue.take(run_id, time.time(), this_process()):
        raise DerasError(f"run {run_id} was taken by another worker, or put back in the queue")
    settings = instance.daemon_settings
    control = StoredRunControl(store, run_id, settings.pools)
    interval = heartbeat_interval or settings.run_monitoring.heartbeat_interval_seconds
    # claim() or take() stamped the first heartbeat: one transaction fewer per run.
    crash_point("run worker started")
    try:
        # From before the code loads (which may take long) to the run's end; the executor's
        # own stamping of the run joins this one.
        with process_heartbeat().beating(store, run_id, control, interval):
            try:
                definitions = (code or CodeCache()).definitions(_location(run))
                status = _execute(instance, run, definitions, control)
            except Exception as err:
                _fail_before_start(store, run, err)
                status = RunStatus.FAILURE
    finally:
        if control.claimed_slots:  # normally released node by node; this is the safety net
            store.slots.release_run(run_id)
    return status


def _location(run: RunRecord) -> dict[str, str]:
    if not run.code_location:
        raise DerasError(f"run {run.run_id} recorded no code location to load")
    return dict(run.code_location)


def _execute(
    instance: DerasInstance, run: RunRecord, definitions: Any, control: StoredRunControl
) -> RunStatus:
    dag_id = run.dag_id
    if dag_id is not None:
        from .._exec.dag_runs import run_dag

        dag = next((d for d in definitions.dags if d.dag_id == dag_id), None)
        if dag is None:
            raise DerasError(f"run {run.run_id}: DAG '{dag_id}' is no longer in its code location")
        dag_run = run_dag(
            dag,
            instance,
            logical_date=run.logical_date,
            conf=(run.run_config or {}).get("conf"),
            run_type=run.run_type or "manual",
            run=run,
            control=control,
            executor=dag.executor or definitions.executor,
        )
        stored = instance.get_run(dag_run.run_id)
        return stored.status if stored is not None else RunStatus.FAILURE
    from .._exec.launch import execute_run
    from .._plan.plan import plan_run, run_partition_keys

    graph = definitions.asset_graph
    missing = [n for n in run.selection or [] if n not in graph.nodes]
    if missing:
        raise DerasError(f"run {run.run_id}: {missing} no longer exist in its code location")
    keys = run_partition_keys(graph, run.selection or [], run.partition_key, run.partition_range)
    plan = plan_run(
        graph,
        node_ids=run.selection or [],
        partition_keys=keys,
        dynamic_partitions_store=instance.dynamic_partitions_store,
    )
    job = next((j for j in definitions.jobs if j.name == run.job_name), None) if run.job_name else None
    result = execute_run(
        instance,
        plan,
        definitions.resources,
        target=run.run_target,
        run=run,
        control=control,
        executor=getattr(job, "executor", None) or definitions.executor,
    )
    return result.run.status


def _fail_before_start(store: MetadataStore, run: RunRecord, err: BaseException) -> None:
    current = store.get_run(run.run_id)
    if current is not None and current.status.is_finished:
        return  # the executor recorded the failure itself
    message = f"run {run.run_id} could not start: {err}"
    log.error(message)
    store.store_events(
        [
            EventRecord(
                run.run_id,
                EventType.RUN_FAILURE,
                message=message,
                level="ERROR",
                data={"error": str(err), "traceback": traceback.format_exc()},
            )
        ]
    )


def serve(instance: DerasInstance, preload: dict[str, str] | None = None) -> None:
    """A pool worker: read run ids from stdin, execute each, answer ``done RUN_ID STATUS``.

    The protocol keeps the process's original stdout to itself, on a descriptor children do
    not inherit; fd 1 and ``sys.stdout`` are pointed at stderr so that what user code prints
    outside nodes (at import) cannot corrupt it. Inside a node, fds 1 and 2 are captured into
    the run's log (masked), so neither the protocol nor the daemon's log sees them.
    """
    import sys

    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    code = CodeCache()
    if preload:
        try:
            code.definitions(preload)
        except Exception:  # the run that needs it will fail with the error
            log.warning("could not preload %s", preload, exc_info=True)
    # Everything a run needs before its first node, imported now rather than during it.
    try:
        instance.store  # noqa: B018 - opens the database
        instance.daemon_settings  # noqa: B018 - pydantic
        import deras._exec.launch
        import deras._plan.plan  # noqa: F401
    except Exception:  # each run will fail with the error; dying here would respawn forever
        log.warning("worker warm-up failed", exc_info=True)

    replies.write("ready\n")
    for line in sys.stdin:
        run_id = line.strip()
        if not run_id:
            continue
        try:
            status = str(execute_stored_run(instance, run_id, code=code))
        except Exception:
            log.exception("run %s", run_id)
            status = "error"
        try:
            replies.write(f"done {run_id} {status}\n")
        except BrokenPipeError:  # the daemon is gone (killed): nobody to answer or to send more
            os.dup2(os.open(os.devnull, os.O_WRONLY), replies.fileno())  # no error again at exit
            return
