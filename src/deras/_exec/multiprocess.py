"""The multiprocess executor: a warm pool of worker processes, forked once per run.

Each worker is forked from the coordinating process when the run starts, so it has the code
already — assets defined in a script run as ``__main__`` or in a notebook included — and runs
many steps, one at a time, without importing anything again. A worker opens its own scope
(resources, capture of its fds, log) and sends its events and each step's outcome back over
its pipe; the coordinator stores the events and feeds the outcomes to the run loop.

A worker that dies (``os._exit``, a segfault, the OOM killer) loses only the attempt it was
running: the loop records its failure and retries it by the node's policy, and a new worker
takes the dead one's place. A step past its ``timeout=`` is stopped the same way: its worker is
killed. Values go through the IO managers to storage every worker shares (an instance kept in
memory gets a temporary folder for the run's values).

Fork: POSIX only (Linux, and macOS where system frameworks allow it); the coordinator's threads
(the event writer, the heartbeat) do not exist in a worker, which touches none of their state.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing import connection
from multiprocessing.connection import Connection
from typing import Any, NoReturn

from .._core.errors import ConfigError
from .._core.events import EventRecord
from .._core.records import RunRecord
from .._core.status import NodeStatus
from .event_writer import EventWriter
from .executor import RunSetup
from .step import execute_step
from .step_scope import StepScope, open_scope
from .step_types import StepOutcome, StepSpec

_SHUTDOWN_SECONDS = 5.0  # how long workers get to finish their last events before being killed


class MultiprocessExecutor:
    """Run steps in a pool of ``max_concurrent`` worker processes (default: the CPU count).

    ``tag_concurrency_limits`` caps, within a run, how many steps with a tag run at once:
    ``[{"key": "db", "value": "warehouse", "limit": 2}]`` (no ``value``: per value of the key).

    >>> MultiprocessExecutor(max_concurrent=4).max_concurrent
    4
    """

    name = "multiprocess"
    needs_shared_storage = True  # workers read each other's values from storage

    def __init__(
        self,
        max_concurrent: int | None = None,
        *,
        tag_concurrency_limits: list[dict[str, Any]] | None = None,
    ) -> None:
        if max_concurrent is not None and (not isinstance(max_concurrent, int) or max_concurrent < 1):
            raise ConfigError(
                f"MultiprocessExecutor(max_concurrent={max_concurrent!r}): give a whole number >= 1"
            )
        if not hasattr(os, "fork"):
            raise ConfigError(
                "MultiprocessExecutor needs os.fork (Linux or macOS); use InProcessExecutor here"
            )
        self.max_concurrent = max_concurrent or os.cpu_count() or 1
        self.tag_concurrency_limits = list(tag_concurrency_limits or [])

    def start(self, setup: RunSetup) -> ProcessPoolSteps:
        return ProcessPoolSteps(setup, self.max_concurrent)

    def __repr__(self) -> str:
        return f"MultiprocessExecutor(max_concurrent={self.max_concurrent})"


@dataclass(slots=True, eq=False)
class _Worker:
    pid: int
    conn: Connection
    spec: StepSpec | None = None
    deadline: float | None = None  # monotonic time its step must end by
    events: list[Any] = field(default_factory=list)


class ProcessPoolSteps:
    """The workers serving one run."""

    def __init__(self, setup: RunSetup, size: int) -> None:
        self._setup = setup
        self._scope = setup.scope
        self._size = size
        self._workers: list[_Worker] = []
        for _ in range(size):
            self._workers.append(self._fork())

    # -- the executor interface -----------------------------------------------------------
    def has_room(self) -> bool:
        return any(w.spec is None for w in self._workers)

    def submit(self, spec: StepSpec) -> None:
        worker = next(w for w in self._workers if w.spec is None)
        timeout = self._scope.graph.nodes[spec.node_id].timeout
        worker.spec = spec
        worker.deadline = time.monotonic() + timeout if timeout else None
        worker.conn.send(spec)

    def poll(self, timeout: float | None) -> list[StepOutcome]:
        busy = [w for w in self._workers if w.spec is not None]
        deadlines = [w.deadline for w in busy if w.deadline is not None]
        if deadlines:
            until = max(0.0, min(deadlines) - time.monotonic())
            timeout = until if timeout is None else min(timeout, until)
        ready = connection.wait([w.conn for w in busy], timeout)
        outcomes: list[StepOutcome] = []
        for worker in busy:
            if worker.conn in ready:
                outcome = self._read(worker)
                if outcome is not None:
                    outcomes.append(outcome)
        now = time.monotonic()
        for worker in busy:
            if worker.spec is not None and worker.deadline is not None and now >= worker.deadline:
                outcomes.append(self._timed_out(worker))
        return outcomes

    def shutdown(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        give_up = time.monotonic() + _SHUTDOWN_SECONDS
        for worker in self._workers:
            self._drain(worker, give_up)
            _reap(worker.pid, give_up)
            worker.conn.close()
        self._workers.clear()

    # -- workers --------------------------------------------------------------------------
    def _fork(self) -> _Worker:
        ours, theirs = connection.Pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork with threads running: the worker uses none of theirs.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the worker
            ours.close()
            _serve(theirs, self._setup)
        theirs.close()
        return _Worker(pid, ours)

    def _read(self, worker: _Worker) -> StepOutcome | None:
        """Take in what the worker sent; its outcome if the step ended (also by its death)."""
        while True:
            try:
                kind, payload = worker.conn.recv()
            except (EOFError, OSError):
                return self._lost(worker, _death(worker.pid))
            if kind == "events":
                self._scope.events.add_records(payload)
                self._scope.events.transition()
            elif kind == "outcome":
                worker.spec, worker.deadline = None, None
                outcome: StepOutcome = payload
                return outcome
            if not worker.conn.poll():
                return None

    def _timed_out(self, worker: _Worker) -> StepOutcome:
        spec = worker.spec
        assert spec is not None
        timeout = self._scope.graph.nodes[spec.node_id].timeout
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGKILL)
        self._drain(worker, time.monotonic() + _SHUTDOWN_SECONDS)  # what it said before it died
        node = self._scope.graph.nodes[spec.node_id]
        return self._lost(
            worker,
            f"StepTimeoutError: {node.kind} {node.id} timed out after {timeout:g} s "
            f"(timeout={timeout:g}); its worker process was killed",
        )

    def _lost(self, worker: _Worker, why: str) -> StepOutcome:
        """The worker died: its attempt's outcome is lost, and a new worker takes its place."""
        spec = worker.spec
        _reap(worker.pid, time.monotonic() + _SHUTDOWN_SECONDS)
        worker.conn.close()
        self._workers[self._workers.index(worker)] = self._fork()
        assert spec is not None, "a worker died between steps"
        failed = NodeStatus.FAILED
        return StepOutcome(spec.run_id, spec.node_id, spec.attempt, failed, spec.map_index, lost=why)

    def _drain(self, worker: _Worker, give_up: float) -> None:
        """Take in the events a stopping worker still sends, until its pipe closes."""
        while time.monotonic() < give_up:
            try:
                if not worker.conn.poll(max(0.0, give_up - time.monotonic())):
                    return
                kind, payload = worker.conn.recv()
            except (EOFError, OSError):
                return
            if kind == "events":
                self._scope.events.add_records(payload)


