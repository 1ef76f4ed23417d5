"""Numbers for monitoring (the web's ``/metrics`` renders them in Prometheus' text format).

- ``runs_by_status``: runs in the store per status (a count of ``ix_runs_status``);
- ``queue_depth``: runs queued for a daemon;
- ``tick_lag_seconds``: per running schedule or sensor, how late its next tick is — seconds
  since a tick fell due that no daemon has recorded yet (0 when up to date; None when it never
  ticked and was never started, so nothing is known to be owed);
- ``step_durations``: a histogram of how long step attempts took, over the runs that ended in
  the last ``window`` seconds (cumulative buckets ``[upper bound, count]``, the last ``"+Inf"``).

>>> from deras._instance.instance import DerasInstance
>>> metrics(DerasInstance.ephemeral(), None).queue_depth
0
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..._core.status import RunStatus
from .instigators import RUNNING, list_schedules, list_sensors, next_ticks

STEP_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
"""Upper bounds (seconds) of the step duration histogram's buckets, before ``+Inf``."""
WINDOW_SECONDS = 3600.0


@dataclass(frozen=True)
class StepDurations:
    buckets: list[tuple[float | str, int]]  # cumulative; the last bound is "+Inf"
    count: int
    sum: float
    window_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "buckets": [list(b) for b in self.buckets],
            "count": self.count,
            "sum": self.sum,
            "window_seconds": self.window_seconds,
        }


@dataclass(frozen=True)
class Metrics:
    runs_by_status: dict[str, int]  # every run status, zeros included
    queue_depth: int
    tick_lag_seconds: dict[str, float | None]  # by storage key: "schedule:nightly", "sensor:x"
    step_durations: StepDurations
    checked_at: float

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "step_durations": self.step_durations.to_json()}


def metrics(
    instance: Any, snapshot: Any, *, now: float | None = None, window: float = WINDOW_SECONDS
) -> Metrics:
    """The numbers; without a ``snapshot`` (a ``CodeSnapshot``) there are no tick lags."""
    now = time.time() if now is None else now
    reads = instance.store.run_reads
    by_status = {s.value: 0 for s in RunStatus}
    by_status.update(reads.count_by_status())
    cumulative, count, total = reads.step_duration_histogram(now - window, STEP_BUCKETS)
    buckets: list[tuple[float | str, int]] = [*zip(STEP_BUCKETS, cumulative, strict=True), ("+Inf", count)]
    return Metrics(
        runs_by_status=by_status,
        queue_depth=by_status[RunStatus.QUEUED.value],
        tick_lag_seconds=tick_lags(instance, snapshot, now) if snapshot is not None else {},
        step_durations=StepDurations(buckets, count, total, window),
        checked_at=now,
    )


def tick_lags(instance: Any, snapshot: Any, now: float) -> dict[str, float | None]:
    """How late each running schedule's and sensor's next tick is, in seconds (see above)."""
    at = datetime.fromtimestamp(now, UTC)
    states = instance.store.ticks.get_states()
    snaps = {("schedule", s.name): s for s in snapshot.schedules}
    snaps.update({("dag", d.dag_id): d for d in snapshot.dags})
    lags: dict[str, float | None] = {}
    for schedule in list_schedules(instance, snapshot, now=at, ticks=0):
        if schedule.status != RUNNING:
            continue
        since = schedule.last_tick.tick_time if schedule.last_tick else _started(states.get(schedule.key))
        if since is None:
            lags[schedule.key] = None
            continue
        due = next_ticks(snaps[(schedule.kind, schedule.name)], datetime.fromtimestamp(since, UTC), 1)
        lags[schedule.key] = max(0.0, now - due[0].timestamp()) if due else 0.0
    for sensor in list_sensors(instance, snapshot):
        if sensor.status != RUNNING or sensor.kind == "automation":
            continue
        lags[sensor.key] = None if sensor.next_tick is None else max(0.0, now - sensor.next_tick)
    return lags


def _started(state: Any) -> float | None:
    """When a schedule was turned on (its state row's time), if it was by hand."""
    if state is None or getattr(state, "status", None) != RUNNING:
        return None
    return state.updated_time
