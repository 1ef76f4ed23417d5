"""AssetTrigger: runs that follow materializations — asset-scheduled DAGs and automation conditions.

It reads the materializations stored since its cursor (one indexed query per pass) and:

- a DAG with ``schedule=[dg.AssetKey("a"), ...]`` gets an ``asset_triggered`` run once every
  one of its assets has been materialized since its last such run (Airflow's rule);
- an asset with ``AutomationCondition.eager()`` is materialized when an upstream asset (the
  same partition, for partitioned ones) has a newer materialization than it has, it is not
  already in a queued or running run, and none of its upstreams is (or was never materialized);
- an asset with ``AutomationCondition.on_cron(cron)`` is materialized once per cron tick, as
  soon as every upstream asset has been materialized since that tick (roots: at the tick).

The cursor, the DAGs' pending assets and each cron condition's tick live in one state row,
written after the runs are created; run keys derived from the triggering event ids make a
repeat after a crash create nothing new.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from .._core import tags as deras_tags
from .._core.keys import AssetKey
from .._core.status import RunStatus
from .._dags.run_window import outside_window
from .daemon_context import DaemonContext

log = logging.getLogger("deras.daemon.automation")

STATE = "automation:assets"
_BATCH = 1000


class AssetTrigger:
    name = "automation"

    def __init__(self, ctx: DaemonContext) -> None:
        self.ctx = ctx
        graph = ctx.definitions.asset_graph
        self._dags = [d for d in ctx.definitions.dags if d.schedule.kind == "assets"]
        self._eager: dict[str, Any] = {}
        self._cron: dict[str, Any] = {}
        for nid, node in graph.nodes.items():
            condition = getattr(node, "automation_condition", None)
            if condition is None:
                continue
            (self._eager if condition.kind == "eager" else self._cron)[nid] = condition

    @property
    def active(self) -> bool:
        return bool(self._dags or self._eager or self._cron)

    def tick(self, now: float) -> None:
        if not self.active:
            return
        store = self.ctx.store
        state = store.ticks.get_state(STATE)
        if state is None or not state.cursor:
            latest = store.get_latest_materialization_event_ids(
                [str(k) for k in self.ctx.definitions.asset_graph.asset_nodes]
            )
            memo: dict[str, Any] = {"event_id": max(latest.values(), default=0), "dags": {}, "cron": {}}
        else:
            memo = json.loads(state.cursor)
        before = memo["event_id"]
        new = store.get_materializations_after(before, limit=_BATCH)
        runs: list[Any] = []
        if new:
            memo["event_id"] = new[-1].event_id
            runs += self._dag_runs(new, memo, now)
            runs += self._eager_runs(new, now)
        runs += self._cron_runs(memo, now, before, new)
        if runs:
            self.ctx.create_runs(runs)
        if new or runs or state is None or memo.get("changed"):
            memo.pop("changed", None)
            store.ticks.set_cursor(STATE, json.dumps(memo), now)

    # -- DAGs on assets ---------------------------------------------------------------------
    def _dag_runs(self, new: list[Any], memo: dict[str, Any], now: float) -> list[Any]:
        runs = []
        updated = {m.asset_key for m in new}
        moment = datetime.fromtimestamp(now, UTC)
        for dag in self._dags:
            if outside_window(dag, moment) is not None:  # not started yet, or ended
                continue
            wanted = {str(k) for k in dag.schedule.asset_keys}
            pending = set(memo["dags"].get(dag.dag_id, [])) | (wanted & updated)
            if pending >= wanted:
                key = f"dag:{dag.dag_id}:assets:{memo['event_id']}"
                runs.append(
                    self.ctx.factory.for_dag(
                        dag,
                        logical_date=moment,
                        run_type="asset_triggered",
                        key=key,
                        tags={deras_tags.TRIGGERED_BY: ",".join(sorted(wanted))},
                        now=now,
                    )
                )
                pending = set()
            memo["dags"][dag.dag_id] = sorted(pending)
        return runs

    # -- eager --------------------------------------------------------------------------------
    def _eager_runs(self, new: list[Any], now: float) -> list[Any]:
        if not self._eager:
            return []
        graph = self.ctx.definitions.asset_graph
        busy = self._busy_nodes()
        by_partition: dict[str | None, set[str]] = defaultdict(set)
        newest: dict[tuple[str, str | None], int] = {}
        for m in new:
            newest[(m.asset_key, m.partition)] = m.event_id
        for (key, partition), event_id in newest.items():
            source = graph.asset_nodes.get(AssetKey.from_user_string(key))
            if source is None:
                continue
            for nid in graph.downstream.get(source, []):
                if nid not in self._eager or nid in busy or nid == source:
                    continue
                node = graph.nodes[nid]
                part = partition if node.partitions_def is not None else None
                if node.partitions_def is not None and partition is None:
                    continue  # an unpartitioned upstream does not say which partition to run
                if self._is_newer_than(nid, part, event_id) or self._upstream_not_ready(nid, part, busy):
                    continue
                by_partition[part].add(nid)
        return [
            self.ctx.factory.for_assets(
                sorted(nodes),
                partition_key=part,
                key=f"automation:eager:{new[-1].event_id}:{part}",
                tags={deras_tags.AUTOMATION: "eager"},
                now=now,
            )
            for part, nodes in by_partition.items()
        ]

    def _is_newer_than(self, nid: str, partition: str | None, event_id: int) -> bool:
        node = self.ctx.definitions.asset_graph.nodes[nid]
        for key in node.asset_keys:
            latest = self.ctx.store.get_latest_materialization(str(key), partition)
            if latest is None or latest.event_id < event_id:
                return False
        return True

    def _upstream_not_ready(self, nid: str, partition: str | None, busy: set[str]) -> bool:
        """Whether an upstream of ``nid`` is being materialized or was never materialized.

        Either way the run would be wasted (it would run again once that upstream lands) or
        fail (an input that was never stored): the upstream's materialization triggers it later.
        """
        graph = self.ctx.definitions.asset_graph
        node = graph.nodes[nid]
        for up_id in graph.upstream.get(nid, []):
            if up_id in busy:
                return True
            up = graph.nodes[up_id]
            same = partition is not None and up.partitions_def == node.partitions_def
            for key in up.asset_keys:
                if self.ctx.store.get_latest_materialization(str(key), partition if same else None) is None:
                    return True
        return False

    def _busy_nodes(self) -> set[str]:
        runs = self.ctx.store.get_runs(status=[RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTED])
        return {n for r in runs for n in r.selection or ()}

    # -- on_cron ------------------------------------------------------------------------------
    def _cron_runs(self, memo: dict[str, Any], now: float, before: int, new: list[Any]) -> list[Any]:
        runs = []
        graph = self.ctx.definitions.asset_graph
        for nid, condition in self._cron.items():
            entry = memo["cron"].get(nid)
            if entry is None:  # first sight: wait for the next tick
                memo["cron"][nid] = {"tick": now, "pending": False}
                memo["changed"] = True
                continue
            ticks = condition.tick_times_between(
                datetime.fromtimestamp(entry["tick"], UTC), datetime.fromtimestamp(now, UTC)
            )
            if ticks:
                # What this pass read that was stored by the tick is before it; the rest after.
                tick = ticks[-1].timestamp()
                baseline = max([before, *(m.event_id for m in new if m.timestamp <= tick)])
                entry.update(tick=tick, pending=True, baseline=baseline)
                memo["changed"] = True
            if not entry.get("pending"):
                continue
            ups = [str(k) for u in graph.upstream[nid] for k in graph.nodes[u].asset_keys]
            latest = self.ctx.store.get_latest_materialization_event_ids(ups) if ups else {}
            if all(latest.get(k, 0) > entry.get("baseline", 0) for k in ups):
                runs.append(
                    self.ctx.factory.for_assets(
                        [nid],
                        key=f"automation:cron:{nid}:{entry['tick']:.6f}",
                        tags={deras_tags.AUTOMATION: "on_cron"},
                        now=now,
                    )
                )
                entry["pending"] = False
                memo["changed"] = True
        return runs
