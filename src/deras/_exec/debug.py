"""Re-running one node of a past run in this process, optionally under pdb."""

from __future__ import annotations

import bdb
import functools
import os
import pdb
import sys
from collections.abc import Callable
from typing import Any, TextIO

from .._core import tags as deras_tags
from .._core.errors import DerasError
from .._core.records import RunTarget, TargetKind
from .._plan.plan import plan_run
from .fd_capture import catch_up_echo
from .launch import execute_run
from .ports import InstanceLike
from .result import ExecutionResult


def debug_node(
    instance: InstanceLike, run_id: str, node_id: str, definitions: Any, *, use_pdb: bool = False
) -> ExecutionResult:
    """Run ``node_id`` again with the inputs its upstream stored and the same resources.

    Upstream nodes are not run: their stored values are loaded by the IO managers. The
    re-run is recorded as a new run tagged ``deras/debug`` whose parent is ``run_id``.
    With ``use_pdb`` the debugger stops at the function's first line and again, post
    mortem, if it raises.
    """
    parent = instance.get_run(run_id)
    if parent is None:
        raise DerasError(f"no run with id {run_id}")
    graph = definitions.asset_graph
    if node_id not in graph.nodes:
        key_match = [n for n in graph.nodes if n.split("/")[-1] == node_id]
        if len(key_match) != 1:
            raise DerasError(
                f"run {run_id} has no node '{node_id}' (nodes: {sorted(parent.selection or [])[:20]})"
            )
        node_id = key_match[0]
    node = graph.nodes[node_id]
    keys = [parent.partition_key] if parent.partition_key else None
    if parent.partition_range and node.partitions_def is not None:
        keys = node.partitions_def.get_partition_keys_in_range(*parent.partition_range)
    plan = plan_run(
        graph,
        node_ids=[node_id],
        partition_keys=keys if node.partitions_def else None,
        dynamic_partitions_store=instance.dynamic_partitions_store,
    )
    original = node.fn
    terminal = _terminal() if use_pdb and original is not None else None
    if terminal is not None and original is not None:
        node.fn = _under_pdb(original, terminal)
    try:
        return execute_run(
            instance,
            plan,
            definitions.resources,
            # A run of the parent's job if it was one, else of one asset node.
            target=parent.run_target if parent.run_target.kind is TargetKind.JOB else RunTarget.assets(),
            label=f"debug:{node_id}",
            tags={deras_tags.DEBUG: "true", deras_tags.PARENT_RUN_ID: run_id},
            run_config=parent.run_config,
            code_location=parent.code_location,
            parent=parent,
            echo_output=True,
        )
    finally:
        node.fn = original
        if terminal is not None:
            terminal.close()


class DebugSessionQuit(DerasError):
    """``q`` in pdb: the node did not run to its end, so the debug run cannot have succeeded."""

    _deras_no_retry = True
    _deras_no_traceback = True  # where it stopped is deras's frame, not the user's


class _NodeDebugger(pdb.Pdb):
    """pdb that tells a quit (``q``, end of input) from the function returning.

    bdb sets ``quitting`` whenever a debugging session ends, so only ``set_quit`` tells.
    """

    quit_requested = False

    def set_quit(self) -> None:
        self.quit_requested = True
        super().set_quit()

    def interaction(self, frame: Any, traceback: Any) -> None:
        catch_up_echo()  # the node's output so far comes before where it stopped
        super().interaction(frame, traceback)

    def get_stack(self, f: Any, t: Any) -> tuple[list[tuple[Any, int]], int]:
        """The stack without bdb's ``runcall`` and deras's frames: ``w`` and ``u`` show the
        user's code only."""
        stack, index = super().get_stack(f, t)
        kept = [i for i, (frame, _) in enumerate(stack) if not _machinery(frame)]
        if not kept:
            return stack, index
        below = [k for k, i in enumerate(kept) if i <= index]
        return [stack[i] for i in kept], below[-1] if below else 0


def _machinery(frame: Any) -> bool:
    """A frame of bdb or of this module, which the user did not write."""
    filename = frame.f_code.co_filename
    return filename in (bdb.__file__, __file__)


def _from_user_code(tb: Any) -> Any:
    """``tb`` from its first frame that is not bdb's or this module's."""
    start = tb
    while start is not None and _machinery(start.tb_frame):
        start = start.tb_next
    return start if start is not None else tb


def _terminal() -> TextIO:
    """The terminal the debugger talks to: fd 1 as it is now, before the node's output is captured."""
    return os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8", errors="backslashreplace")


def _under_pdb(fn: Callable[..., Any], terminal: TextIO) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        debugger = _NodeDebugger(stdin=sys.stdin, stdout=terminal)
        try:
            result = debugger.runcall(fn, **kwargs)
        except Exception as err:
            print("deras: the node raised; entering post-mortem debugging", file=terminal)
            post = _NodeDebugger(stdin=sys.stdin, stdout=terminal)
            post.reset()
            post.interaction(None, err.__traceback__)
            # the stored traceback starts at the node's function, not in bdb
            raise err.with_traceback(_from_user_code(err.__traceback__)) from None
        if debugger.quit_requested:
            raise DebugSessionQuit(
                "debugging session quit before the node finished: it did not run to its end, so "
                "nothing was stored (leave pdb with c to let the node finish)"
            )
        return result

    return wrapper
