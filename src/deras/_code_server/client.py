"""The web side of a code location: a code server process, and calls to it with time limits.

``CodeLocation`` starts ``python -m deras._code_server`` for one location and talks to it over
a Unix socket. It never imports the user's code: a syntax error, an import that raises or a
module that calls ``sys.exit`` shows up as a ``LoadErrorSnap``, and a server killed from
outside is started again on the next call. Safe to use from many threads.

>>> loc = CodeLocation(LocationRef(module="my_pipelines"))
>>> loc.name
'my_pipelines'
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._core.errors import DerasError
from .._snapshot.snapshot import CodeSnapshot, LoadErrorSnap, LocationRef, snapshot_from_json
from .request import LaunchRejected, LaunchRequest, LaunchResult

DEFAULT_CALL_TIMEOUT = 30.0
DEFAULT_START_TIMEOUT = 120.0
_LOG_TAIL_BYTES = 4000


class CodeServerError(DerasError):
    """The code server could not be started, reached, or did not answer in time."""


class _ServerProcess:
    """One code server process: its socket, its log, and how to stop it."""

    def __init__(self, location: LocationRef, env: dict[str, str]) -> None:
        # A short folder of its own: a Unix socket path must stay under ~100 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="deras-code-"))
        self.socket_path = str(self.folder / "s")
        self.log_path = self.folder / "server.log"
        argv = [sys.executable, "-m", "deras._code_server", "--socket", self.socket_path]
        argv += ["--parent-pid", str(os.getpid())]
        if location.file:
            argv += ["--file", location.file]
        elif location.dags_folder:
            argv += ["--dags-folder", location.dags_folder]
        else:
            argv += ["--module", str(location.module)]
        if location.working_dir:
            argv += ["--working-dir", location.working_dir]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def died_within(self, seconds: float) -> bool:
        """Whether the process is gone, or goes within ``seconds`` (a killed one takes a moment)."""
        try:
            self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def log_tail(self) -> str:
        try:
            data = self.log_path.read_bytes()[-_LOG_TAIL_BYTES:]
        except OSError:
            return ""
        return data.decode(errors="replace").strip()

    def call(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request, read one answer; socket errors propagate (OSError, TimeoutError)."""
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            while True:
                try:
                    sock.connect(self.socket_path)
                    break
                except BlockingIOError:  # the listen backlog is full: a burst of callers
                    if time.monotonic() >= deadline:
                        raise TimeoutError("the code server accepted no connection in time") from None
                    time.sleep(0.01)
            sock.sendall(json.dumps(message).encode() + b"\n")
            chunks = []
            while True:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    break
        raw = b"".join(chunks)
        if not raw.endswith(b"\n"):
            raise ConnectionResetError("the code server closed the connection before answering")
        answer: dict[str, Any] = json.loads(raw)
        return answer

    def wait_ready(self, timeout: float, what: str) -> None:
        """Until the server answers ping (it binds its socket once the code is loaded)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                tail = self.log_tail()
                raise CodeServerError(
                    f"the code server for {what} exited (code {self.proc.returncode}) before serving"
                    + (f":\n{tail}" if tail else "")
                )
            if os.path.exists(self.socket_path):
                try:
                    self.call({"op": "ping"}, timeout=max(0.5, deadline - time.monotonic()))
                    return
                except (OSError, ValueError):
                    pass
            if time.monotonic() >= deadline:
                raise CodeServerError(
                    f"the code server for {what} did not come up within {timeout:g} s (loading the code "
                    "took too long or hangs)"
                )
            time.sleep(0.02)

    def stop(self, grace: float = 2.0) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_LIVE: weakref.WeakSet[CodeLocation] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for location in list(_LIVE):
        location.stop()


class CodeLocation:
    """One code location served by a process of its own.

    ``snapshot()`` is cached until ``reload()``; ``launch()`` queues a run (the daemon runs it).
    Every call has a time limit (``call_timeout``; starting: ``start_timeout``) and raises
    ``CodeServerError`` saying what did not answer. A server that died is started again on the
    next call.
    """

    def __init__(
        self,
        location: LocationRef | dict[str, str],
        *,
        instance: Any = None,
        env: dict[str, str] | None = None,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        name: str | None = None,
    ) -> None:
        ref = location if isinstance(location, LocationRef) else LocationRef.from_json(location)
        if sum(x is not None for x in (ref.file, ref.module, ref.dags_folder)) != 1:
            raise DerasError("a code location is a file, a module or a DAG folder: give exactly one")
        if ref.file is not None:
            ref = LocationRef(str(Path(ref.file).resolve()), None, ref.working_dir)
        if ref.dags_folder is not None:
            ref = LocationRef(working_dir=ref.working_dir, dags_folder=str(Path(ref.dags_folder).resolve()))
        self.location = ref
        self.name = name or _name_of(ref)
        self.call_timeout = call_timeout
        self.start_timeout = start_timeout
        self._env = dict(os.environ if env is None else env)
        settings = getattr(instance, "settings", None)
        if settings is not None:  # the server opens the same instance as its caller
            self._env["DERAS_HOME"] = str(settings.home)
            self._env["DERAS_DATABASE_URL"] = settings.database_url
        self._lock = threading.RLock()
        self._process: _ServerProcess | None = None
        self._snapshot: CodeSnapshot | LoadErrorSnap | None = None
        self._start_failure: LoadErrorSnap | None = None
        _LIVE.add(self)

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the server if it is not running (calls start it anyway)."""
        self._running()

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process is not None and self._process.alive() else None

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.stop()

    def reload(self) -> CodeSnapshot | LoadErrorSnap:
        """Load the code again in a new server; the old one serves until the new one is up.

        A new server that does not come up raises ``CodeServerError`` and the old one stays.
        Returns the new snapshot (or load error).
        """
        fresh = _ServerProcess(self.location, self._env)
        try:
            fresh.wait_ready(self.start_timeout, self.location.label)
        except CodeServerError:
            fresh.stop()
            raise
        with self._lock:
            old, self._process = self._process, fresh
            self._snapshot = None
            self._start_failure = None
        if old is not None:
            old.stop()
        return self.snapshot()

    def _running(self) -> _ServerProcess:
        with self._lock:
            if self._process is not None and self._process.alive():
                return self._process
            if self._process is not None:  # died (killed, crashed): what it loaded is gone too
                self._process.stop()
                self._process = None
                self._snapshot = None
            fresh = _ServerProcess(self.location, self._env)
            try:
                fresh.wait_ready(self.start_timeout, self.location.label)
            except CodeServerError as err:
                fresh.stop()
                self._start_failure = LoadErrorSnap(
                    self.location, str(err), "", self.location.file, None, time.time()
                )
                raise
            self._process = fresh
            self._start_failure = None
            return fresh

    # -- calls ------------------------------------------------------------------------------

    def _call(self, op: str, timeout: float | None = None, *, idempotent: bool = True, **payload: Any) -> Any:
        """One request. A server found dead is started again and the request sent again, once,
        if it was not sent yet or sending it twice does no harm (``idempotent``)."""
        timeout = self.call_timeout if timeout is None else timeout
        message = {"op": op, **payload}
        for attempt in (1, 2):
            process = self._running()
            try:
                answer = process.call(message, timeout)
                break
            except TimeoutError:
                raise CodeServerError(
                    f"the code server for {self.location.label} did not answer {op!r} within {timeout:g} s"
                ) from None
            except (OSError, ValueError) as err:
                unsent = isinstance(err, ConnectionRefusedError | FileNotFoundError)
                if attempt == 1 and (unsent or idempotent) and process.died_within(1.0):
                    continue
                raise CodeServerError(
                    f"the code server for {self.location.label} failed while answering {op!r} ({err}); "
                    "whether it acted is unknown (it is started again on the next call if it died)"
                ) from err
        if answer.get("ok"):
            return answer.get("result")
        error = answer.get("error") or {}
        if error.get("kind") in ("rejected", "bad_request"):
            raise LaunchRejected(str(error.get("message")))
        detail = f"\n{error['traceback']}" if error.get("traceback") else ""
        raise CodeServerError(
            f"the code server for {self.location.label} failed: {error.get('message')}{detail}"
        )

    def ping(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("ping")
        return result

    def snapshot(self) -> CodeSnapshot | LoadErrorSnap:
        """What the location defines, or why it did not load (cached until ``reload()``).

        A server that cannot be started comes back as a ``LoadErrorSnap`` saying so; it is
        tried again after ``reload()``.
        """
        with self._lock:
            if self._snapshot is not None:
                return self._snapshot
            if self._start_failure is not None:
                return self._start_failure
        try:
            result = self._call("snapshot")
        except CodeServerError as err:
            with self._lock:
                return self._start_failure or LoadErrorSnap(
                    self.location, str(err), "", self.location.file, None, time.time()
                )
        snap = snapshot_from_json(result)
        with self._lock:
            self._snapshot = snap
        return snap

    def launch_result(self, request: LaunchRequest | dict[str, Any]) -> LaunchResult:
        """Queue what ``request`` asks for; ``LaunchRejected`` (nothing written) on bad input."""
        if not isinstance(request, LaunchRequest):
            request = LaunchRequest.from_json(request)  # the shape is checked here, before any call
        # A run launch is idempotent (its request_id is the run's idempotency key); others are not.
        idempotent = request.target_kind in ("selection", "job", "dag_id", "reexecute")
        result = self._call("launch", idempotent=idempotent, request=request.to_json())
        return LaunchResult.from_json(result)

    def launch(self, request: LaunchRequest | dict[str, Any]) -> str:
        """The id of the queued run (of the backfill, for a backfill request)."""
        return self.launch_result(request).id

    def __repr__(self) -> str:
        return f"<CodeLocation {self.name} ({self.location.label}) pid={self.pid}>"


class CodeLocations:
    """The code locations an instance serves, by name (deras.yaml may list several)."""

    def __init__(self, locations: list[CodeLocation] | None = None) -> None:
        self._by_name: dict[str, CodeLocation] = {}
        for location in locations or []:
            self.add(location)

    @classmethod
    def single(cls, location: LocationRef | dict[str, str], **kwargs: Any) -> CodeLocations:
        return cls([CodeLocation(location, **kwargs)])

    def add(self, location: CodeLocation) -> None:
        if location.name in self._by_name:
            raise DerasError(f"two code locations are named '{location.name}'")
        self._by_name[location.name] = location

    def get(self, name: str) -> CodeLocation:
        try:
            return self._by_name[name]
        except KeyError:
            raise DerasError(
                f"no code location named '{name}' (locations: {sorted(self._by_name)})"
            ) from None

    def for_code_location(self, code_location: dict[str, str] | None) -> CodeLocation | None:
        """The location a run's ``code_location`` names (by file or module), if served here."""
        if not code_location:
            return None
        for location in self:
            ref = location.location
            if same_source(code_location, ref.to_json()):
                return location
        return None

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[CodeLocation]:
        return iter(list(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)

    def start(self) -> None:
        """Start every server at once (they load in parallel)."""
        threads = [threading.Thread(target=_start_quietly, args=(loc,)) for loc in self]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def stop(self) -> None:
        for location in self:
            location.stop()


def _start_quietly(location: CodeLocation) -> None:
    with contextlib.suppress(CodeServerError):  # its snapshot() reports it
        location.start()


def _name_of(ref: LocationRef) -> str:
    if ref.file:
        return Path(ref.file).stem
    return Path(ref.dags_folder).name if ref.dags_folder else str(ref.module)


def same_source(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two code locations name the same file, module or DAG folder."""
    keys = ("file", "module", "dags_folder")
    mine = {k: one[k] for k in keys if one.get(k)}
    return bool(mine) and mine == {k: other[k] for k in keys if other.get(k)}
