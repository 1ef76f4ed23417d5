"""Run launchers: how the daemon starts a claimed run in a process of its own.

Runs never execute in the daemon: user code that hangs, leaks or calls ``os._exit`` must not
take scheduling down with it. Two launchers share one small interface:

- :class:`ProcessLauncher` starts ``python -m deras run-worker RUN_ID`` per run: the most
  isolation, and ~0.3 s of interpreter start and imports per run.
- :class:`WarmPoolLauncher` keeps worker processes that have already imported deras and the
  code location (``run-worker --serve``) and hands each a run id over a pipe. A worker runs
  one run at a time and is replaced after ``runs_per_worker`` runs, so a tick reaches its first
  node in tens of milliseconds and short runs cost no process start. A worker that dies takes
  only its current run with it; the launcher reports it and the run monitor fails that run.
"""

from __future__ import annotations

import json
import logging
import os
import select
import selectors
import subprocess
import sys
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .._instance.instance import DerasInstance

log = logging.getLogger("deras.launcher")


class RunLauncher(Protocol):
    def capacity(self) -> int:
        """How many more runs can be launched right now."""

    def launch(self, run_id: str) -> None:
        """Start the claimed run ``run_id`` in another process."""

    def poll(self) -> list[tuple[str, int | None]]:
        """Runs whose process ended since the last poll: ``(run_id, exit code or None)``."""

    def wait(self, timeout: float, wake_fd: int | None = None) -> bool:
        """Block until a run may have ended, ``wake_fd`` is readable, or ``timeout`` passes;
        True unless the timeout passed."""

    def shutdown(self) -> None:
        """Stop idle workers; runs in progress go on in their processes."""


def worker_env(instance: DerasInstance) -> dict[str, str]:
    """The environment that makes a child process open the same instance."""
    if instance.settings is None:
        from .._core.errors import DerasError

        raise DerasError("an ephemeral (in-memory) instance cannot launch runs in other processes")
    env = dict(os.environ)
    env["DERAS_HOME"] = str(instance.settings.home)
    env["DERAS_DATABASE_URL"] = instance.settings.database_url
    env.pop("DERAS_CRASH_AFTER", None)  # crash points are for the daemon under test
    return env


class ProcessLauncher:
    """One ``deras run-worker RUN_ID`` process per run."""

    def __init__(self, instance: DerasInstance, *, max_processes: int = 64) -> None:
        self._env = worker_env(instance)
        self._max = max_processes
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    def capacity(self) -> int:
        return max(self._max - len(self._procs), 0)

    def launch(self, run_id: str) -> None:
        self._procs[run_id] = subprocess.Popen(
            [sys.executable, "-m", "deras", "run-worker", run_id],
            env=self._env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C on the daemon stops the daemon, not its runs
        )

    def poll(self) -> list[tuple[str, int | None]]:
        ended = [(rid, p.returncode) for rid, p in self._procs.items() if p.poll() is not None]
        for rid, _ in ended:
            del self._procs[rid]
        return ended

    def wait(self, timeout: float, wake_fd: int | None = None) -> bool:
        """Until a run's process may have ended, ``wake_fd`` is readable, or ``timeout``."""
        fds = [wake_fd] if wake_fd is not None else []
        step = min(timeout, 0.05) if self._procs else timeout
        return bool(select.select(fds, [], [], max(step, 0.0))[0]) or bool(self._procs)

    def shutdown(self) -> None:
        self._procs.clear()


@dataclass
class _Worker:
    proc: subprocess.Popen[str]
    reader: IO[str]
    run_id: str | None = None
    runs: int = 0
    ready: bool = False  # it said "ready": deras and the code location are imported
    buffer: str = field(default="")


