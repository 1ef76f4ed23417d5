"""What a DAG run knows beyond an asset run: its logical date, data interval, conf and params."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DagRunInfo:
    dag_id: str
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    run_type: str = "manual"
    conf: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None  # dagrun_timeout in seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "logical_date": self.logical_date.isoformat(),
            "data_interval_start": self.data_interval_start.isoformat(),
            "data_interval_end": self.data_interval_end.isoformat(),
            "run_type": self.run_type,
            "conf": self.conf,
            "params": self.params,
            "timeout": self.timeout,
            "timezone": getattr(self.logical_date.tzinfo, "key", None),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DagRunInfo:
        """Read back ``to_json``: the dates in the DAG's own timezone again, not a fixed offset."""
        zone: Any = None
        if data.get("timezone"):
            from zoneinfo import ZoneInfo

            zone = ZoneInfo(data["timezone"])

        def moment(text: str) -> datetime:
            value = datetime.fromisoformat(text)
            return value.astimezone(zone) if zone is not None else value

        return cls(
            data["dag_id"],
            moment(data["logical_date"]),
            moment(data["data_interval_start"]),
            moment(data["data_interval_end"]),
            data.get("run_type", "manual"),
            dict(data.get("conf") or {}),
            dict(data.get("params") or {}),
            data.get("timeout"),
        )
