"""Event records: the one stream every run writes and every reader (CLI, UI, tests) reads.

The event log is the source of truth; the storage layer derives its index tables (attempts,
materializations, check results, partition status, run status) from events in the same
transaction that appends them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    RUN_START = "run_start"
    RUN_SUCCESS = "run_success"
    RUN_FAILURE = "run_failure"
    RUN_CANCELED = "run_canceled"
    STEP_START = "step_start"  # data: {}; attempt = try number starting at 0
    STEP_SUCCESS = "step_success"
    STEP_FAILURE = "step_failure"  # data: {"error": str, "traceback": str}
    STEP_RETRY = "step_retry"  # data: {"delay": float, "error": str}
    STEP_SKIPPED = "step_skipped"  # data: {"reason": str}
    LOG = "log"  # level, message
    MATERIALIZATION_PLANNED = "materialization_planned"  # data: asset_key + partitions
    ASSET_MATERIALIZATION = "asset_materialization"  # data: asset_key, partitions, metadata
    ASSET_FAILED = "asset_failed"  # data: asset_key, partitions
    ASSET_CHECK_EVALUATION = "asset_check_evaluation"  # data: asset_key, check_name, passed, severity


@dataclass(slots=True)
class PartitionSpan:
    """The partitions an event covers, as index ranges of one partitions definition.

    ``ranges`` are half-open ``[start, end)`` index pairs in the index space named by
    ``def_id`` (see ``PartitionsDefinition.index_space_id``): a million consecutive daily
    partitions are one pair.
    """

    def_id: str
    ranges: list[tuple[int, int]]

    def to_json(self) -> dict[str, Any]:
        return {"def_id": self.def_id, "ranges": [list(r) for r in self.ranges]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PartitionSpan:
        return cls(d["def_id"], [(int(a), int(b)) for a, b in d["ranges"]])

    @property
    def count(self) -> int:
        return sum(b - a for a, b in self.ranges)


@dataclass(slots=True)
class EventRecord:
    """One row of the event log.

    ``data`` holds the type-specific fields (JSON-serialisable); ``metadata`` is the user
    metadata of materializations and check results.
    """

    run_id: str
    event_type: EventType
    node: str | None = None
    attempt: int | None = None
    message: str = ""
    level: str | None = None
    timestamp: float = field(default_factory=time.time)
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # set by storage once written

    @property
    def metadata(self) -> dict[str, Any]:
        return self.data.get("metadata", {})

    @property
    def asset_key(self) -> str | None:
        return self.data.get("asset_key")

    @property
    def partition_key(self) -> str | None:
        return self.data.get("partition")


# Keys of ``EventRecord.data`` that storage reads to derive its index tables.
DATA_ASSET_KEY = "asset_key"  # str, user string of the asset key
DATA_PARTITION = "partition"  # str | None, the single partition key of the event
DATA_PARTITION_RANGE = "partition_range"  # [first_key, last_key] for a single-run range
DATA_PARTITIONS = "partitions"  # PartitionSpan.to_json(): the index ranges covered
DATA_METADATA = "metadata"  # dict of user metadata (JSON-serialisable)
DATA_ERROR = "error"  # str, one-line error of a failure/retry
DATA_TRACEBACK = "traceback"  # str
DATA_REASON = "reason"  # str, why a step was skipped
DATA_CHECK_NAME = "check_name"
DATA_PASSED = "passed"
DATA_SEVERITY = "severity"
