"""What one run's execution shares between its steps."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .._core.keys import AssetKey
from .._core.records import RunRecord
from .._core.status import NodeStatus
from .._core.task_state import TaskInstanceState, check_transition
from .._plan.plan import RunPlan
from .capture import AttemptLogHandler
from .event_writer import EventWriter
from .fd_capture import RunFds
from .run_resources import RunResources


@dataclass(slots=True)
class RunState:
    """Per-run execution state: events, resources, outcomes and the value cache.

    ``values`` holds outputs of this run by (asset key, partition) for IO managers whose
    values round-trip exactly (the built-in ones), so an in-process downstream need not
    unpickle what it just pickled.
    """

    run: RunRecord
    plan: RunPlan
    instance: Any
    events: EventWriter
    resources: RunResources
    log_handler: AttemptLogHandler
    log: logging.Logger
    echo_output: bool = False
    run_fds: RunFds | None = None  # fds 1 and 2 as the run found them, restored after each attempt
    outcomes: dict[str, NodeStatus] = field(default_factory=dict)
    failed_checks: dict[str, str] = field(default_factory=dict)  # check node id -> "check x on y"
    skip_reasons: dict[str, str] = field(default_factory=dict)
    # DAG runs: logical date, intervals, conf and params (None for asset runs)
    dag_run: Any = None
    branch_follow: dict[str, set[str]] = field(default_factory=dict)  # branch node -> task ids chosen
    map_counts: dict[str, int] = field(default_factory=dict)  # mapped node -> instances run
    xcom_cache: dict[tuple[str, str, int], Any] = field(default_factory=dict)  # (node, key, map index)
    # A cleared run goes on from its stored attempts: the next try of each node starts here.
    first_attempts: dict[str, int] = field(default_factory=dict)
    # Each node (or mapped instance) moves through the task instance state machine; every
    # move is checked against its table of allowed transitions.
    ti_states: dict[str, Any] = field(default_factory=dict)

    def move(self, name: str, *targets: Any) -> None:
        """Move ``name`` through ``targets`` in order, refusing any transition the table forbids."""
        current = self.ti_states.get(name, TaskInstanceState.NONE)
        for target in targets:
            check_transition(current, target)
            current = target
        self.ti_states[name] = current

    values: dict[tuple[AssetKey, str | None], Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.run.run_id