def _death(pid: int) -> str:
    """How worker ``pid`` ended, in words."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "its worker process is gone"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = " (the OOM killer, or a kill -9)" if sig == signal.SIGKILL else ""
        return f"WorkerLost: its worker process died of signal {sig} ({name}){hint}"
    return f"WorkerLost: its worker process exited with code {os.WEXITSTATUS(status)} before the step ended"


def _reap(pid: int, give_up: float) -> None:
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() >= give_up:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            return
        time.sleep(0.005)


class _PipeSink:
    """The worker's event writer stores into the pipe: the coordinator stores for real."""

    def __init__(self, conn: Connection, lock: threading.Lock) -> None:
        self._conn = conn
        self._lock = lock

    def write(self, *, runs: Sequence[RunRecord] = (), events: Sequence[EventRecord] = ()) -> None:
        if events:
            with self._lock:
                self._conn.send(("events", events))


def _serve(conn: Connection, setup: RunSetup) -> NoReturn:
    """A worker's life: run each step it is sent until told to stop; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle
        coordinator = setup.scope
        coordinator.instance.after_fork()
        lock = threading.Lock()
        events = EventWriter(_PipeSink(conn, lock), background=True)
        events.log_dir = coordinator.events.log_dir
        scope = _worker_scope(setup, events)
        while True:
            spec = conn.recv()
            if spec is None:
                break
            outcome = execute_step(scope, spec)
            events.flush()
            with lock:
                conn.send(("outcome", outcome))
        scope.close()
        events.close()
        code = 0
    except BaseException:  # the coordinator sees the pipe close and says so
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def _worker_scope(setup: RunSetup, events: EventWriter) -> StepScope:
    coordinator = setup.scope
    scope = open_scope(
        coordinator.run,
        coordinator.graph,
        coordinator.instance,
        dict(setup.resources),
        events,
        partition_keys=coordinator.partition_keys,
        dag_run=coordinator.dag_run,
    )
    scope.own_timeouts = False  # the coordinator kills a worker whose step runs past its timeout
    return scope
