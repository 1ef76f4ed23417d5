"""Schedules, sensors and scheduled DAGs as the daemon sees them: things that start runs.

Each has a storage name (``schedule:nightly``, ``sensor:new_files``, ``dag:etl``) under which
its on/off state, cursor and ticks are kept. A state row written by ``deras schedule start``
or ``stop`` wins over the definition's ``default_status``; DAGs with a time schedule are on
unless stopped (a DAG's schedule is part of the DAG).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .._core.errors import DerasError

Kind = Literal["schedule", "sensor", "dag"]

RUNNING = "running"
STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Instigator:
    kind: Kind
    name: str
    definition: Any

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def default_running(self) -> bool:
        if self.kind == "dag":
            return True
        return str(getattr(self.definition, "default_status", STOPPED)).lower() == RUNNING

    def is_running(self, state: Any) -> bool:
        status = getattr(state, "status", None)
        return status == RUNNING if status else self.default_running


def instigators(
    definitions: Any, kinds: tuple[Kind, ...] = ("schedule", "sensor", "dag")
) -> list[Instigator]:
    found: list[Instigator] = []
    if "schedule" in kinds:
        found += [Instigator("schedule", s.name, s) for s in definitions.schedules]
    if "sensor" in kinds:
        found += [Instigator("sensor", s.name, s) for s in definitions.sensors]
    if "dag" in kinds:
        found += [
            Instigator("dag", d.dag_id, d)
            for d in definitions.dags
            if d.schedule.is_periodic or d.schedule.kind == "once"
        ]
    return found


def find_instigator(definitions: Any, name: str, kinds: tuple[Kind, ...]) -> Instigator:
    """The schedule/sensor/DAG called ``name`` (``dag:etl`` style prefixes accepted)."""
    kind_hint, _, bare = name.partition(":") if ":" in name else ("", "", name)
    candidates = [i for i in instigators(definitions, kinds) if i.name == bare and kind_hint in ("", i.kind)]
    if len(candidates) == 1:
        return candidates[0]
    known = ", ".join(i.key for i in instigators(definitions, kinds)) or "none"
    if not candidates:
        raise DerasError(f"no {' or '.join(kinds)} named '{name}' (known: {known})")
    raise DerasError(
        f"'{name}' names several: {[c.key for c in candidates]}; prefix it, e.g. {candidates[0].key}"
    )