class WarmPoolLauncher:
    """Up to ``workers`` warm worker processes, one run at a time each."""

    def __init__(
        self,
        instance: DerasInstance,
        *,
        workers: int = 4,
        runs_per_worker: int = 100,
        preload: dict[str, str] | None = None,
    ) -> None:
        self._env = worker_env(instance)
        self._max = workers
        self._runs_per_worker = runs_per_worker
        self._preload = preload
        self._workers: list[_Worker] = []
        self._selector = selectors.DefaultSelector()
        self._ended: list[tuple[str, int | None]] = []
        self._retired: list[subprocess.Popen[str]] = []
        self._wake_fd: int | None = None
        self._closed = False

    def start(self) -> None:
        """Start every worker now, so that they are warm when the first runs come."""
        self._top_up()

    def capacity(self) -> int:
        """Idle workers that are ready: a run handed to a worker still importing would wait."""
        return sum(1 for w in self._workers if w.run_id is None and w.ready)

    def launch(self, run_id: str) -> None:
        worker = next((w for w in self._workers if w.run_id is None and w.ready), None)
        if worker is None:  # the caller ignored capacity(): a cold worker still does the job
            worker = self._spawn()
        worker.run_id = run_id
        worker.runs += 1
        assert worker.proc.stdin is not None
        try:
            worker.proc.stdin.write(run_id + "\n")
            worker.proc.stdin.flush()
        except OSError:  # it died while idle: poll() reports the run, the monitor fails it
            log.warning("worker %s died before it took run %s", worker.proc.pid, run_id)

    def wait(self, timeout: float, wake_fd: int | None = None) -> bool:
        """Block until a worker has something to say (a run ended, it is ready, it died),
        ``wake_fd`` is readable, or ``timeout`` passes (False). Nothing is consumed: poll()
        does that."""
        if wake_fd is not None and wake_fd != self._wake_fd:
            if self._wake_fd is not None:
                self._selector.unregister(self._wake_fd)
            self._selector.register(wake_fd, selectors.EVENT_READ, None)
            self._wake_fd = wake_fd
        return bool(self._selector.select(timeout=max(timeout, 0.0)))

    def poll(self) -> list[tuple[str, int | None]]:
        for key, _ in self._selector.select(timeout=0):
            worker: _Worker | None = key.data
            if worker is None:
                continue  # the wake pipe: its owner drains it
            chunk = os.read(key.fd, 65536).decode()
            if not chunk:
                continue
            worker.buffer += chunk
            *lines, worker.buffer = worker.buffer.split("\n")
            for line in lines:
                parts = line.split()
                if parts == ["ready"]:
                    worker.ready = True
                elif len(parts) == 3 and parts[0] == "done" and parts[1] == worker.run_id:
                    self._ended.append((parts[1], 0))
                    worker.run_id = None
        for worker in list(self._workers):
            if worker.proc.poll() is not None:
                self._remove(worker)
                if worker.run_id is not None:
                    log.error(
                        "worker %s exited (%s) while running %s",
                        worker.proc.pid,
                        worker.proc.returncode,
                        worker.run_id,
                    )
                    self._ended.append((worker.run_id, worker.proc.returncode))
            elif worker.run_id is None and worker.runs >= self._runs_per_worker:
                self._retire(worker)
        # Reap retired workers that have exited, so they do not linger as zombies.
        self._retired = [p for p in self._retired if p.poll() is None]
        if not self._closed:
            self._top_up()
        ended, self._ended = self._ended, []
        return ended

    def _top_up(self) -> None:
        while len(self._workers) < self._max:
            self._spawn()

    def shutdown(self) -> None:
        self._closed = True
        for worker in list(self._workers):
            if worker.run_id is None:
                self._retire(worker)
        self._workers.clear()

    def _spawn(self) -> _Worker:
        command = [sys.executable, "-m", "deras", "run-worker", "--serve"]
        if self._preload:
            command += ["--preload", json.dumps(self._preload)]
        proc = subprocess.Popen(
            command,
            env=self._env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,  # Ctrl-C on the daemon stops the daemon, not its runs
        )
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        worker = _Worker(proc, proc.stdout)
        self._selector.register(proc.stdout.fileno(), selectors.EVENT_READ, worker)
        self._workers.append(worker)
        return worker

    def _remove(self, worker: _Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
            self._selector.unregister(worker.reader.fileno())

    def _retire(self, worker: _Worker) -> None:
        self._remove(worker)
        self._retired.append(worker.proc)
        try:
            assert worker.proc.stdin is not None
            worker.proc.stdin.close()  # EOF: the worker exits after its current run
        except OSError:
            pass
