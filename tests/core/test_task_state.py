"""Task instance lifecycle: the transition table is the specification, checked edge by edge."""

from __future__ import annotations

import itertools

import pytest

from deras._core.errors import DerasError
from deras._core.task_state import (
    ALLOWED_TRANSITIONS,
    FINISHED,
    InvalidTransition,
    TaskInstanceState,
    check_transition,
    clear,
    is_finished,
)

S = TaskInstanceState

# Written out independently of the module, so a change to its table has to change this too.
EXPECTED_EDGES = {
    ("none", "scheduled"),
    ("none", "skipped"),
    ("none", "upstream_failed"),
    ("scheduled", "queued"),
    ("scheduled", "skipped"),
    ("scheduled", "upstream_failed"),
    ("queued", "running"),
    ("queued", "scheduled"),
    ("queued", "failed"),
    ("queued", "up_for_retry"),
    ("running", "success"),
    ("running", "failed"),
    ("running", "up_for_retry"),
    ("running", "skipped"),
    ("up_for_retry", "scheduled"),
    ("up_for_retry", "failed"),
}

ALL_PAIRS = list(itertools.product(TaskInstanceState, repeat=2))


def test_states_are_exactly_airflows_plus_none() -> None:
    assert {s.value for s in TaskInstanceState} == {
        "none",
        "scheduled",
        "queued",
        "running",
        "success",
        "failed",
        "up_for_retry",
        "upstream_failed",
        "skipped",
    }


def test_table_has_a_row_for_every_state() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(TaskInstanceState)


def test_table_is_exactly_the_expected_edges() -> None:
    edges = {(str(a), str(b)) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert edges == EXPECTED_EDGES


def test_table_cannot_be_modified() -> None:
    with pytest.raises(TypeError):
        ALLOWED_TRANSITIONS[S.SUCCESS] = frozenset({S.RUNNING})  # type: ignore[index]


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_check_transition_accepts_exactly_the_edges_of_the_table(
    source: TaskInstanceState, target: TaskInstanceState
) -> None:
    if (source.value, target.value) in EXPECTED_EDGES:
        check_transition(source, target)
    else:
        with pytest.raises(InvalidTransition) as info:
            check_transition(source, target)
        assert (info.value.from_state, info.value.to_state) == (source, target)
        assert f"from {source.value!r} to {target.value!r}" in str(info.value)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("none", "scheduled"),
        ("scheduled", "queued"),
        ("queued", "running"),
        ("running", "success"),
        ("running", "up_for_retry"),
        ("up_for_retry", "scheduled"),
        ("running", "skipped"),
        ("none", "upstream_failed"),
    ],
)
def test_the_lifecycle_of_a_task_that_runs_retries_or_is_decided_without_running(
    source: str, target: str
) -> None:
    check_transition(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("success", "running"),  # a finished task only runs again through clear()
        ("failed", "scheduled"),
        ("skipped", "none"),
        ("none", "running"),  # nothing runs without being scheduled and queued
        ("scheduled", "running"),
        ("running", "upstream_failed"),  # it is already running: its upstream decided long ago
        ("running", "running"),  # the same state twice is a duplicate write, not a transition
        ("up_for_retry", "running"),  # the next try goes through the queue again
    ],
)
def test_must_not_edges_are_refused(source: str, target: str) -> None:
    with pytest.raises(InvalidTransition):
        check_transition(source, target)


def test_refusal_lists_the_allowed_targets() -> None:
    with pytest.raises(InvalidTransition) as info:
        check_transition("queued", "success")
    assert str(info.value) == (
        "task instance cannot go from 'queued' to 'success': "
        "from 'queued' it may only go to 'scheduled', 'running', 'failed', 'up_for_retry'"
    )


def test_refusal_from_a_finished_state_says_to_clear_it() -> None:
    with pytest.raises(InvalidTransition, match=r"'success' is finished .*clear it"):
        check_transition("success", "running")


def test_invalid_transition_is_a_deras_error() -> None:
    assert issubclass(InvalidTransition, DerasError)


def test_an_unknown_state_name_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="sucess"):
        check_transition("running", "sucess")


def test_finished_states_are_success_failed_skipped_and_upstream_failed() -> None:
    assert {S.SUCCESS, S.FAILED, S.SKIPPED, S.UPSTREAM_FAILED} == FINISHED
    assert [s for s in TaskInstanceState if is_finished(s)] == [
        S.SUCCESS,
        S.FAILED,
        S.UPSTREAM_FAILED,
        S.SKIPPED,
    ]
    assert is_finished("skipped") and not is_finished("up_for_retry")


def test_finished_states_and_only_they_have_no_way_out() -> None:
    assert {s for s, targets in ALLOWED_TRANSITIONS.items() if not targets} == FINISHED


def _reachable(start: TaskInstanceState) -> set[TaskInstanceState]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in ALLOWED_TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_is_reachable_from_none() -> None:
    assert _reachable(S.NONE) == set(TaskInstanceState)


@pytest.mark.parametrize("state", [s for s in TaskInstanceState if s not in FINISHED])
def test_no_unfinished_state_is_a_dead_end(state: TaskInstanceState) -> None:
    assert _reachable(state) & FINISHED


@pytest.mark.parametrize("state", sorted(FINISHED))
def test_clearing_a_finished_instance_returns_it_to_none_to_be_decided_again(
    state: TaskInstanceState,
) -> None:
    assert clear(state) is S.NONE
    check_transition(clear(state), S.SCHEDULED)


def test_clearing_a_never_scheduled_instance_leaves_it_as_it_is() -> None:
    assert clear("none") is S.NONE


@pytest.mark.parametrize("state", [S.SCHEDULED, S.QUEUED, S.RUNNING, S.UP_FOR_RETRY])
def test_an_instance_in_flight_cannot_be_cleared(state: TaskInstanceState) -> None:
    with pytest.raises(InvalidTransition, match=f"{state.value!r} cannot be cleared"):
        clear(state)
