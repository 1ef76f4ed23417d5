"""SensorRunner: evaluates each running sensor at most once per ``minimum_interval_seconds``.

A sensor's ticks are keyed by the interval slot they fall in (``now`` rounded down to the
interval), so two daemons evaluate a sensor once per slot. A ``RunRequest`` with a
``run_key`` becomes a run keyed by (sensor, run_key): launched at most once, ever, however
often the sensor asks. The cursor is saved in the same transaction that ends the tick, after
the runs are created: a crash in between re-evaluates from the old cursor and the run keys
absorb the repeat. (Requests without a run_key have no such protection; give one.)
"""

from __future__ import annotations

import logging
import math
from typing import Any

from .._core import tags as deras_tags
from .._core.status import TickStatus
from .crash_points import crash_point
from .daemon_context import DaemonContext, error_text
from .instigators import Instigator, find_instigator, instigators
from .tick_log import TickLog

log = logging.getLogger("deras.daemon.sensors")


class SensorRunner:
    name = "sensors"

    def __init__(self, ctx: DaemonContext) -> None:
        self.ctx = ctx
        self._next_due: dict[str, float] = {}
        self._tick_log = TickLog(log)

    def tick(self, now: float, states: dict[str, Any] | None = None) -> None:
        states = self.ctx.store.ticks.get_states() if states is None else states
        for inst in instigators(self.ctx.definitions, ("sensor",)):
            state = states.get(inst.key)
            if not inst.is_running(state):
                self._next_due.pop(inst.key, None)
                continue
            if now < self._next_due.get(inst.key, 0.0):
                continue
            interval = max(float(inst.definition.minimum_interval_seconds), 1e-3)
            slot = math.floor(now / interval) * interval
            self._next_due[inst.key] = slot + interval
            try:
                if self._resume_stranded(inst, state, now):
                    continue  # this interval's evaluation finished the tick a dead daemon left
                # Slots make two daemons evaluate once per interval; the last evaluation's
                # time keeps a slot's start from following the previous slot's end closely.
                latest = self.ctx.store.ticks.get_latest_tick(inst.key)
                last = getattr(latest, "start_time", None)
                if last is not None and last <= now < last + interval:
                    self._next_due[inst.key] = last + interval
                    continue
                self.evaluate(inst, state, slot, now)
            except Exception:
                log.exception("sensor %s", inst.key)

    def _resume_stranded(self, inst: Instigator, state: Any, now: float) -> bool:
        """Evaluate again a tick that a daemon claimed and died in, under its own slot.

        Its cursor was not saved, so the evaluation starts from the same cursor; the runs it
        had created are found by their keys and listed on it. False if there is none that can
        be taken over yet (its owner may be alive: then its lease has to run out first).
        """
        stranded = self.ctx.store.ticks.get_ticks(inst.key, limit=5, status=TickStatus.STARTED)
        oldest_first = reversed(stranded)
        return any(self.evaluate(inst, state, t.tick_time, now) is not None for t in oldest_first)

    def next_due(self) -> float | None:
        return min(self._next_due.values(), default=None)

    def tick_sensor(self, name: str, now: float) -> Any:
        """Evaluate one sensor now, running or not (``deras sensor tick``); returns its tick."""
        inst = find_instigator(self.ctx.definitions, name, ("sensor",))
        state = self.ctx.store.ticks.get_state(inst.key)
        return self.evaluate(inst, state, now, now)

    def evaluate(self, inst: Instigator, state: Any, slot: float, now: float) -> Any:
        from .._defs.sensor import SensorEvaluationContext

        ctx = self.ctx
        tick = ctx.claim_tick(inst.key, slot, now)
        if tick is None:
            return None
        crash_point("tick created")
        sensor = inst.definition
        try:
            context = SensorEvaluationContext(
                instance=ctx.instance,
                cursor=getattr(state, "cursor", None),
                last_run_key=self._last_run_key(inst),
                definitions=ctx.definitions,
            )
            evaluation = ctx.user_code.call(  # type: ignore[union-attr]
                f"sensor {sensor.name}", sensor.evaluate_tick, context
            )
            self._apply_partition_requests(evaluation)
            requests = list(evaluation.run_requests)
            runs = [
                ctx.factory.for_request(
                    request,
                    default_job=getattr(sensor, "job_name", None),
                    key=f"{inst.key}:{request.run_key}"
                    if request.run_key is not None
                    else f"{inst.key}:{slot:.6f}:{i}",
                    origin={deras_tags.SENSOR: sensor.name, deras_tags.TICK_ID: str(tick.id)},
                    now=now,
                )
                for i, request in enumerate(requests)
            ]
            run_ids = ctx.create_runs(runs, tick.id) if runs else []
            crash_point("run created")
            status = TickStatus.SUCCESS if run_ids else TickStatus.SKIPPED
            reason = None
            if not run_ids:
                reason = evaluation.skip_reason or (
                    "every requested run_key has run before" if runs else "the sensor requested no run"
                )
            ctx.store.ticks.finish_tick(
                tick.id, status, now=now, run_ids=run_ids, skip_reason=reason, cursor=evaluation.cursor
            )
            crash_point("cursor saved")
            if reason is None:
                self._tick_log.requested(inst.key, None, run_ids)
            else:
                self._tick_log.skipped(inst.key, None, reason)
        except Exception as err:
            self._tick_log.failed(inst.key, None, err)
            ctx.store.ticks.finish_tick(tick.id, TickStatus.FAILURE, now=now, error=error_text(err))
        # This tick, not the latest: a daemon may have ticked the same sensor meanwhile.
        return next((t for t in ctx.store.ticks.get_ticks(inst.key, limit=50) if t.id == tick.id), None)

    def _last_run_key(self, inst: Instigator) -> str | None:
        """The run_key of the sensor's newest run: from its last tick that made runs (two
        indexed reads, not a scan of every run's tags)."""
        for tick in self.ctx.store.ticks.get_ticks(inst.key, limit=1, status=TickStatus.SUCCESS):
            run = self.ctx.store.get_run(tick.run_ids[-1]) if tick.run_ids else None
            return run.tags.get(deras_tags.RUN_KEY) if run is not None else None
        return None

    def _apply_partition_requests(self, evaluation: Any) -> None:
        from .._defs.run_request import DeleteDynamicPartitionsRequest

        for request in evaluation.dynamic_partitions_requests or ():
            name = request.partitions_def_name
            if isinstance(request, DeleteDynamicPartitionsRequest):
                for key in request.partition_keys:
                    self.ctx.instance.delete_dynamic_partition(name, key)
            else:
                self.ctx.instance.add_dynamic_partitions(name, list(request.partition_keys))
