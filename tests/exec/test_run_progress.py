"""The run loop's bookkeeping: the state machine of each node, readiness in plan order, decisions."""

from __future__ import annotations

import pytest

import deras as dg
from deras._core.status import NodeStatus
from deras._core.task_state import InvalidTransition
from deras._core.task_state import TaskInstanceState as S
from deras._exec.run_progress import RunProgress
from deras._exec.step_types import SkipKind


def _dag_graph() -> object:
    with dg.DAG("d") as d:
        a = dg.EmptyOperator(task_id="a")
        b = dg.EmptyOperator(task_id="b")
        c = dg.EmptyOperator(task_id="c", trigger_rule="all_done")
        e = dg.EmptyOperator(task_id="e")
        a >> [b, c]
        b >> e
    return d.graph


def _progress() -> RunProgress:
    graph = _dag_graph()
    return RunProgress(graph, list(graph.order))  # type: ignore[attr-defined]


def test_a_normal_life_passes_and_is_recorded() -> None:
    progress = _progress()
    progress.move(
        "t", S.SCHEDULED, S.QUEUED, S.RUNNING, S.UP_FOR_RETRY, S.SCHEDULED, S.QUEUED, S.RUNNING, S.SUCCESS
    )
    assert progress.ti_states["t"] == S.SUCCESS


def test_running_a_succeeded_node_again_is_refused() -> None:
    progress = _progress()
    progress.move("t", S.SCHEDULED, S.QUEUED, S.RUNNING, S.SUCCESS)
    with pytest.raises(InvalidTransition, match="success"):
        progress.move("t", S.RUNNING)
    assert progress.ti_states["t"] == S.SUCCESS


def test_only_nodes_whose_upstream_finished_are_ready_and_they_come_in_plan_order() -> None:
    progress = _progress()
    assert progress.pop_ready() == "d.a"
    assert not progress.has_ready()
    assert progress.finish("d.a", NodeStatus.SUCCESS) == ["d.b", "d.c"]
    assert [progress.pop_ready(), progress.pop_ready()] == ["d.b", "d.c"]
    progress.finish("d.c", NodeStatus.SUCCESS)
    assert not progress.has_ready()  # e waits for b
    progress.finish("d.b", NodeStatus.SUCCESS)
    assert progress.pop_ready() == "d.e"
    progress.finish("d.e", NodeStatus.SUCCESS)
    assert progress.finished


def test_a_failed_upstream_gives_a_typed_cause_and_all_done_still_runs() -> None:
    progress = _progress()
    progress.finish(progress.pop_ready(), NodeStatus.FAILED)
    b, c = progress.pop_ready(), progress.pop_ready()
    cause = progress.decide(b)
    assert cause is not None and cause.kind == SkipKind.UPSTREAM_FAILED and cause.upstream == "d.a"
    assert cause.status == NodeStatus.UPSTREAM_FAILED and cause.message == "upstream d.a failed"
    assert progress.decide(c) is None  # all_done


def test_a_branch_that_chose_other_tasks_skips_the_rest() -> None:
    progress = _progress()
    progress.finish(progress.pop_ready(), NodeStatus.SUCCESS, branch_choice=frozenset({"c"}))
    b, c = progress.pop_ready(), progress.pop_ready()
    cause = progress.decide(b)
    assert cause is not None and cause.kind == SkipKind.NOT_CHOSEN
    assert cause.message == "not chosen by branch a"
    assert progress.decide(c) is None


def test_the_progress_is_plain_data() -> None:
    import json

    progress = _progress()
    progress.finish(progress.pop_ready(), NodeStatus.FAILED)
    b = progress.pop_ready()
    cause = progress.decide(b)
    assert cause is not None
    progress.finish(b, cause.status, cause=cause)
    snapshot = json.loads(json.dumps(progress.snapshot()))
    assert snapshot["outcomes"] == {"d.a": "failed", "d.b": "upstream_failed"}
    assert snapshot["causes"]["d.b"]["kind"] == "upstream_failed"
