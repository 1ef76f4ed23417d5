"""The worker's side of the Celery executor: claim a step, run it, record its outcome.

Runs in a Celery worker process (prefork), which has the code loaded already (``deras worker``
imports it before forking) and opens the metadata database of its own ``$DERAS_HOME`` /
``DERAS_DATABASE_URL``. A step is run only by the process that claims it; its events go to the
store only while the claim is open, and the claim closes with the outcome. A thread stamps the
claim's heartbeat; if the coordinator gave the claim up (it heard nothing for too long) or the
heartbeat cannot be stored for that long, the process stops itself: another worker runs the step
now, and this one must not write over its value.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._core.errors import DerasError
from .._core.events import EventRecord
from .._core.records import RunRecord
from .._defs.code_cache import CodeCache
from .._exec.event_writer import EventWriter
from .._exec.ports import InstanceLike
from .._exec.step import execute_step
from .._exec.step_scope import open_scope
from .._exec.step_types import StepSpec
from .dispatch import worker_identity

if TYPE_CHECKING:
    from .._storage.store import MetadataStore

log = logging.getLogger("deras.worker")

HEARTBEAT_SECONDS = 2.0


class ClaimLost(DerasError):
    """The coordinator gave this step up: nothing more of it may be stored."""


class _Process:
    """What one worker process keeps between steps: its instance, code and run records."""

    def __init__(self) -> None:
        if _open_instance is None:
            raise DerasError("this worker was not given its instance: start it with `deras worker`")
        self.pid = os.getpid()
        self.instance = _open_instance()
        self.code = CodeCache()
        if _preloaded is not None:
            self.code.remember(*_preloaded)
        self.runs: dict[str, RunRecord] = {}


_process: _Process | None = None
celery_hostname: str | None = None  # set by `deras worker`
_preloaded: tuple[dict[str, str], Any] | None = None  # the code `deras worker` imported
_open_instance: Callable[[], InstanceLike] | None = None  # each pool process opens its own


def preload(location: dict[str, str], definitions: Any, open_instance: Callable[[], InstanceLike]) -> None:
    """The code the worker imported before forking, and how a process opens the instance
    (``DerasInstance.get``: the instance sits above the executors, so the worker is handed it)."""
    global _preloaded, _open_instance
    _preloaded = (location, definitions)
    _open_instance = open_instance


def _here() -> _Process:
    global _process
    if _process is None or _process.pid != os.getpid():  # a forked pool process: its own
        _process = _Process()
    return _process


def run_step(payload: dict[str, Any]) -> str:
    """The task: run the step of ``payload`` if this process claims it. Returns what happened."""
    spec = StepSpec.from_json(payload["spec"])
    here = _here()
    store = here.instance.store
    expected = payload.get("database")
    if expected and expected != store.url_for_display:
        log.error(
            "step %s of run %s is for the database %s; this worker uses %s: not run "
            "(start `deras worker` with the coordinator's DERAS_DATABASE_URL)",
            spec.name, spec.run_id, expected, store.url_for_display,
        )  # fmt: skip
        return "wrong database"
    key = (spec.run_id, spec.name, spec.attempt)
    if not store.steps.claim(key, worker_identity(celery_hostname), time.time()):
        return "claimed elsewhere"  # a redelivered message: the step ran, or runs, elsewhere
    with _Heartbeat(store, key, payload.get("heartbeat_timeout", 30.0)):
        return _run(here, spec, key)


def _run(here: _Process, spec: StepSpec, key: tuple[str, str, int]) -> str:
    store = here.instance.store
    run = here.runs.get(spec.run_id) or store.get_run(spec.run_id)
    if run is None:
        raise DerasError(f"run {spec.run_id} is not in this worker's database ({store.url_for_display})")
    here.runs[spec.run_id] = run
    definitions = _definitions(here, spec)
    graph = _graph_with(definitions, spec.node_id)
    events = EventWriter(_ClaimSink(store, key), background=True)
    events.log_dir = here.instance.home / "logs" if here.instance.home is not None else None
    scope = open_scope(
        run,
        graph,
        here.instance,
        definitions.resources,
        events,
        partition_keys=list(spec.partition_keys),
        dag_run=spec.dag_run,
    )
    scope.durable_start = True
    try:
        outcome = execute_step(scope, spec)
    finally:
        scope.close()  # resources are set up per step: a worker serves many runs
    events.close()  # raises ClaimLost if the claim closed meanwhile
    if not store.steps.finish(key, outcome.to_json(), [], time.time()):
        raise ClaimLost(f"step {spec.name} of run {spec.run_id}: the coordinator gave it up")
    return str(outcome.status)


def _definitions(here: _Process, spec: StepSpec) -> Any:
    """The run's code: where its run recorded it, else what this worker was started with (a
    run started by ``dg.materialize`` in a script or a notebook records no location)."""
    if spec.code_location:
        return here.code.definitions(dict(spec.code_location))
    if _preloaded is None:
        raise DerasError(f"run {spec.run_id} recorded no code location, and this worker loaded none")
    return _preloaded[1]


def _graph_with(definitions: Any, node_id: str) -> Any:
    """The graph holding ``node_id``: the code location's, or the DAG's it belongs to."""
    graph = definitions.asset_graph
    if node_id in graph.nodes:
        return graph
    for dag in definitions.dags:
        if node_id in dag.graph.nodes:
            return dag.graph
    raise DerasError(f"node {node_id} is no longer in its code location")


class _ClaimSink:
    """The step's event writer stores through the claim: only while it is open."""

    def __init__(self, store: MetadataStore, key: tuple[str, str, int]) -> None:
        self._store = store
        self._key = key

    def write(self, *, runs: Sequence[RunRecord] = (), events: Sequence[EventRecord] = ()) -> None:
        if events and not self._store.steps.append_events(self._key, events):
            raise ClaimLost(f"step {self._key[1]} of run {self._key[0]}: the coordinator gave it up")


class _Heartbeat:
    """Stamps the claim while the step runs; stops the process if it cannot hold the claim."""

    def __init__(self, store: MetadataStore, key: tuple[str, str, int], timeout: float) -> None:
        self._store = store
        self._key = key
        self._timeout = timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="deras-step-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(min(HEARTBEAT_SECONDS, self._timeout / 4)):
            try:
                lost = self._store.steps.beat([self._key], time.time())
            except Exception:  # the database is away: the claim holds while the timeout does
                log.warning("heartbeat of step %s failed", self._key[1], exc_info=True)
                lost = []
                if time.monotonic() - last < self._timeout:
                    continue
                lost = [self._key]
            else:
                last = time.monotonic()
            if lost:
                log.error(
                    "step %s of run %s was given up by its coordinator: this process stops",
                    self._key[1], self._key[0],
                )  # fmt: skip
                os._exit(75)  # the pool replaces this process; nothing more of the step is written
