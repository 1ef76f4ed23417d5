"""BackfillRunner: turns a stored backfill's units into queued runs as they become ready.

Each pass, for every requested (or canceling) backfill: unit statuses follow their runs (a
run retried by its RunRetryPolicy counts by its latest retry); units whose upstream units
failed are skipped; every unit that is ready now is queued in batches of
``backfill_batch_size`` — the runs and the unit updates in one transaction, runs keyed by
(backfill, stage, partition) so a batch written twice creates nothing twice. The run queue
starts them within the instance's limits, backfill runs behind scheduled ones.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from .._core import tags as deras_tags
from .._core.records import BackfillRecord, BackfillUnit, RunRecord
from .._core.status import BackfillStatus, RunStatus, UnitStatus
from .._instance.backfills import NO_PARTITION
from .crash_points import crash_point
from .daemon_context import DaemonContext, error_text
from .run_factory import BACKFILL_PRIORITY

log = logging.getLogger("deras.daemon.backfills")

_RUN_TO_UNIT = {
    RunStatus.SUCCESS: UnitStatus.SUCCESS,
    RunStatus.FAILURE: UnitStatus.FAILURE,
    RunStatus.CANCELED: UnitStatus.CANCELED,
}


class BackfillRunner:
    name = "backfills"

    def __init__(self, ctx: DaemonContext) -> None:
        self.ctx = ctx
        self._layouts: dict[str, Any] = {}
        self._counts: dict[str, tuple[int, int]] = {}  # backfill -> (runs, finished) last pass
        self._logged: dict[str, tuple[int, int]] = {}  # backfill -> (done, failed) last logged

    def tick(self, now: float) -> None:
        active = self.ctx.store.backfills.get_backfills(
            status=[BackfillStatus.REQUESTED, BackfillStatus.CANCELING]
        )
        for backfill in active:
            try:
                self.advance(backfill, now)
            except Exception as err:
                log.exception("backfill %s", backfill.backfill_id)
                self.ctx.store.backfills.set_status(
                    backfill.backfill_id, BackfillStatus.FAILED, now=now, error=error_text(err)
                )

    def advance(self, backfill: BackfillRecord, now: float) -> None:
        store = self.ctx.store
        bid = backfill.backfill_id
        # Reading every unit and run of a big backfill costs; when no run of it was created
        # or has finished since the last pass, nothing can have become ready.
        counts = store.count_backfill_runs(bid)
        if backfill.status == BackfillStatus.REQUESTED and self._counts.get(bid) == counts:
            return
        self._counts[bid] = counts
        units = store.backfills.get_units(bid)
        runs = self._latest_runs(bid)
        self._sync(bid, units, runs)
        if backfill.status == BackfillStatus.CANCELING:
            self._cancel(backfill, units, runs, now)
            return
        statuses = {(u.stage, u.partition_key): str(u.status) for u in units}
        ready, blocked = self._ready(backfill, units, statuses)
        if blocked:
            store.backfills.set_unit_status(bid, [(s, k, UnitStatus.SKIPPED) for s, k in blocked])
            for key in blocked:
                statuses[key] = UnitStatus.SKIPPED.value
        if ready:
            by_key = {(u.stage, u.partition_key): u for u in units}
            size = self.ctx.settings.daemon.backfill_batch_size
            for start in range(0, len(ready), size):
                batch = [by_key[k] for k in ready[start : start + size]]
                store.backfills.queue_units(bid, [(u, self._run_for(backfill, u, now)) for u in batch])
                crash_point("backfill batch written")
            self._log_progress(bid, statuses, queued=len(ready))
            return
        self._log_progress(bid, statuses, queued=0)
        if all(UnitStatus(s).is_finished for s in statuses.values()):
            ok = all(s == UnitStatus.SUCCESS.value for s in statuses.values())
            status = BackfillStatus.COMPLETED if ok else BackfillStatus.COMPLETED_WITH_FAILURES
            store.backfills.set_status(bid, status, now=now, expected=[BackfillStatus.REQUESTED])
            log.info(
                "backfill %s %s",
                bid,
                status,
                extra={"deras": {"event": "backfill_ended", "backfill_id": bid}},
            )

    # -- units and their runs -------------------------------------------------------------
    def _latest_runs(self, backfill_id: str) -> dict[str, RunRecord]:
        """Each unit's first run id -> the latest run of its chain (retries included)."""
        latest: dict[str, RunRecord] = {}
        for run in reversed(self.ctx.store.get_runs(backfill_id=backfill_id)):  # oldest first
            latest[run.root_run_id or run.run_id] = run
        return latest

    def _sync(self, bid: str, units: list[BackfillUnit], runs: dict[str, RunRecord]) -> None:
        updates = []
        for unit in units:
            if unit.run_id is None or unit.status not in (UnitStatus.QUEUED, UnitStatus.FAILURE):
                continue
            run = runs.get(unit.run_id)
            status = _RUN_TO_UNIT.get(run.status) if run is not None else None
            if run is not None and status is None:
                status = UnitStatus.QUEUED  # a retry of a failed unit is on its way
            if status is not None and status != unit.status:
                updates.append((unit.stage, unit.partition_key, status))
                unit.status = status
        if updates:
            self.ctx.store.backfills.set_unit_status(bid, updates)

    def _ready(
        self, backfill: BackfillRecord, units: list[BackfillUnit], statuses: dict[Any, str]
    ) -> tuple[list[Any], list[Any]]:
        if backfill.target["kind"] == "dag":
            return [(u.stage, u.partition_key) for u in units if u.status == UnitStatus.PENDING], []
        from .._plan.backfill_layout import ready_units

        layout = self._layout(backfill)
        keyed = {(s, None if k == NO_PARTITION else k): v for (s, k), v in statuses.items()}
        found = ready_units(layout, keyed)

        def stored(key: Any) -> tuple[int, str]:
            return (key[0], NO_PARTITION if key[1] is None else key[1])

        return [stored(k) for k in found.ready], [stored(k) for k in found.blocked]

    def _layout(self, backfill: BackfillRecord) -> Any:
        layout = self._layouts.get(backfill.backfill_id)
        if layout is None:
            from .._plan.backfill_layout import BackfillLayout

            layout = BackfillLayout.build(
                self.ctx.definitions.asset_graph,
                backfill.target["node_ids"],
                backfill.target["partitions"]["keys"],
                dynamic_partitions_store=self.ctx.instance.dynamic_partitions_store,
            )
            self._layouts[backfill.backfill_id] = layout
        return layout

    def _run_for(self, backfill: BackfillRecord, unit: BackfillUnit, now: float) -> RunRecord:
        factory = self.ctx.factory
        key = f"backfill:{backfill.backfill_id}:{unit.stage}:{unit.partition_key}"
        tags = {**backfill.tags, deras_tags.BACKFILL: backfill.backfill_id}
        target = backfill.target
        if target["kind"] == "dag":
            dag = next(d for d in self.ctx.definitions.dags if d.dag_id == target["dag_id"])
            run = factory.for_dag(
                dag,
                logical_date=datetime.fromisoformat(unit.partition_key),
                run_type="backfill",
                key=key,
                conf=backfill.run_config.get("conf"),
                tags=tags,
                backfill_id=backfill.backfill_id,
                priority=BACKFILL_PRIORITY,
                now=now,
            )
        else:
            spec = self._layout(backfill).unit(
                (unit.stage, None if unit.partition_key == NO_PARTITION else unit.partition_key)
            )
            ranged = unit.partition_last is not None
            run = factory.for_assets(
                spec.node_ids,
                key=key,
                partition_key=None if ranged else spec.partition_key,
                partition_range=(str(spec.partition_key), unit.partition_last)
                if unit.partition_last
                else None,
                tags=tags,
                run_config=backfill.run_config,
                job_name=target.get("name"),
                backfill_id=backfill.backfill_id,
                priority=BACKFILL_PRIORITY,
                validate=False,  # the layout checked every key when the backfill was launched
                now=now,
            )
        run.code_location = backfill.code_location
        return run

    def _cancel(
        self, backfill: BackfillRecord, units: list[BackfillUnit], runs: dict[str, RunRecord], now: float
    ) -> None:
        store = self.ctx.store
        pending = [
            (u.stage, u.partition_key, UnitStatus.CANCELED) for u in units if u.status == UnitStatus.PENDING
        ]
        if pending:
            store.backfills.set_unit_status(backfill.backfill_id, pending)
        still_running = False
        for run in runs.values():
            if not run.status.is_finished:
                after = store.run_queue.cancel(run.run_id, now)
                still_running = still_running or (after is not None and not after.is_finished)
        if not still_running:
            self._sync(backfill.backfill_id, units, self._latest_runs(backfill.backfill_id))
            store.backfills.set_status(
                backfill.backfill_id, BackfillStatus.CANCELED, now=now, expected=[BackfillStatus.CANCELING]
            )
            log.info(
                "backfill %s canceled",
                backfill.backfill_id,
                extra={"deras": {"event": "backfill_ended", "backfill_id": backfill.backfill_id}},
            )

    def _log_progress(self, backfill_id: str, statuses: dict[Any, str], *, queued: int) -> None:
        """A line when the backfill moved: units done or failed, or runs queued."""
        units = [UnitStatus(s) for s in statuses.values()]
        done = sum(u.is_finished for u in units)
        failed = sum(u in (UnitStatus.FAILURE, UnitStatus.SKIPPED, UnitStatus.CANCELED) for u in units)
        if queued == 0 and self._logged.get(backfill_id) == (done, failed):
            return
        self._logged[backfill_id] = (done, failed)
        log.info(
            "backfill %s: %d of %d unit(s) done, %d failed%s",
            backfill_id,
            done,
            len(units),
            failed,
            f"; {queued} run(s) queued" if queued else "",
            extra={
                "deras": {
                    "event": "backfill_progress",
                    "backfill_id": backfill_id,
                    "units": len(units),
                    "done": done,
                    "failed": failed,
                    "queued": queued,
                }
            },
        )
