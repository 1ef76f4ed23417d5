"""ScheduleTicker: evaluates each running schedule once per cron tick, and queues due DAG runs.

Exactly once: a tick is a row keyed by (schedule, tick time) that one daemon claims; each run
it requests is an insert keyed by (schedule, tick time, run key or position). A daemon that
dies mid-tick leaves a started tick; the next daemon takes it over (at once if the dead one was
on this host, else when its lease runs out), evaluates it again, and the keys turn the runs
the first one already created into no-ops.

A schedule owes the ticks between its last tick (or when it was started) and now, and any
tick left ``started`` by a daemon that died; after downtime only the latest
``max_catchup_ticks`` of them run. DAGs follow their own catchup.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from .._core import tags as deras_tags
from .._core.status import RunStatus, TickStatus
from .._defs.wall_clock import tz_for
from .crash_points import crash_point
from .daemon_context import DaemonContext, error_text
from .instigators import Instigator, instigators
from .tick_log import TickLog

log = logging.getLogger("deras.daemon.schedules")


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class ScheduleTicker:
    name = "schedules"

    def __init__(self, ctx: DaemonContext) -> None:
        self.ctx = ctx
        self._next_due: dict[str, float] = {}  # skip the database until a schedule is due
        self._tick_log = TickLog(log)

    def tick(self, now: float, states: dict[str, Any] | None = None) -> None:
        states = self.ctx.store.ticks.get_states() if states is None else states
        for inst in instigators(self.ctx.definitions, ("schedule", "dag")):
            state = states.get(inst.key)
            if not inst.is_running(state):
                self._next_due.pop(inst.key, None)
                continue
            if now < self._next_due.get(inst.key, 0.0):
                continue
            try:
                if inst.kind == "dag":
                    self._tick_dag(inst, now)
                else:
                    self._tick_schedule(inst, state, now)
            except Exception:  # one broken schedule must not stop the others
                log.exception("schedule %s", inst.key)
                self._next_due[inst.key] = now + 5.0

    def next_due(self) -> float | None:
        return min(self._next_due.values(), default=None)

    # -- schedules ------------------------------------------------------------------------
    def _tick_schedule(self, inst: Instigator, state: Any, now: float) -> None:
        schedule = inst.definition
        since = self._since(inst, state, now)
        # Only the latest max_catchup_ticks, found walking back from now (years of minutely
        # ticks after a long downtime are not enumerated).
        limit = self.ctx.settings.daemon.max_catchup_ticks
        owed = schedule.tick_times_between(_at(since), _at(now), limit)
        # Ticks a daemon claimed and died in are behind `since`: they are owed too, and taken
        # over once their owner is known dead or their lease ran out.
        stranded = self.ctx.store.ticks.get_ticks(inst.key, limit=limit, status=TickStatus.STARTED)
        owed_times = {w.timestamp() for w in owed}
        owed += [_at(t.tick_time) for t in stranded if t.tick_time not in owed_times]
        for when in sorted(owed):
            self._evaluate(inst, when, now)
        upcoming = schedule.next_tick_times(_at(now), 1)
        due = upcoming[0].timestamp() if upcoming else float("inf")
        leases = [t.lease_until or now for t in stranded if (t.lease_until or now) > now]
        self._next_due[inst.key] = min([due, *leases])

    def _since(self, inst: Instigator, state: Any, now: float) -> float:
        """Where the owed ticks start: the last tick, else when the schedule was turned on."""
        ticks = self.ctx.store.ticks
        latest = ticks.get_latest_tick(inst.key)
        started = getattr(state, "updated_time", None)
        if state is None:
            ticks.set_status(inst.key, None, now)  # remember when it was first seen running
            started = now
        times = [t for t in (latest.tick_time if latest else None, started) if t is not None]
        return max(times) if times else now

    def _evaluate(self, inst: Instigator, when: datetime, now: float) -> None:
        from .._defs.schedule import ScheduleEvaluationContext

        ctx = self.ctx
        tick = ctx.claim_tick(inst.key, when.timestamp(), now)
        if tick is None:
            return  # another daemon has (or had) this tick
        crash_point("tick created")
        schedule = inst.definition
        try:
            local = when.astimezone(tz_for(schedule.execution_timezone))
            context = ScheduleEvaluationContext(scheduled_execution_time=local, instance=ctx.instance)
            evaluation = ctx.user_code.call(  # type: ignore[union-attr]
                f"schedule {schedule.name}", schedule.evaluate_tick, context
            )
            requests = list(evaluation.run_requests)
            if not requests:
                reason = evaluation.skip_reason or "the schedule requested no run"
                ctx.store.ticks.finish_tick(tick.id, TickStatus.SKIPPED, now=now, skip_reason=reason)
                self._tick_log.skipped(inst.key, local, reason)
                return
            origin = {deras_tags.SCHEDULE: schedule.name, deras_tags.TICK_TIME: local.isoformat()}
            runs = [
                ctx.factory.for_request(
                    request,
                    default_job=schedule.job_name,
                    key=f"{inst.key}:{when.timestamp():.6f}:{request.run_key or i}",
                    origin=origin,
                    now=now,
                    tick_time=local,
                )
                for i, request in enumerate(requests)
            ]
            run_ids = ctx.create_runs(runs)
            crash_point("run created")
            ctx.store.ticks.finish_tick(tick.id, TickStatus.SUCCESS, now=now, run_ids=run_ids)
            self._tick_log.requested(inst.key, local, run_ids)
        except Exception as err:
            self._tick_log.failed(inst.key, when, err)
            ctx.store.ticks.finish_tick(tick.id, TickStatus.FAILURE, now=now, error=error_text(err))

    # -- DAGs -----------------------------------------------------------------------------
    def _tick_dag(self, inst: Instigator, now: float) -> None:
        from .._dags.due import dag_due_runs

        dag = inst.definition
        due = dag_due_runs(dag, self.ctx.instance, _at(now))
        for run in due:
            tick = self.ctx.claim_tick(inst.key, run.logical_date.timestamp(), now)
            if tick is None:
                continue
            crash_point("tick created")
            try:
                record = self.ctx.factory.for_dag(
                    dag,
                    logical_date=run.logical_date,
                    run_type=run.run_type,
                    key=f"{inst.key}:{run.logical_date.timestamp():.6f}",
                    now=now,
                )
                run_ids = self.ctx.create_runs([record])
                crash_point("run created")
                self.ctx.store.ticks.finish_tick(tick.id, TickStatus.SUCCESS, now=now, run_ids=run_ids)
                self._tick_log.requested(inst.key, run.logical_date, run_ids)
            except Exception as err:
                self._tick_log.failed(inst.key, run.logical_date, err)
                self.ctx.store.ticks.finish_tick(tick.id, TickStatus.FAILURE, now=now, error=error_text(err))
        active = self.ctx.store.get_runs(
            status=[RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTED],
            dag_id=dag.dag_id,
        )
        if due or active:  # with catchup, more are due once max_active_runs leaves room
            self._next_due[inst.key] = now + 1.0
        else:
            upcoming = dag.schedule.next_logical_date(_at(now))
            self._next_due[inst.key] = upcoming.timestamp() if upcoming else float("inf")
