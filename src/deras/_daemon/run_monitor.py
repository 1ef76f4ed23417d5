"""RunMonitor: fails runs whose process died, retries failed runs, sends notifications.

Every run of a stored instance records its owner process and is stamped by its heartbeat every
``heartbeat_interval_seconds``, wherever it runs (a run worker, ``deras materialize``, ``deras
dags trigger``). A run is failed at once when the launcher saw its process exit, or when its
owner is on this host and its pid is gone or now another process's (``run_owner.py``); on any
host, when its heartbeat is older than ``heartbeat_timeout_seconds`` (at most 60). The failure
is an event in its log; its pool slots are freed and its in-progress partitions failed.

Then every run that finished since the monitor's cursor is looked at once: a failed run whose
job or DAG has a ``RunRetryPolicy`` (or the instance default) gets a new queued run — only the
nodes that did not succeed when ``from_failure`` (DAG runs re-run whole) — keyed by its root
run and retry number, so a retry is created once, after the policy's ``delay``. Notifications
go out for the same runs. Runs that ended before the monitor's first pass are history: neither
retried nor notified. A run's end is stamped by its worker before it is committed, so runs can
land out of order: each pass reads again ``LAG_SECONDS`` behind the latest end time it has seen.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from .._core import tags as deras_tags
from .._core.new_runs import retry_of
from .._core.records import RunRecord
from .._core.status import RunStatus
from .._exec.run_owner import dead_owner
from .daemon_context import DaemonContext
from .notification_outbox import NotificationOutbox

log = logging.getLogger("deras.daemon.monitor")

CURSOR = "daemon:run_monitor"
LAG_SECONDS = 5.0
"""How far behind the latest end time read the monitor looks again for runs stored late."""
_BATCH = 500


class RunMonitor:
    name = "run_monitor"

    def __init__(
        self,
        ctx: DaemonContext,
        ended: list[tuple[str, int | None]] | None = None,
        notifier: Any = None,
        *,
        notify_in_background: bool = False,
    ) -> None:
        self.ctx = ctx
        self.ended = ended if ended is not None else []  # shared with the RunQueue
        self.notifier = notifier
        self.outbox = NotificationOutbox(ctx, notifier, background=notify_in_background)

    def tick(self, now: float) -> None:
        memo = self._memo(now)  # before failing dead runs: those failures are not history
        self._fail_dead(now)
        self._after_finished(memo, now)

    # -- dead runs --------------------------------------------------------------------------
    def _fail_dead(self, now: float) -> None:
        queue = self.ctx.store.run_queue
        ended, self.ended[:] = list(self.ended), []
        for run_id, code in ended:
            message = f"the process running this run exited (exit code {code}) before the run ended"
            if queue.fail_stale_run(run_id, float("inf"), message, now):
                log.warning("run %s: %s", run_id, message)
        timeout = self.ctx.settings.run_monitoring.heartbeat_timeout_seconds
        # Claimed but never taken by a worker (the launching daemon died in between): nothing
        # of it ran, so it goes back in the queue rather than failing.
        for run_id in queue.requeue_untaken(now - timeout):
            log.warning("run %s was launched but no worker took it; queued again", run_id)
        for run in queue.beating_runs():
            dead = dead_owner(run, now, timeout)
            if dead is not None and queue.fail_stale_run(
                run.run_id, dead.stale_before, dead.message, now, run.worker
            ):
                log.warning("run %s: %s", run.run_id, dead.message)

    # -- finished runs ------------------------------------------------------------------------
    def _memo(self, now: float) -> dict[str, Any]:
        """The cursor: ``floor`` (runs that ended before the first pass are history), the
        latest ``end_time`` read, the runs ``seen`` within ``LAG_SECONDS`` of it, and the
        retries ``delayed`` by their policy (run id -> [due time, retry number])."""
        state = self.ctx.store.ticks.get_state(CURSOR)
        if state is not None and state.cursor:
            memo: dict[str, Any] = json.loads(state.cursor)
            memo.setdefault("floor", memo["end_time"])
            memo.setdefault("seen", {})
            memo.setdefault("delayed", {})
            return memo
        floor = math.nextafter(now, -math.inf)  # a run this pass fails ends at `now`: not history
        memo = {"floor": floor, "end_time": floor, "seen": {}, "delayed": {}}
        self.ctx.store.ticks.set_cursor(CURSOR, json.dumps(memo), now)
        return memo

    def _after_finished(self, memo: dict[str, Any], now: float) -> None:
        seen: dict[str, float] = memo["seen"]
        delayed: dict[str, list[float]] = memo["delayed"]
        before = json.dumps(memo, sort_keys=True)
        # A worker stamps its run's end before it commits it, so a run may land after one that
        # ended later: read again from LAG_SECONDS back and skip the runs already handled.
        since = max(memo["floor"], memo["end_time"] - LAG_SECONDS)
        finished = self.ctx.store.get_runs_finished_after(since, limit=_BATCH + len(seen))
        for run in finished:
            if run.run_id in seen:
                continue
            log.info(
                "run %s ended %s (%s)",
                run.run_id,
                run.status,
                f"{run.target} {run.scope}".strip(),
                extra={
                    "deras": {
                        "event": "run_ended",
                        "run_id": run.run_id,
                        "target": run.target,
                        "status": str(run.status),
                    }
                },
            )
            try:
                self._handle(run, now, delayed)
            except Exception:
                log.exception("run monitor: run %s", run.run_id)
            ended = run.end_time if run.end_time is not None else now
            seen[run.run_id] = ended
            memo["end_time"] = max(memo["end_time"], ended)
        for run_id, (due, number) in list(delayed.items()):
            if due <= now:
                del delayed[run_id]
                self._retry_later(run_id, int(number), now)
        memo["seen"] = {r: t for r, t in seen.items() if t > memo["end_time"] - LAG_SECONDS}
        if json.dumps(memo, sort_keys=True) != before:
            self.ctx.store.ticks.set_cursor(CURSOR, json.dumps(memo), now)

    def _handle(self, run: RunRecord, now: float, delayed: dict[str, list[float]]) -> None:
        event = None
        if run.status == RunStatus.FAILURE:
            event = "run_failure"
            policy = self._policy(run)
            attempt = int(run.tags.get(deras_tags.RETRY_NUMBER, "0"))
            if policy is not None and policy.max_retries > 0 and not run.code_location:
                # A run started in someone's process (`deras dags trigger`, dg.materialize)
                # records no code location a worker could load it from: it cannot be retried.
                log.warning("run %s failed but recorded no code location: not retried", run.run_id)
            elif policy is not None and policy.max_retries > 0:
                if attempt < policy.max_retries:
                    delay = getattr(policy, "delay", None) or 0.0
                    if delay > 0:
                        ended = run.end_time if run.end_time is not None else now
                        delayed[run.run_id] = [ended + delay, attempt + 1]
                    else:
                        self._retry(run, policy, attempt + 1, now)
                else:
                    self._notify(run, "run_retry_exhausted")
        elif run.status == RunStatus.SUCCESS:
            event = "run_success"
            if self.outbox.wants("check_failure") and any(
                not c.passed for c in self.ctx.store.get_check_results(run_id=run.run_id)
            ):
                self._notify(run, "check_failure")
        if event:
            self._notify(run, event)

    def _retry_later(self, run_id: str, number: int, now: float) -> None:
        run = self.ctx.store.get_run(run_id)
        policy = None if run is None else self._policy(run)
        if run is not None and policy is not None:
            try:
                self._retry(run, policy, number, now)
            except Exception:
                log.exception("run monitor: retry of run %s", run_id)

    def _policy(self, run: RunRecord) -> Any:
        defs = self.ctx.definitions
        name = run.job_name
        target = None
        for item in [*defs.jobs, *defs.dags]:
            if name and name in (getattr(item, "name", None), getattr(item, "dag_id", None)):
                target = item
        policy = getattr(target, "run_retry_policy", None)
        if policy is not None:
            return policy
        default = self.ctx.settings.run_retries
        return default if default.max_retries > 0 else None

    def _retry(self, run: RunRecord, policy: Any, number: int, now: float) -> None:
        root = run.root_run_id or run.run_id
        selection = list(run.selection or [])
        if getattr(policy, "from_failure", True) and run.dag_id is None:
            from .._plan.plan import plan_from_failure

            graph = self.ctx.definitions.asset_graph
            outcomes = self.ctx.store.get_node_outcomes(run.run_id)
            selection = list(plan_from_failure(graph, [n for n in selection if n in graph.nodes], outcomes))
        key = f"retry:{root}:{number}"
        retry = retry_of(run, number, selection=selection, idempotency_key=key, create_time=now)
        if self.ctx.store.create_runs([retry]):
            log.info(
                "run %s failed: retry %d of %d is %s", run.run_id, number, policy.max_retries, retry.run_id
            )

    def _notify(self, run: RunRecord, event: str) -> None:
        self.outbox.send(run, event)
