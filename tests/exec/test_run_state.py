"""Every state change of a run's nodes is checked against the task instance state machine."""

from __future__ import annotations

import pytest

from deras._core.task_state import InvalidTransition
from deras._core.task_state import TaskInstanceState as S
from deras._exec.run_state import RunState


def _state() -> RunState:
    return RunState(
        run=None,
        plan=None,
        instance=None,
        events=None,
        resources=None,  # type: ignore[arg-type]
        log_handler=None,
        log=None,
    )  # type: ignore[arg-type]


def test_a_normal_life_passes_and_is_recorded() -> None:
    state = _state()
    state.move(
        "t", S.SCHEDULED, S.QUEUED, S.RUNNING, S.UP_FOR_RETRY, S.SCHEDULED, S.QUEUED, S.RUNNING, S.SUCCESS
    )
    assert state.ti_states["t"] == S.SUCCESS


def test_running_a_succeeded_node_again_is_refused() -> None:
    state = _state()
    state.move("t", S.SCHEDULED, S.QUEUED, S.RUNNING, S.SUCCESS)
    with pytest.raises(InvalidTransition, match="success"):
        state.move("t", S.RUNNING)
    assert state.ti_states["t"] == S.SUCCESS
