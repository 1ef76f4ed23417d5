"""The state of every asset at once, as columns: what colours the lineage graph.

The graph of 10,000 assets is drawn from one layout and recoloured live, so its statuses are
read often and must stay small and cheap: four reads of the latest-fact tables as the
driver's tuples (``AssetReads.asset_states``), turned into columns here without an object per
asset. An asset is failed when a partition failed or its latest run failed after its latest
materialization (``asset_failure_latest``). An asset that is missing (never materialized, not
failed, no failing check, no partition in progress) is left out: most of a fresh graph says nothing.

>>> from deras._instance.instance import DerasInstance
>>> asset_states(DerasInstance.ephemeral(), None).to_json()["keys"]
[]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..._core.ranges import IndexRanges
from ..._core.status import PartitionState

# One letter per state in ``AssetStates.states``, in the order a state wins: a partition in
# progress shows before a failure (a failed partition or run), which shows before a materialization.
STATE_CODES = {"p": "in_progress", "f": "failed", "m": "materialized", "x": "missing"}


@dataclass(frozen=True)
class AssetStates:
    """Columns, one entry per asset that has a state: ``keys``; ``states``, one letter of
    :data:`STATE_CODES` each; ``last_materialized``, each one's latest materialization time
    (whole seconds; None: never); ``failing_checks``, how many of its checks failed last."""

    version: str | None
    keys: list[str]
    states: str
    last_materialized: list[int | None]
    failing_checks: list[int]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "state_codes": STATE_CODES,
            "keys": self.keys,
            "states": self.states,
            "last_materialized": self.last_materialized,
            "failing_checks": self.failing_checks,
        }


def asset_states(instance: Any, snapshot: Any) -> AssetStates:
    """Each asset of ``snapshot`` (a ``CodeSnapshot``; None: every asset the store knows) with a
    state other than plain missing, by its state, latest materialization and failing checks; an
    asset whose latest failure is newer than its latest materialization is failed."""
    rows = instance.store.asset_reads.asset_states()
    known: set[str] | None = None
    space: dict[str, Any] = {}
    failing_names: set[tuple[str, str]] | None = None
    if snapshot is not None:
        known = {a.key for a in snapshot.assets}
        space = {a.key: a.partitions.index_space_id for a in snapshot.assets if a.partitions is not None}
        failing_names = {(c.asset_key, c.name) for c in snapshot.checks}
    failing: dict[str, int] = {}
    for key, name in rows.failing_checks:
        if failing_names is None or (key, name) in failing_names:
            failing[key] = failing.get(key, 0) + 1
    state_of = _partition_states(rows.partitions, space)
    for key in rows.failed_last:
        state_of.setdefault(key, "f")
    times = dict(rows.materialized)
    keys = [k for k in times if known is None or k in known]
    others = set(failing).union(state_of) - times.keys()
    keys += sorted(k for k in others if known is None or k in known)
    return AssetStates(
        version=getattr(snapshot, "version", None),
        keys=keys,
        states="".join(state_of.get(k) or ("m" if k in times else "x") for k in keys),
        last_materialized=[None if (t := times.get(k)) is None else round(t) for k in keys],
        failing_checks=[failing.get(k, 0) for k in keys],
    )


def _partition_states(rows: list[tuple[str, str, str, Any]], space: dict[str, Any]) -> dict[str, str]:
    """``p`` for the assets with partitions in progress, else ``f`` with failed ones; ranges
    recorded under another partitions definition than the snapshot's count for nothing (their
    indices mean other keys), as on the asset's page."""
    found: dict[str, str] = {}
    for key, state, def_id, ranges in rows:
        if key in space and space[key] != def_id:
            continue
        if not len(IndexRanges(ranges)):
            continue
        code = "p" if state == PartitionState.IN_PROGRESS else "f"
        if found.get(key) != "p":
            found[key] = code
    return found
