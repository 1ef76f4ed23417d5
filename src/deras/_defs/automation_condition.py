"""``AutomationCondition``: when the daemon should materialize an asset on its own.

Two conditions, as in Dagster's most used ones:

- ``AutomationCondition.eager()``: materialize when an upstream asset was updated (and the
  asset's upstreams are not being materialized themselves);
- ``AutomationCondition.on_cron("0 * * * *")``: once per cron tick, after every upstream was
  updated since that tick.

They are values here; the daemon evaluates them against the graph and the instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Literal

from .._core.errors import DefinitionError
from .dag_schedule import DagSchedule, parse_schedule

Kind = Literal["eager", "on_cron"]


@dataclass(frozen=True)
class AutomationCondition:
    """When an asset is materialized automatically; build one with ``eager()`` or ``on_cron()``.

    >>> AutomationCondition.eager().kind
    'eager'
    >>> hourly = AutomationCondition.on_cron("0 * * * *", cron_timezone="Europe/Berlin")
    >>> hourly
    AutomationCondition.on_cron('0 * * * *', cron_timezone='Europe/Berlin')
    """

    kind: Kind
    cron_schedule: str | None = None
    cron_timezone: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "eager":
            if self.cron_schedule is not None or self.cron_timezone is not None:
                raise DefinitionError("AutomationCondition.eager() takes no cron schedule")
        elif self.kind == "on_cron":
            _ = self.schedule  # validates the cron string and the timezone now, at definition time
        else:
            raise DefinitionError(
                f"AutomationCondition kind {self.kind!r} is unknown: use AutomationCondition.eager() "
                "or AutomationCondition.on_cron('0 * * * *')"
            )

    @classmethod
    def eager(cls) -> AutomationCondition:
        """Materialize when any upstream asset is updated."""
        return cls("eager")

    @classmethod
    def on_cron(cls, cron_schedule: str, cron_timezone: str = "UTC") -> AutomationCondition:
        """Materialize once per tick of ``cron_schedule``, after every upstream was updated since it."""
        if not isinstance(cron_schedule, str):
            raise DefinitionError(
                f"AutomationCondition.on_cron({cron_schedule!r}): give a cron string such as '0 * * * *'"
            )
        return cls("on_cron", cron_schedule.strip(), cron_timezone or "UTC")

    @cached_property
    def schedule(self) -> DagSchedule:
        """The parsed cron of an ``on_cron`` condition (ticks by the DST policy of schedules)."""
        if self.cron_schedule is None:
            raise DefinitionError(f"{self!r} has no cron schedule")
        parsed = parse_schedule(
            self.cron_schedule,
            where=f"AutomationCondition.on_cron({self.cron_schedule!r})",
            timezone=self.cron_timezone or "UTC",
        )
        if parsed.kind != "cron":
            raise DefinitionError(
                f"AutomationCondition.on_cron({self.cron_schedule!r}): not a cron schedule; "
                "use a cron string such as '0 * * * *' or a preset such as '@hourly'"
            )
        return parsed

    def tick_times_between(
        self, start_exclusive: datetime, end_inclusive: datetime, limit: int | None = None
    ) -> list[datetime]:
        """The cron ticks of an ``on_cron`` condition in ``(start_exclusive, end_inclusive]``."""
        return self.schedule.ticks_between(start_exclusive, end_inclusive, limit)

    def __repr__(self) -> str:
        if self.kind == "eager":
            return "AutomationCondition.eager()"
        zone = "" if self.cron_timezone == "UTC" else f", cron_timezone={self.cron_timezone!r}"
        return f"AutomationCondition.on_cron({self.cron_schedule!r}{zone})"


def check_automation_condition(condition: object, where: str) -> AutomationCondition | None:
    """``condition`` if None or an ``AutomationCondition``, else a ``DefinitionError`` naming ``where``."""
    if condition is None or isinstance(condition, AutomationCondition):
        return condition
    raise DefinitionError(
        f"{where}: automation_condition={condition!r} is not an AutomationCondition: use "
        "dg.AutomationCondition.eager() or dg.AutomationCondition.on_cron('0 * * * *')"
    )
