"""``@asset_sensor``: call a function when an asset has a new materialization.

The cursor is the event id of the last materialization the sensor handled. A tick looks at the
newest materialization only: if it is newer than the cursor, the function gets it (several
materializations between two ticks make one call, as in Dagster), else the tick skips.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._core.keys import AssetKey
from .run_request import SensorResult, SkipReason, TickEvaluationError
from .sensor import DefaultSensorStatus, SensorDefinition, SensorEvaluationContext
from .tick_result import evaluate


class AssetSensorDefinition(SensorDefinition):
    """A sensor on one asset: its function gets ``(context, asset_event)`` for each new
    materialization (a ``MaterializationRecord``: ``.asset_key``, ``.partition``, ``.run_id``,
    ``.metadata``, ``.event_id``, ``.timestamp``)."""

    sensor_type = "asset"
    _arg_names = ("context", "asset_event")

    def __init__(
        self,
        name: str | None = None,
        *,
        asset_key: AssetKey | str,
        evaluation_fn: Callable[..., Any],
        job: Any = None,
        job_name: str | None = None,
        minimum_interval_seconds: float = 30,
        description: str | None = None,
        default_status: DefaultSensorStatus | str = DefaultSensorStatus.STOPPED,
    ) -> None:
        self.asset_key = AssetKey.coerce(asset_key)
        super().__init__(
            name,
            evaluation_fn=evaluation_fn,
            job=job,
            job_name=job_name,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
        )

    def _run_tick(self, context: SensorEvaluationContext) -> Any:
        what = f"asset sensor '{self.name}'"
        seen = _last_event_id(context.cursor)
        latest = context.instance.get_latest_materialization(self.asset_key)
        if latest is None or (seen is not None and latest.event_id <= seen):
            return SkipReason(f"no new materialization of {self.asset_key.to_user_string()}")
        result = evaluate(self.evaluation_fn, self._nargs, (context, latest), what)
        if isinstance(result, SensorResult) and result.cursor is not None:
            raise TickEvaluationError(
                f"{what} returned SensorResult(cursor=...): an asset sensor keeps its own cursor "
                "(the event id of the last materialization it handled); leave it unset"
            )
        context.update_cursor(str(latest.event_id))
        context._cursor_updated = False  # the sensor's own bookkeeping, not the user's
        return result


def asset_sensor(
    asset_key: AssetKey | str,
    *,
    job: Any = None,
    job_name: str | None = None,
    name: str | None = None,
    minimum_interval_seconds: float = 30,
    default_status: DefaultSensorStatus | str = DefaultSensorStatus.STOPPED,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], AssetSensorDefinition]:
    """Turn a function of ``(context, asset_event)`` into a sensor on ``asset_key``.

    It is called for the newest materialization the sensor has not seen; it returns what a
    ``@sensor`` function returns. The tick skips when there is no new materialization.

    >>> import deras as dg
    >>> @dg.asset
    ... def prices():
    ...     return [1.0]
    >>> @asset_sensor("prices", job_name="report")
    ... def prices_updated(context, asset_event):
    ...     return dg.RunRequest(run_key=asset_event.run_id)
    >>> instance = dg.DerasInstance.ephemeral()
    >>> run_id = dg.materialize([prices], instance=instance).run_id
    >>> result = prices_updated.evaluate_tick(dg.build_sensor_context(instance=instance))
    >>> [r.run_key for r in result.run_requests] == [run_id], result.cursor is not None
    (True, True)
    >>> again = dg.build_sensor_context(instance=instance, cursor=result.cursor)
    >>> prices_updated.evaluate_tick(again).skip_reason
    'no new materialization of prices'
    """

    def decorate(fn: Callable[..., Any]) -> AssetSensorDefinition:
        return AssetSensorDefinition(
            name,
            asset_key=asset_key,
            evaluation_fn=fn,
            job=job,
            job_name=job_name,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
        )

    return decorate


def _last_event_id(cursor: str | None) -> int | None:
    try:
        return None if cursor is None else int(cursor)
    except ValueError:
        return None  # a cursor written by something else: start from the newest materialization
