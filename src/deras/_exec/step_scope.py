"""What the steps of one run share inside one process: events, resources, log, caches.

A :class:`StepScope` is opened once per run in each process that executes its steps (the
coordinator for in-process runs, each pool worker for the runs it serves). It holds no
decisions: outcomes, skips, branch choices and retries belong to the run loop
(``run_progress.py``). Its caches are optimisations of this process only: ``values`` keeps
outputs whose IO manager round-trips exactly, so an in-process downstream does not unpickle
what was just pickled; ``xcom_cache`` does the same for XComs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .._core.keys import AssetKey
from .._core.records import RunRecord
from .._graph.graph import Graph
from .capture import AttemptLogHandler, capture_output, run_logger
from .dag_run_info import DagRunInfo
from .event_writer import EventWriter
from .fd_capture import RunFds
from .ports import InstanceLike
from .run_resources import RunResources


@dataclass(slots=True)
class StepScope:
    """One run, as the steps executing in this process see it."""

    run: RunRecord
    graph: Graph
    instance: InstanceLike
    events: EventWriter
    resources: RunResources
    log_handler: AttemptLogHandler
    log: logging.Logger
    partition_keys: list[str] = field(default_factory=list)
    dag_run: DagRunInfo | None = None
    echo_output: bool = False
    run_fds: RunFds | None = None  # fds 1 and 2 as the run found them, restored after each attempt
    own_timeouts: bool = True  # False: a step past its timeout is stopped from outside (its process killed)
    # True: a step's start is stored before its body runs (a remote worker may vanish at any time)
    durable_start: bool = False
    values: dict[tuple[AssetKey, str | None], Any] = field(default_factory=dict)
    xcom_cache: dict[tuple[str, str, int], Any] = field(default_factory=dict)  # (node, key, map index)

    @property
    def run_id(self) -> str:
        return self.run.run_id

    def close(self) -> None:
        """Tear the run's resources down (what teardown code prints is the run's output); the
        last capture of the run, so its copies of fds 1 and 2 are closed after it."""
        try:
            if not self.resources.has_teardown:
                self.resources.teardown(self.log)  # nothing to run: no capture to set up
                return
            with capture_output(self.events, self.run_id, None, None, self.echo_output, self.run_fds):
                self.resources.teardown(self.log)
        finally:
            if self.run_fds is not None:
                self.run_fds.close()
                self.run_fds = None


def open_scope(
    run: RunRecord,
    graph: Graph,
    instance: InstanceLike,
    resources: dict[str, Any],
    events: EventWriter,
    *,
    partition_keys: list[str] | None = None,
    dag_run: DagRunInfo | None = None,
    echo_output: bool = False,
) -> StepScope:
    """A scope for ``run`` in this process, writing its events to ``events``."""
    handler = AttemptLogHandler(events, run.run_id)
    return StepScope(
        run=run,
        graph=graph,
        instance=instance,
        events=events,
        resources=RunResources(resources, instance.default_io_manager, events.secrets),
        log_handler=handler,
        log=run_logger(handler),
        partition_keys=list(partition_keys or []),
        dag_run=dag_run,
        echo_output=echo_output,
        run_fds=RunFds(),
    )
