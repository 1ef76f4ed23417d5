"""Launching a backfill: resolve its target and partitions, lay out its units, store it.

The backfill is stored whole (its record and every unit, pending) in one transaction before
any run exists; the BackfillRunner turns units into queued runs from then on. A DAG backfill's
"partitions" are the DAG's logical dates (ISO strings) between two dates.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .._core.errors import DerasError
from .._core.records import BackfillRecord, BackfillUnit
from .._core.status import BackfillStatus, UnitStatus

NO_PARTITION = ""
"""How a unit of unpartitioned nodes is keyed in storage (the key column is NOT NULL)."""


def resolve_target(definitions: Any, target: Any) -> tuple[dict[str, Any], Any]:
    """``(stored target, the job/DAG object or None)`` for a job or DAG (object or name), an
    asset selection string, or a list of assets/keys."""
    if hasattr(target, "dag_id"):
        return {"kind": "dag", "dag_id": target.dag_id}, _dag(definitions, target.dag_id)
    name = getattr(target, "name", None) if hasattr(target, "node_ids") else None
    if isinstance(target, str) and not any(c in target for c in "*+:,() "):
        name = target if _has_job_or_dag(definitions, target) else None
    if name is not None:
        for dag in definitions.dags:
            if dag.dag_id == name:
                return {"kind": "dag", "dag_id": name}, dag
        job = definitions.get_job(name)
        return {"kind": "job", "name": name, "node_ids": sorted(job.node_ids)}, job
    from .._graph.selection import resolve_selection

    node_ids = resolve_selection(definitions.asset_graph, target)
    label = target if isinstance(target, str) else ",".join(sorted(node_ids))[:200]
    return {"kind": "assets", "selection": label, "node_ids": sorted(node_ids)}, None


def _has_job_or_dag(definitions: Any, name: str) -> bool:
    return any(getattr(j, "name", None) == name for j in definitions.jobs) or any(
        d.dag_id == name for d in definitions.dags
    )


def _dag(definitions: Any, dag_id: str) -> Any:
    for dag in definitions.dags:
        if dag.dag_id == dag_id:
            return dag
    raise DerasError(f"DAG '{dag_id}' is not in the code location")


def launch_backfill(
    instance: Any,
    definitions: Any,
    location: dict[str, str] | None,
    target: Any,
    *,
    partition_keys: Sequence[str] | None = None,
    partition_range: tuple[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, Any] | None = None,
    parent_backfill_id: str | None = None,
    now: float | None = None,
) -> str:
    """Store a backfill of ``target`` over the partitions given; returns its id."""
    if not location:
        raise DerasError(
            "a backfill's runs execute in worker processes, which load the code again: pass "
            "code_location={'file': ...}, {'module': ...} or {'dags_folder': ...} (or set code_location in "
            "deras.yaml)"
        )
    stored, obj = resolve_target(definitions, target)
    if stored["kind"] == "dag":
        keys = _dag_dates(obj, partition_keys, partition_range)
        units = [BackfillUnit("", 0, key, None, i, UnitStatus.PENDING, None) for i, key in enumerate(keys)]
        stored["partitions"] = {"keys": keys}
    else:
        from .._plan.backfill_layout import BackfillLayout

        graph = definitions.asset_graph
        keys = _asset_keys(instance, graph, stored["node_ids"], partition_keys, partition_range)
        layout = BackfillLayout.build(
            graph, stored["node_ids"], keys, dynamic_partitions_store=instance.dynamic_partitions_store
        )
        stored["partitions"] = {"keys": keys}
        position: dict[int, int] = {}
        units = []
        for spec in layout.units:
            idx = position.get(spec.stage, 0)
            position[spec.stage] = idx + 1
            units.append(
                BackfillUnit(
                    "",
                    spec.stage,
                    spec.partition_key or NO_PARTITION,
                    spec.partition_last if spec.partition_last != spec.partition_key else None,
                    idx,
                    UnitStatus.PENDING,
                    None,
                )
            )
    if not units:
        raise DerasError("the backfill has no partitions to run")
    backfill_id = uuid.uuid4().hex[:12]
    for unit in units:
        unit.backfill_id = backfill_id
    record = BackfillRecord(
        backfill_id=backfill_id,
        status=BackfillStatus.REQUESTED,
        target=stored,
        code_location=dict(location),
        tags=dict(tags or {}),
        run_config=dict(run_config or {}),
        parent_backfill_id=parent_backfill_id,
        num_units=len(units),
        create_time=now or time.time(),
    )
    instance.store.backfills.create_backfill(record, units)
    return backfill_id


def _asset_keys(
    instance: Any,
    graph: Any,
    node_ids: Sequence[str],
    keys: Sequence[str] | None,
    key_range: tuple[str, str] | None,
) -> list[str]:
    pdefs = {graph.nodes[n].partitions_def for n in node_ids if graph.nodes[n].partitions_def is not None}
    if not pdefs:
        if keys is not None or key_range is not None:
            raise DerasError(
                f"{', '.join(node_ids)[:200]}: not partitioned, so a backfill of it takes no partition "
                "keys or range; run it once with `deras materialize` instead"
            )
        return []
    if keys is not None:
        return list(keys)
    pdef = next(iter(pdefs))
    store = instance.dynamic_partitions_store
    if key_range is not None:
        first, last = key_range
        for key in (first, last):
            pdef.validate_partition_key(key, dynamic_partitions_store=store)
        return list(pdef.get_partition_keys_in_range(first, last, dynamic_partitions_store=store))
    return list(pdef.get_partition_keys(dynamic_partitions_store=store))


def _dag_dates(dag: Any, keys: Sequence[str] | None, key_range: tuple[str, str] | None) -> list[str]:
    """The logical dates of a DAG backfill: the dates given (each must lie in the DAG's window),
    or the scheduled dates of the range that lie in it."""
    from .._dags.dag_run import in_dag_timezone
    from .._dags.run_window import check_in_window, describe_window, scheduled_dates

    if keys is not None:
        dates = [in_dag_timezone(dag, datetime.fromisoformat(k)) for k in keys]
        for date in dates:
            check_in_window(dag, date)
        return [d.isoformat() for d in dates]
    if key_range is None:
        raise DerasError(f"a backfill of DAG '{dag.dag_id}' needs a date range (start, end) or dates")
    start, end = (in_dag_timezone(dag, datetime.fromisoformat(k)) for k in key_range)
    if not dag.schedule.is_periodic:
        raise DerasError(f"DAG '{dag.dag_id}' has no periodic schedule to backfill")
    inside, outside = scheduled_dates(dag, start, end)
    if outside and not inside:
        raise DerasError(
            f"DAG '{dag.dag_id}' runs {describe_window(dag)} (start_date to end_date): none of its "
            f"logical dates from {start.isoformat()} to {end.isoformat()} lies in that window, so "
            "nothing would run"
        )
    return [d.isoformat() for d in inside]


@dataclass(frozen=True)
class BackfillView:
    """A backfill as the instance API shows it: its record, and each partition's status.

    A partition's status is its latest stage's unit status: ``success`` once every stage of
    it succeeded, ``failure`` if a stage failed, ``skipped`` if an upstream partition failed.
    """

    record: BackfillRecord
    units: list[BackfillUnit]
    unit_counts: dict[str, int] | None = None  # a summary (listings) carries counts, not units

    @classmethod
    def summary(cls, record: BackfillRecord, counts: dict[Any, int]) -> BackfillView:
        """A view for listings: counts from one aggregate query instead of every unit."""
        return cls(record, [], {str(k): v for k, v in counts.items()})

    @property
    def backfill_id(self) -> str:
        return self.record.backfill_id

    @property
    def status(self) -> BackfillStatus:
        return self.record.status

    @property
    def partition_status(self) -> dict[str, str]:
        from .._instance.views.backfills import partition_progress

        return {p.partition_key: p.status for p in partition_progress(self.record, self.units)}

    @property
    def counts(self) -> dict[str, int]:
        if self.unit_counts is not None:
            return dict(self.unit_counts)
        out = {str(s): 0 for s in UnitStatus}
        for unit in self.units:
            out[str(unit.status)] += 1
        return out

    @property
    def run_ids(self) -> list[str]:
        return [u.run_id for u in self.units if u.run_id]

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "backfill_id": r.backfill_id,
            "status": str(r.status),
            "target": {k: v for k, v in r.target.items() if k != "partitions"},
            "num_partitions": len(r.target.get("partitions", {}).get("keys", [])),
            "num_units": r.num_units,
            "counts": self.counts,
            "parent_backfill_id": r.parent_backfill_id,
            "create_time": r.create_time,
            "end_time": r.end_time,
            "error": r.error,
        }
