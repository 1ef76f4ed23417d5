"""The code the web tests serve, and runs of it recorded in an instance.

``SnapshotLocation`` is the web side of a code location for tests of read endpoints: its
snapshot is built from real definitions by ``deras._snapshot.snapshot_of`` (what a code server
sends); it launches nothing. Launch tests use the real ``deras._code_server`` client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WEB_DEFS = Path(__file__).parent / "code" / "web_defs.py"


class SnapshotLocation:
    def __init__(self, file: Path = WEB_DEFS) -> None:
        from deras._defs.loader import load_definitions
        from deras._snapshot import LocationRef, snapshot_of

        self.location = LocationRef(file=str(file))
        self.name = file.stem
        self.definitions = load_definitions(file=str(file)).definitions
        self._snapshot = snapshot_of(self.definitions, self.location)

    def snapshot(self) -> Any:
        return self._snapshot

    def reload(self) -> Any:
        return self._snapshot

    def launch(self, request: Any) -> str:
        raise AssertionError(f"this test location launches nothing (asked: {request})")


def record_runs(instance: Any, location: SnapshotLocation) -> dict[str, str]:
    """Runs of the web definitions in ``instance``: prices (success, a failing check), report
    (failure), two daily partitions, an etl DAG run. Returns their run ids by name."""
    import deras as dg

    defs = location.definitions
    assets = {str(a.key): a for a in defs.assets}
    checks = list(defs.asset_checks)
    ran: dict[str, str] = {}
    result = dg.materialize(
        [assets["raw_prices"], assets["clean_prices"], *checks], instance=instance, raise_on_error=False
    )
    ran["prices"] = result.run_id
    result = dg.materialize(
        [assets["raw_prices"], assets["clean_prices"], assets["report"]],
        selection=["report"],
        instance=instance,
        raise_on_error=False,
    )
    ran["report"] = result.run_id
    for day in ("2025-01-01", "2025-01-02"):
        result = dg.materialize([assets["daily_summary"]], partition_key=day, instance=instance)
        ran[f"daily {day}"] = result.run_id
    etl = next(d for d in defs.dags if d.dag_id == "etl")
    dag_run = etl.test(logical_date=datetime(2025, 1, 5, tzinfo=UTC), instance=instance)
    ran["etl"] = dag_run.run_id
    return ran
