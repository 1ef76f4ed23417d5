"""The code server: loads one code location and answers JSON requests about it on a Unix socket.

``python -m deras._code_server --file F | --module M [--working-dir D] --socket PATH``, with
the instance's ``DERAS_HOME``/``DERAS_DATABASE_URL`` in its environment. The web server talks
to it through ``CodeLocation`` and so never imports user code.

Protocol: one connection per request; the caller sends one JSON object on a line, the server
answers with one line: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": {"kind":
"rejected" | "bad_request" | "internal", "message": ..., "traceback": ...}}``. Requests run on
threads of their own, so callers do not wait on each other; one that fails answers with its
error and the server goes on. A location that does not load is not a crash either: the
server stays up and answers ``snapshot`` with ``{"error": LoadErrorSnap}``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import socketserver
import sys
import threading
import time
import traceback
from typing import Any

from .._snapshot.snapshot import LoadErrorSnap, LocationRef

MAX_REQUEST_BYTES = 16 * 1024 * 1024
_PARENT_CHECK_SECONDS = 1.0


class CodeServer:
    """The loaded location (or why it did not load) and the request handlers."""

    def __init__(self, location: LocationRef) -> None:
        self.location = location
        self.loaded: Any = None  # LoadedCode
        self.load_error: LoadErrorSnap | None = None
        self.snapshot_json: dict[str, Any] | None = None
        self._instance: Any = None
        self._instance_lock = threading.Lock()

    @property
    def instance(self) -> Any:
        with self._instance_lock:
            if self._instance is None:
                from .._instance.instance import DerasInstance

                self._instance = DerasInstance.get()
            return self._instance

    def load(self) -> None:
        """Import the location and build its snapshot; any failure becomes ``load_error``."""
        from .._defs.loader import load_definitions
        from .._snapshot.build import snapshot_of

        try:
            self.loaded = load_definitions(
                file=self.location.file,
                module=self.location.module,
                working_dir=self.location.working_dir,
                dags_folder=self.location.dags_folder,
            )
            ref = LocationRef.from_json(self.loaded.location)
            self.location = ref
            snapshot = snapshot_of(
                self.loaded.definitions, ref, dynamic_partitions_store=_StoreIfReachable(self)
            )
            snapshot = dataclasses.replace(snapshot, load_errors=dict(self.loaded.load_errors))
            self.snapshot_json = snapshot.to_json()
        except BaseException as err:
            if isinstance(err, KeyboardInterrupt):
                raise
            self.loaded = None
            self.load_error = load_error_of(err, self.location)

    # -- requests ------------------------------------------------------------------------------

    def handle(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            return _error(
                "bad_request", 'a request is a JSON object with "op": "ping", "snapshot" or "launch"'
            )
        op = request["op"]
        if op == "ping":
            return {"ok": True, "result": {"pid": os.getpid(), "loaded": self.loaded is not None}}
        if op == "snapshot":
            if self.load_error is not None:
                return {"ok": True, "result": {"error": self.load_error.to_json()}}
            return {"ok": True, "result": self.snapshot_json}
        if op in ("launch", "launch_run"):
            return self._launch(request.get("request"))
        return _error("bad_request", f"unknown op {op!r}: use ping, snapshot or launch")

    def _launch(self, payload: Any) -> dict[str, Any]:
        from .launch import launch
        from .request import LaunchRejected, LaunchRequest

        try:
            request = LaunchRequest.from_json(payload)
            if self.loaded is None:
                assert self.load_error is not None
                raise LaunchRejected(
                    f"code location {self.location.label} did not load ({self.load_error.message}); "
                    "fix it and reload the location"
                )
            result = launch(
                request,
                definitions=self.loaded.definitions,
                location=self.loaded.location,
                instance=self.instance,
            )
        except LaunchRejected as err:
            return _error("rejected", str(err))
        return {"ok": True, "result": result.to_json()}


class _StoreIfReachable:
    """The instance's dynamic partitions, for counts in the snapshot; the snapshot does without
    them when the store cannot be opened (partition counts of dynamic definitions show 0)."""

    def __init__(self, server: CodeServer) -> None:
        self.server = server

    def get_dynamic_partitions(self, name: str) -> list[str]:
        return list(self.server.instance.dynamic_partitions_store.get_dynamic_partitions(name))

    def get_dynamic_partition_indices(self, name: str) -> dict[str, int]:
        return dict(self.server.instance.dynamic_partitions_store.get_dynamic_partition_indices(name))


def load_error_of(err: BaseException, location: LocationRef) -> LoadErrorSnap:
    """The user's view of ``err``: message, their traceback, and the file/line to look at."""
    from .._core.errors import DerasError
    from .._defs.load_error import _is_internal, user_traceback

    file: str | None = None
    line: int | None = None
    if isinstance(err, SyntaxError):
        file, line = err.filename, err.lineno
    else:
        for frame in reversed(traceback.extract_tb(err.__traceback__)):
            if not _is_internal(frame.filename):
                file, line = frame.filename, frame.lineno
                break
    if file is None:
        file = location.file
    if isinstance(err, DerasError):
        message = str(err)
    else:
        message = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    try:
        shown = user_traceback(err)
    except Exception:
        shown = "".join(traceback.format_exception(err))
    return LoadErrorSnap(location, message, shown, file, line, time.time())


def _error(kind: str, message: str, tb: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"kind": kind, "message": message}
    if tb:
        error["traceback"] = tb
    return {"ok": False, "error": error}


class _Handler(socketserver.StreamRequestHandler):
    server: _SocketServer

    def handle(self) -> None:
        raw = self.rfile.readline(MAX_REQUEST_BYTES + 1)
        if not raw:
            return
        try:
            if len(raw) > MAX_REQUEST_BYTES:
                answer = _error("bad_request", f"request larger than {MAX_REQUEST_BYTES} bytes")
            else:
                answer = self.server.code.handle(json.loads(raw))
        except json.JSONDecodeError as err:
            answer = _error("bad_request", f"the request is not JSON: {err}")
        except Exception as err:
            answer = _error("internal", f"{type(err).__name__}: {err}", traceback.format_exc())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the caller gave up (timed out)
            self.wfile.write(json.dumps(answer, default=str).encode() + b"\n")


class _SocketServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True  # a request stuck in user code must not keep the process alive on exit
    request_queue_size = 256  # the listen backlog: a burst of web requests waits, not fails

    def __init__(self, path: str, code: CodeServer) -> None:
        self.code = code
        super().__init__(path, _Handler)


def _exit_with_parent(parent_pid: int) -> None:
    """Stop when the process that started us is gone: no code server outlives its web server."""
    while True:
        time.sleep(_PARENT_CHECK_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deras._code_server", description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file")
    source.add_argument("--module")
    source.add_argument("--dags-folder")
    parser.add_argument("--working-dir")
    parser.add_argument("--socket", required=True, help="Unix socket path to serve on")
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    args = parser.parse_args(argv)
    if args.working_dir:
        os.chdir(args.working_dir)
    if args.parent_pid:
        threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    file = os.path.abspath(args.file) if args.file else None
    folder = os.path.abspath(args.dags_folder) if args.dags_folder else None
    code = CodeServer(
        LocationRef(file=file, module=args.module, working_dir=args.working_dir, dags_folder=folder)
    )
    code.load()
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    with _SocketServer(args.socket, code) as server:
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(args.socket)
    sys.exit(0)
