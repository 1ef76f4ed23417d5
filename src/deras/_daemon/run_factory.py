"""Turning what the daemon decided (a tick's RunRequest, a due DAG run, a backfill unit) into
queued run records, each with the idempotency key that makes creating it exactly-once.

A queued run records everything a worker in another process needs to execute it: the code
location, the planned node ids, the partition (or logical date and conf), tags and config.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._core import tags as deras_tags
from .._core.errors import DerasError
from .._core.new_runs import new_run
from .._core.records import RunRecord, RunTarget

if TYPE_CHECKING:
    from .._instance.instance import DerasInstance

BACKFILL_PRIORITY = -10
"""Backfill runs queue behind scheduled and sensor runs (priority 0) unless tagged otherwise."""


class RunFactory:
    """Builds queued runs of one code location's jobs, asset selections and DAGs."""

    def __init__(self, definitions: Any, location: dict[str, str] | None, instance: DerasInstance) -> None:
        self.definitions = definitions
        self.location = location
        self.instance = instance

    def job_target(self, name: str) -> Any:
        """The AssetJob or DAG called ``name``."""
        for job in self.definitions.jobs:
            if getattr(job, "name", None) == name:
                return job
        for dag in self.definitions.dags:
            if dag.dag_id == name:
                return dag
        raise DerasError(f"no job or DAG named '{name}' in the code location")

    def for_request(
        self,
        request: Any,
        *,
        default_job: str | None,
        key: str,
        origin: Mapping[str, str],
        now: float | None = None,
        tick_time: datetime | None = None,
    ) -> RunRecord:
        """A queued run for a schedule's or sensor's ``RunRequest``; ``key`` makes it unique.

        A schedule's run of a DAG is a ``scheduled`` run whose logical date is the tick's
        ``tick_time`` (several ticks caught up in one pass must not share a logical date).
        """
        tags = {**(request.tags or {}), **origin}  # the daemon's own tags (tick id...) win
        if request.run_key is not None:
            tags[deras_tags.RUN_KEY] = str(request.run_key)
        selection = getattr(request, "asset_selection", None)
        job_name = getattr(request, "job_name", None) or default_job
        if selection is not None and not job_name:
            from .._graph.selection import resolve_selection

            node_ids = resolve_selection(self.definitions.asset_graph, selection)
            return self.for_assets(
                sorted(node_ids),
                partition_key=request.partition_key,
                tags=tags,
                run_config=request.run_config,
                key=key,
                now=now,
            )
        if not job_name:
            raise DerasError("the RunRequest names no job and its sensor or schedule targets none")
        target = self.job_target(job_name)
        if hasattr(target, "dag_id"):
            conf = dict(request.run_config or {})
            if tick_time is not None:
                from .._dags.dag_run import in_dag_timezone
                from .._dags.run_window import check_in_window

                check_in_window(target, in_dag_timezone(target, tick_time))
            return self.for_dag(
                target,
                logical_date=tick_time,
                run_type=tags.pop(deras_tags.RUN_TYPE, "manual" if tick_time is None else "scheduled"),
                conf=conf,
                tags=tags,
                key=key,
                now=now,
            )
        return self.for_assets(
            sorted(target.node_ids),
            partition_key=request.partition_key,
            tags={**target.tags, **tags},
            run_config=request.run_config,
            key=key,
            job_name=target.name,
            now=now,
        )

    def for_assets(
        self,
        node_ids: Sequence[str],
        *,
        key: str,
        partition_key: str | None = None,
        partition_range: tuple[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        run_config: Mapping[str, Any] | None = None,
        job_name: str | None = None,
        backfill_id: str | None = None,
        priority: int | None = None,
        validate: bool = True,
        now: float | None = None,
    ) -> RunRecord:
        """A queued run of ``node_ids`` (put in graph order); bad partition keys and a run config
        that does not validate raise here. A job's runs start from the job's own config."""
        from .._defs.run_config import check_run_config, merge_run_config, normalize_run_config

        graph = self.definitions.asset_graph
        if job_name is not None:
            job_config = getattr(self.job_target(job_name), "config", None)
            run_config = merge_run_config(job_config, normalize_run_config(run_config))
        if validate:
            from .._plan.plan import plan_run

            plan = plan_run(
                graph,
                node_ids=node_ids,
                partition_key=partition_key if partition_range is None else None,
                partition_keys=None if partition_range is None else list(partition_range),
                dynamic_partitions_store=self.instance.dynamic_partitions_store,
            )
            ordered = list(plan.node_ids)
        else:
            wanted = set(node_ids)
            ordered = [n for n in graph.order if n in wanted]
        if validate:
            run_config = check_run_config(
                (graph.nodes[n].config for n in ordered),
                run_config,
                known=(n.config for n in graph.nodes.values()),  # re-executions keep the parent's config
            )
        return new_run(
            RunTarget.job(job_name) if job_name else RunTarget.assets(),
            label=None if job_name else "assets:" + ",".join(ordered)[:200],
            selection=ordered,
            partition_key=partition_key if partition_range is None else None,
            partition_range=partition_range,
            tags=tags,
            run_config=run_config,
            code_location=self.location,
            backfill_id=backfill_id,
            create_time=now,
            idempotency_key=key,
            priority=priority,
        )

    def for_dag(
        self,
        dag: Any,
        *,
        logical_date: datetime | None,
        run_type: str,
        key: str,
        conf: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        backfill_id: str | None = None,
        priority: int | None = None,
        now: float | None = None,
    ) -> RunRecord:
        """A queued DAG run; its conf is validated against the DAG's params now, not in the worker."""
        from .._dags.dag_run import in_dag_timezone
        from .._defs.params import resolve_params

        resolve_params(dag.params, conf, where=f"DAG '{dag.dag_id}'")
        if logical_date is None:
            from datetime import UTC

            logical_date = dag.schedule.infer_logical_date(datetime.fromtimestamp(now or time.time(), UTC))
        return new_run(
            RunTarget.dag(dag.dag_id),
            selection=list(dag.graph.nodes),
            logical_date=in_dag_timezone(dag, logical_date),
            run_type=run_type,
            tags=tags,
            run_config={"conf": dict(conf or {})},
            code_location=self.location,
            backfill_id=backfill_id,
            create_time=now,
            idempotency_key=key,
            priority=priority,
        )
