"""One asset check result as the asset page (its history) and the run page (its checks) show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..._core.records import CheckResultRecord


@dataclass(frozen=True)
class CheckResultView:
    """A stored check result; ``event_id`` is None where the read had none (a run's checks)."""

    asset_key: str
    check_name: str
    passed: bool
    severity: str
    run_id: str
    timestamp: float
    partition: str | None
    metadata: dict[str, Any]
    event_id: int | None = None

    @classmethod
    def of(cls, c: CheckResultRecord, event_id: int | None = None) -> CheckResultView:
        return cls(
            c.asset_key,
            c.check_name,
            c.passed,
            c.severity,
            c.run_id,
            c.timestamp,
            c.partition,
            c.metadata,
            event_id,
        )

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)
