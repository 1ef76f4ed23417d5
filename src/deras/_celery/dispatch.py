"""The coordinator's side of the Celery executor: send steps, learn their outcomes from the store.

Each submitted step becomes one ``deras.run_step`` message on its queue (the node's
``deras/queue`` tag, else the executor's queue). Workers claim steps in the metadata store and
close the claim with the outcome; the coordinator waits on the store (Postgres LISTEN, SQLite
``data_version``) and reads the claims of its run — it never asks the broker, and never polls
faster than something happens. While waiting it also judges liveness, the store's way: a claim
whose heartbeat stopped is closed as lost and the step runs again elsewhere; a message nobody
claimed is given up after ``unclaimed_timeout_seconds``.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from .._core.status import NodeStatus
from .._exec.executor import RunSetup
from .._exec.run_owner import this_process
from .._exec.step_types import StepOutcome, StepSpec
from .app import QUEUE_TAG, TASK_NAME

LIVENESS_CHECK_SECONDS = 1.0  # how often claims' heartbeats are judged while steps run


@dataclass(slots=True)
class _Sent:
    spec: StepSpec
    queue: str
    payload: dict[str, Any]
    sent: float  # monotonic, the first time
    resent: bool = False


class CeleryRunSteps:
    """The steps of one run, out on Celery workers."""

    def __init__(self, setup: RunSetup, executor: Any) -> None:
        from .app import celery_app

        self._setup = setup
        self._scope = setup.scope
        self._executor = executor
        store = self._scope.instance.store
        self._claims = store.steps
        self._watch = store.watch_steps(self._scope.run_id)
        self._app = celery_app(executor.broker_url, queue=executor.queue)
        # A connection of this run's own: kombu's shared pools outlive apps (and closing them
        # would close them for every other run of this process).
        self._connection = self._app.connection_for_write()
        self._sent: dict[str, _Sent] = {}  # step name -> what was sent for it
        self._failed: list[StepOutcome] = []  # steps that could not be sent
        self._flushed = False

    def has_room(self) -> bool:
        limit = self._executor.max_concurrent
        return limit is None or len(self._sent) < limit

    def submit(self, spec: StepSpec) -> None:
        if not self._flushed:  # workers read the run record: it must be stored before they look
            self._scope.events.flush()
            self._flushed = True
        node = self._scope.graph.nodes[spec.node_id]
        queue = node.tags.get(QUEUE_TAG) or self._executor.queue
        payload = {
            "spec": spec.to_json(),
            "database": self._executor_database(),
            "heartbeat_timeout": self._executor.heartbeat_timeout_seconds,
        }
        try:
            self._send(payload, queue)
        except Exception as err:  # the broker is unreachable past the publish retries
            why = (
                f"BrokerUnreachable: could not send the step to {self._broker()}: {type(err).__name__}: {err}"
            )
            self._failed.append(_outcome(spec, lost=why))
            return
        self._sent[spec.name] = _Sent(spec, queue, payload, time.monotonic())

    def _send(self, payload: dict[str, Any], queue: str) -> None:
        self._app.send_task(
            TASK_NAME, args=[payload], queue=queue, ignore_result=True, connection=self._connection
        )

    def poll(self, timeout: float | None) -> list[StepOutcome]:
        if self._failed:
            failed, self._failed = self._failed, []
            return failed
        outcomes = self._read()
        if outcomes:
            return outcomes
        wait = LIVENESS_CHECK_SECONDS if timeout is None else min(timeout, LIVENESS_CHECK_SECONDS)
        self._watch.wait(wait)
        return self._read()

    def shutdown(self) -> None:
        self._watch.close()
        with contextlib.suppress(Exception):
            self._connection.release()
        self._app.close()

    # -- reading outcomes and judging liveness ---------------------------------------------
    def _read(self) -> list[StepOutcome]:
        if not self._sent:
            return []
        claims = self._claims.of_run(self._scope.run_id)
        now_wall, now = time.time(), time.monotonic()
        outcomes: list[StepOutcome] = []
        for name, sent in list(self._sent.items()):
            spec = sent.spec
            claim = claims.get((spec.run_id, name, spec.attempt))
            outcome = None
            if claim is None:
                waited = now - sent.sent
                if waited > self._executor.unclaimed_timeout_seconds:
                    outcome = _outcome(spec, lost=self._unclaimed(sent))
                elif waited > self._executor.resend_after_seconds and not sent.resent:
                    sent.resent = True  # a claim taken meanwhile makes the copy a no-op
                    with contextlib.suppress(Exception):  # unreachable: the timeout says so
                        self._send(sent.payload, sent.queue)
            elif claim.outcome is not None:
                # A worker's outcome; a claim this coordinator closed as lost has none to read.
                outcome = StepOutcome.from_json(claim.outcome) if "status" in claim.outcome else None
            elif now_wall - claim.heartbeat > self._executor.heartbeat_timeout_seconds:
                why = (
                    f"WorkerLost: the worker running it ({_who(claim.worker)}) stopped beating "
                    f"{now_wall - claim.heartbeat:.0f} s ago"
                )
                if self._claims.lose((spec.run_id, name, spec.attempt), why, now_wall):
                    outcome = _outcome(spec, lost=why, redispatch=True)
            if outcome is not None:
                del self._sent[name]
                outcomes.append(outcome)
        return outcomes

    def _unclaimed(self, sent: _Sent) -> str:
        return (
            f"NotClaimed: no worker took the step from queue '{sent.queue}' within "
            f"{self._executor.unclaimed_timeout_seconds:g} s. Fix: start `deras worker -Q {sent.queue}` "
            f"on the broker {self._broker()} with the same metadata database"
        )

    def _broker(self) -> str:
        from kombu.utils.url import maybe_sanitize_url

        return str(maybe_sanitize_url(self._executor.broker_url))

    def _executor_database(self) -> str:
        """The metadata database the workers must share, without its password."""
        return str(self._scope.instance.store.url_for_display)


def _outcome(spec: StepSpec, *, lost: str, redispatch: bool = False) -> StepOutcome:
    return StepOutcome(
        spec.run_id,
        spec.node_id,
        spec.attempt,
        NodeStatus.FAILED,
        spec.map_index,
        lost=lost,
        redispatch=redispatch,
    )


def _who(worker: dict[str, Any] | None) -> str:
    if not worker:
        return "unknown"
    return f"{worker.get('celery', '?')}, pid {worker.get('pid')} on {worker.get('host')}"


def worker_identity(celery_hostname: str | None) -> dict[str, Any]:
    """Who claims a step: the process, and the Celery worker it belongs to."""
    return {**this_process(), "celery": celery_hostname}
