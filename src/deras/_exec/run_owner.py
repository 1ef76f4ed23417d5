"""Who executes a run, and whether that process is still there.

Every process that executes runs of a stored instance — a run worker, ``deras materialize``,
``deras dags trigger|test``, ``dg.materialize(instance=...)`` — records itself as each run's
owner in ``runs.worker``: ``{"host", "pid", "started", "pidns"}``. ``started`` is the process's
start time (field 22 of ``/proc/<pid>/stat``, clock ticks after boot), so a pid the kernel has
since given to another process is told apart from the owner. ``pidns`` is the pid namespace:
containers of one pod share a host name, not their pids, so only an owner with the same host
name *and* pid namespace is checked by pid.

Where ``/proc`` is missing (macOS), ``started`` and ``pidns`` are not recorded and the check is
a best effort: an owner whose pid no longer exists is gone; a reused pid goes unnoticed until
the owner's heartbeat is older than the timeout, which applies on every host.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from .._core.records import RunRecord

_STATE = 0  # /proc/<pid>/stat fields after the command's closing parenthesis: state is field 3,
_START = 19  # starttime field 22


@dataclass(frozen=True, slots=True)
class DeadOwner:
    """Why a run's owner is presumed gone, and how sure that is.

    ``stale_before``: the run is failed only if it has not beaten since (``inf`` when its
    process is certainly gone; the heartbeat timeout's start when only its silence says so).
    """

    message: str
    stale_before: float


_identity: tuple[int, dict[str, Any]] | None = None


def this_process() -> dict[str, Any]:
    """This process as a run's owner (computed once per process; a forked child computes its own)."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        owner: dict[str, Any] = {"host": socket.gethostname(), "pid": pid}
        started = _started(pid)
        if started is not None:
            owner["started"] = started
        namespace = _pid_namespace()
        if namespace is not None:
            owner["pidns"] = namespace
        _identity = (pid, owner)
    return dict(_identity[1])


def dead_owner(run: RunRecord, now: float, timeout: float) -> DeadOwner | None:
    """Why ``run``'s owner is presumed dead, or None: it may live, or the run is not active.

    On this host (same host name and pid namespace) an owner whose pid is gone, a zombie, or
    now another process's (its start time differs) is dead at once. On any host, a run with no
    heartbeat for ``timeout`` seconds is presumed dead. A run with neither owner nor heartbeat
    (executed before runs recorded their owner) is not judged.
    """
    if not run.status.is_active:
        return None
    owner, heartbeat = run.worker or {}, run.heartbeat
    pid = owner.get("pid")
    if isinstance(pid, int) and pid > 0 and _on_this_host(owner):
        fate = process_fate(pid, owner.get("started"))
        if fate is not None:
            why = (
                "it was killed or crashed before the run ended"
                if fate == "gone"
                else f"pid {pid} now belongs to another process"
            )
            message = f"the process that ran this run (pid {pid} on {owner['host']}) is gone: {why}"
            return DeadOwner(message, float("inf"))
    if heartbeat is not None and heartbeat < now - timeout:
        message = f"no heartbeat from the run's process for {timeout:g} s: it is presumed dead"
        return DeadOwner(message, now - timeout)
    return None


def process_fate(pid: int, started: int | None = None) -> str | None:
    """``"gone"`` (no such process, or a zombie), ``"reused"`` (a process with another start
    time), or None: alive, or cannot tell."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        pass  # it exists, and belongs to another user
    fields = _stat(pid)
    if fields is None:  # no /proc here, or it exited a moment ago (the next look tells)
        return None
    if fields[_STATE] == "Z":  # killed, not yet reaped by its parent
        return "gone"
    if started is not None and int(fields[_START]) != started:
        return "reused"
    return None


def _on_this_host(owner: dict[str, Any]) -> bool:
    me = this_process()
    return owner.get("host") == me["host"] and owner.get("pidns") == me.get("pidns")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name may hold spaces and parentheses: split after its last ')'.
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _started(pid: int) -> int | None:
    fields = _stat(pid)
    return None if fields is None else int(fields[_START])


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return None
