"""RunQueue: starts queued runs, highest priority first, within the instance's limits.

Limits: ``max_concurrent_runs``; ``tag_concurrency_limits`` (per tag value, or per each value
of a key); a DAG's ``max_active_runs``; pools (a run waits in the queue while a pool one of
its nodes needs has no free slot — counting the runs started in the same pass — rather than
holding a worker while it waits for one). A run that does not fit stays queued and does not
block lower-priority runs that do fit. The limits are checked by the daemon that claims: two
daemons deciding at the same instant may together exceed a run limit (pool slots, claimed
per node in the database, cannot be exceeded).

Claiming is one transaction that moves runs from queued to starting only if they are still
queued (row locks with SKIP LOCKED on Postgres), so two daemons never launch a run twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

from .._core.records import RunRecord
from .crash_points import crash_point
from .daemon_context import DaemonContext
from .launcher import RunLauncher

log = logging.getLogger("deras.daemon.queue")

_SCAN = 1000  # at most this many queued runs are looked at per pass (fewer with few free workers)


class RunQueue:
    name = "run_queue"

    def __init__(self, ctx: DaemonContext, launcher: RunLauncher) -> None:
        self.ctx = ctx
        self.launcher = launcher
        self.ended: list[tuple[str, int | None]] = []  # processes that ended, for the run monitor
        self.launched = 0
        self.ended_count = 0  # runs whose process reported their end, ever
        self._dags = {d.dag_id: d for d in ctx.definitions.dags}

    def tick(self, now: float) -> list[str]:
        """Launch what fits; returns the run ids launched."""
        polled = self.launcher.poll()
        self.ended.extend(polled)
        self.ended_count += len(polled)
        capacity = self.launcher.capacity()
        if capacity <= 0:
            return []
        store = self.ctx.store
        queued = store.run_queue.queued_runs(limit=min(_SCAN, max(100, 10 * capacity)))
        if not queued:
            return []
        chosen = self.select(queued, store.run_queue.active_runs(), capacity)
        if not chosen:
            return []
        claimed = store.run_queue.claim([r.run_id for r in chosen], now)
        by_id = {r.run_id: r for r in chosen}
        for run_id in claimed:
            try:
                self.launcher.launch(run_id)
            except OSError as err:  # could not start a process: the monitor fails the run
                log.error("could not launch run %s: %s", run_id, err)
                self.ended.append((run_id, None))
                continue
            crash_point("run launched")
            run = by_id[run_id]
            log.info(
                "launched run %s (%s)",
                run_id,
                f"{run.target} {run.scope}".strip(),
                extra={"deras": {"event": "run_launched", "run_id": run_id, "target": run.target}},
            )
        self.launched += len(claimed)
        return claimed

    def select(self, queued: list[RunRecord], active: Iterable[RunRecord], capacity: int) -> list[RunRecord]:
        """The queued runs to start now, in priority order, honouring every limit."""
        settings = self.ctx.settings
        active = list(active)
        room = min(settings.max_concurrent_runs - len(active), capacity)
        if room <= 0:
            return []
        tag_counts: Counter[tuple[str, str]] = Counter()
        dag_counts: Counter[str] = Counter()
        for run in active:
            self._count(run, tag_counts, dag_counts)
        pools = self._pool_room()
        chosen: list[RunRecord] = []
        for run in queued:
            if len(chosen) >= room:
                break
            needs = self._pools_of(run, pools)
            if self._blocked(run, tag_counts, dag_counts) or any(pools[p] <= 0 for p in needs):
                continue
            chosen.append(run)
            self._count(run, tag_counts, dag_counts)
            for pool in needs:  # a run chosen now will want its slot: the next one waits
                pools[pool] -= 1
        return chosen

    @staticmethod
    def _count(run: RunRecord, tags: Counter[tuple[str, str]], dags: Counter[str]) -> None:
        for item in run.tags.items():
            tags[item] += 1
        if run.dag_id is not None:
            dags[run.dag_id] += 1

    def _blocked(
        self, run: RunRecord, tag_counts: Counter[tuple[str, str]], dag_counts: Counter[str]
    ) -> bool:
        for limit in self.ctx.settings.tag_concurrency_limits:
            value = run.tags.get(limit.key)
            if value is None or (limit.value is not None and value != limit.value):
                continue
            if tag_counts[(limit.key, value)] >= limit.limit:
                return True
        if run.dag_id is not None:
            dag = self._dags.get(run.dag_id)
            if dag is not None and dag_counts[run.dag_id] >= dag.max_active_runs:
                return True
        return False

    def _pools_of(self, run: RunRecord, pools: dict[str, int]) -> set[str]:
        """The configured pools some node of the run uses."""
        if not pools:
            return set()
        nodes = self.ctx.definitions.asset_graph.nodes
        found = {getattr(nodes.get(n), "pool", None) for n in run.selection or ()}
        return {p for p in found if p in pools}

    def _pool_room(self) -> dict[str, int]:
        """Free slots per configured pool, as the slots table has them now."""
        limits = self.ctx.settings.pools
        if not limits:
            return {}
        usage = self.ctx.store.slots.usage()
        return {pool: n - usage.get(pool, 0) for pool, n in limits.items()}
