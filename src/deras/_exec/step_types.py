"""What travels between the run loop and whatever executes steps: specs out, outcomes back.

A *step* is one attempt of one node (or of one instance of a mapped task) in one run. The run
loop sends a frozen :class:`StepSpec` to an executor, which may run it in this process, in a
pool worker or on a Celery worker, and gets a frozen :class:`StepOutcome` back. Both are plain
data (picklable, and JSON-able through ``to_json``/``from_json``), so they cross processes and
machines unchanged. Why a node did not run is a typed :class:`SkipCause`, not a string that
callers parse by prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .._core.status import NodeStatus
from .dag_run_info import DagRunInfo


class SkipKind(StrEnum):
    """Why a node ended without succeeding or failing itself."""

    BLOCKED = "blocked"  # a blocking check upstream failed
    NOT_CHOSEN = "not_chosen"  # a branch upstream chose other tasks
    SHORT_CIRCUIT = "short_circuit"  # a short-circuit task upstream (maybe far) returned a falsy value
    TRIGGER_RULE = "trigger_rule"  # its trigger rule said skip
    UPSTREAM_FAILED = "upstream_failed"  # its trigger rule gave up on a failed upstream
    CANCELED = "canceled"  # the run was canceled before it started
    DAGRUN_TIMEOUT = "dagrun_timeout"  # the DAG run's timeout passed before it started
    RAISED = "raised"  # the node raised SkipTask (or a bash task exited 99)
    EMPTY_MAP = "empty_map"  # a mapped task over an empty list


@dataclass(frozen=True, slots=True)
class SkipCause:
    """A typed reason; ``message`` renders the words users see in events and the CLI.

    >>> SkipCause(SkipKind.BLOCKED, "check positive on prices").message
    'blocked by check positive on prices'
    >>> SkipCause(SkipKind.TRIGGER_RULE, "all_success", upstream="etl.a", upstream_state="skipped").message
    'trigger rule all_success: upstream etl.a is skipped'
    """

    kind: SkipKind
    detail: str = ""
    upstream: str = ""
    upstream_state: str = ""

    @property
    def message(self) -> str:
        kind = self.kind
        if kind == SkipKind.BLOCKED:
            return f"blocked by {self.detail}"
        if kind == SkipKind.NOT_CHOSEN:
            return f"not chosen by branch {self.detail}"
        if kind == SkipKind.SHORT_CIRCUIT:
            return f"short-circuited by {self.detail}"
        if kind == SkipKind.TRIGGER_RULE:
            return f"trigger rule {self.detail}: upstream {self.upstream} is {self.upstream_state}"
        if kind == SkipKind.UPSTREAM_FAILED:
            return f"upstream {self.upstream} failed"
        if kind == SkipKind.CANCELED:
            return "run canceled"
        if kind == SkipKind.EMPTY_MAP:
            return "mapped over an empty list: no instance to run"
        return self.detail  # DAGRUN_TIMEOUT and RAISED carry their full message

    @property
    def status(self) -> NodeStatus:
        """The node status this cause ends a node with."""
        return NodeStatus.UPSTREAM_FAILED if self.kind == SkipKind.UPSTREAM_FAILED else NodeStatus.SKIPPED

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "detail": self.detail,
            "upstream": self.upstream,
            "upstream_state": self.upstream_state,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> SkipCause:
        return cls(SkipKind(data["kind"]), data["detail"], data["upstream"], data["upstream_state"])


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One attempt to execute: everything a process with the code loaded needs to run it.

    ``retries_left`` says whether a failure of this attempt is retried (the step records a
    retry rather than a final failure, and runs ``on_retry`` rather than ``on_failure``).
    ``map_counts`` are the instance counts of the run's mapped tasks decided so far, for XCom
    pulls of a mapped upstream; ``succeeded_upstream`` the direct upstream nodes that
    succeeded (an XCom one of them should have pushed and did not is an error, not None).
    """

    run_id: str
    node_id: str
    attempt: int
    map_index: int = -1
    partition_keys: tuple[str, ...] = ()
    retries_left: int = 0
    code_location: Mapping[str, str] | None = None
    dag_run: DagRunInfo | None = None
    map_counts: Mapping[str, int] = field(default_factory=dict)
    succeeded_upstream: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        """The node's name in events: ``node`` or ``node[i]`` for an instance of a mapped task."""
        return self.node_id if self.map_index < 0 else f"{self.node_id}[{self.map_index}]"

    def to_json(self) -> dict[str, Any]:
        """The spec as JSON, for a message to a remote worker (``from_json`` reads it back)."""
        return {
            "run_id": self.run_id,
            "node_id": self.node_id,
            "attempt": self.attempt,
            "map_index": self.map_index,
            "partition_keys": list(self.partition_keys),
            "retries_left": self.retries_left,
            "code_location": dict(self.code_location) if self.code_location else None,
            "dag_run": self.dag_run.to_json() if self.dag_run is not None else None,
            "map_counts": dict(self.map_counts),
            "succeeded_upstream": sorted(self.succeeded_upstream),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepSpec:
        dag_run = data.get("dag_run")
        return cls(
            run_id=data["run_id"],
            node_id=data["node_id"],
            attempt=data["attempt"],
            map_index=data.get("map_index", -1),
            partition_keys=tuple(data.get("partition_keys") or ()),
            retries_left=data.get("retries_left", 0),
            code_location=data.get("code_location"),
            dag_run=DagRunInfo.from_json(dag_run) if dag_run else None,
            map_counts=dict(data.get("map_counts") or {}),
            succeeded_upstream=frozenset(data.get("succeeded_upstream") or ()),
        )


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """How one attempt ended, as the run loop needs to know it.

    ``status`` is SUCCESS, FAILED, SKIPPED (the node raised SkipTask: ``skip`` says why) or
    UP_FOR_RETRY (failed, and will be tried again after ``retry_delay`` seconds).
    ``branch_choice`` holds the task ids a branch task chose. ``lost`` says why an executor
    could not learn the outcome from the attempt itself (its process died, or was killed at the
    node's timeout): the run loop records that attempt's failure, a retry by the node's policy —
    or, with ``redispatch`` (the machine running it was lost, not the node's doing), runs the
    step again without using up a retry.
    """

    run_id: str
    node_id: str
    attempt: int
    status: NodeStatus
    map_index: int = -1
    error: str | None = None
    retry_delay: float = 0.0
    branch_choice: frozenset[str] | None = None
    skip: SkipCause | None = None
    lost: str | None = None
    redispatch: bool = False

    @property
    def name(self) -> str:
        return self.node_id if self.map_index < 0 else f"{self.node_id}[{self.map_index}]"

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "node_id": self.node_id,
            "attempt": self.attempt,
            "status": self.status.value,
            "map_index": self.map_index,
            "error": self.error,
            "retry_delay": self.retry_delay,
            "branch_choice": sorted(self.branch_choice) if self.branch_choice is not None else None,
            "skip": self.skip.to_json() if self.skip is not None else None,
            "lost": self.lost,
            "redispatch": self.redispatch,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepOutcome:
        choice = data.get("branch_choice")
        skip = data.get("skip")
        return cls(
            run_id=data["run_id"],
            node_id=data["node_id"],
            attempt=data["attempt"],
            status=NodeStatus(data["status"]),
            map_index=data.get("map_index", -1),
            error=data.get("error"),
            retry_delay=data.get("retry_delay", 0.0),
            branch_choice=frozenset(choice) if choice is not None else None,
            skip=SkipCause.from_json(skip) if skip else None,
            lost=data.get("lost"),
            redispatch=bool(data.get("redispatch", False)),
        )
