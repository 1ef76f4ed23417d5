"""Re-running one node of a past run in this process, optionally under pdb."""

from __future__ import annotations

import functools
import pdb
import sys
from collections.abc import Callable
from typing import Any

from .._core.errors import DerasError
from .._plan.plan import plan_run
from .launch import execute_run
from .result import ExecutionResult


def debug_node(
    instance: Any, run_id: str, node_id: str, definitions: Any, *, use_pdb: bool = False
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
    if use_pdb and original is not None:
        node.fn = _under_pdb(original)
    try:
        return execute_run(
            instance,
            plan,
            definitions.resources,
            target=f"debug:{node_id}",
            job_name=parent.job_name,
            tags={"deras/debug": "true", "deras/parent_run_id": run_id},
            run_config=parent.run_config,
            code_location=parent.code_location,
            parent_run_id=run_id,
            root_run_id=parent.root_run_id or run_id,
            echo_output=True,
        )
    finally:
        node.fn = original


def _under_pdb(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        # The step runner redirects stdout to capture it; the debugger talks to the terminal.
        debugger = pdb.Pdb(stdin=sys.__stdin__, stdout=sys.__stdout__)
        try:
            result = debugger.runcall(fn, **kwargs)
            if debugger.quitting:  # `q` in pdb: the node did not finish, so it did not succeed
                raise DerasError("debugging session quit before the node finished")
            return result
        except Exception:
            print("deras: the node raised; entering post-mortem debugging", file=sys.__stdout__)
            post = pdb.Pdb(stdin=sys.__stdin__, stdout=sys.__stdout__)
            post.reset()
            post.interaction(None, sys.exc_info()[2])
            raise

    return wrapper
