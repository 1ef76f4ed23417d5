"""The life of one DAG task instance: its states and the transitions allowed between them.

The table ``ALLOWED_TRANSITIONS`` is the specification: whoever writes a task instance's state
calls ``check_transition`` first, so a bug that would, say, run a succeeded task again fails
loudly instead of corrupting a run. States and edges follow Airflow's task instance lifecycle.

Re-running a finished task instance ("clearing" it, in Airflow's words) is deliberately not an
edge of the table but the separate function ``clear``: with ``success -> scheduled`` in the
table, an accidental re-run would pass every check.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from deras._core.errors import DerasError


class TaskInstanceState(StrEnum):
    """State of one task instance (one try of one task, or one mapped index of it) in a DAG run.

    ``NONE`` is the initial state: the instance exists but the scheduler has not yet decided
    whether it will run (its upstream tasks are not done). It stores as the word ``"none"``.

    >>> TaskInstanceState("up_for_retry") is TaskInstanceState.UP_FOR_RETRY
    True
    >>> is_finished(TaskInstanceState.UPSTREAM_FAILED), is_finished(TaskInstanceState.UP_FOR_RETRY)
    (True, False)
    """

    NONE = "none"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"


_S = TaskInstanceState

FINISHED: frozenset[TaskInstanceState] = frozenset({_S.SUCCESS, _S.FAILED, _S.SKIPPED, _S.UPSTREAM_FAILED})

# Every state a task instance may move to from each state, within one pass of the scheduler
# and executor. Finished states have no way out here: only `clear` re-opens them.
ALLOWED_TRANSITIONS: Mapping[TaskInstanceState, frozenset[TaskInstanceState]] = MappingProxyType(
    {
        # The trigger rule decides before anything runs: run it, or skip / fail it without a try.
        _S.NONE: frozenset({_S.SCHEDULED, _S.SKIPPED, _S.UPSTREAM_FAILED}),
        # Skip / upstream_failed too: another upstream may finish while this one waits for a slot.
        _S.SCHEDULED: frozenset({_S.QUEUED, _S.SKIPPED, _S.UPSTREAM_FAILED}),
        # -> scheduled: the executor gave it back (requeue) before a worker started it.
        # -> failed / up_for_retry: the worker died or the queued timeout passed before the task
        #    started; Airflow handles that as a failed try, retried if tries are left.
        _S.QUEUED: frozenset({_S.RUNNING, _S.SCHEDULED, _S.FAILED, _S.UP_FOR_RETRY}),
        # -> skipped: the task raised SkipTask (or a branch chose another path).
        _S.RUNNING: frozenset({_S.SUCCESS, _S.FAILED, _S.UP_FOR_RETRY, _S.SKIPPED}),
        # -> scheduled: the retry delay passed, the next try starts.
        # -> failed: no next try after all (the run timed out, or someone marked it failed).
        _S.UP_FOR_RETRY: frozenset({_S.SCHEDULED, _S.FAILED}),
        _S.SUCCESS: frozenset(),
        _S.FAILED: frozenset(),
        _S.SKIPPED: frozenset(),
        _S.UPSTREAM_FAILED: frozenset(),
    }
)

# Clearing an instance that is in flight would race with its worker or with the scheduler; a
# never-decided one (NONE) clears to itself, so clearing a whole DAG run needs no special case.
CLEARABLE: frozenset[TaskInstanceState] = FINISHED | {_S.NONE}


class InvalidTransition(DerasError):
    """A task instance was asked to move between two states that the lifecycle does not connect.

    >>> try:
    ...     check_transition("success", "running")
    ... except InvalidTransition as e:
    ...     print(e.from_state, "->", e.to_state)
    success -> running
    """

    def __init__(self, message: str, from_state: TaskInstanceState, to_state: TaskInstanceState) -> None:
        super().__init__(message)
        self.from_state = from_state
        self.to_state = to_state


def is_finished(state: TaskInstanceState | str) -> bool:
    """Whether the state is final for this try: success, failed, skipped or upstream_failed."""
    return state in FINISHED


def check_transition(from_state: TaskInstanceState | str, to_state: TaskInstanceState | str) -> None:
    """Raise ``InvalidTransition`` unless ``ALLOWED_TRANSITIONS`` has the edge ``from_state -> to_state``.

    Writing the same state again is not an edge: it is refused like any other, so that a
    duplicate write (a task reported successful twice) shows up instead of passing silently.

    >>> check_transition("up_for_retry", "scheduled")  # the next try
    """
    source, target = TaskInstanceState(from_state), TaskInstanceState(to_state)
    allowed = ALLOWED_TRANSITIONS[source]
    if target in allowed:
        return
    if allowed:
        targets = ", ".join(repr(str(s)) for s in TaskInstanceState if s in allowed)  # declaration order
        why = f"from {str(source)!r} it may only go to {targets}"
    else:
        why = f"{str(source)!r} is finished and allows no transition (clear it to run it again)"
    raise InvalidTransition(
        f"task instance cannot go from {str(source)!r} to {str(target)!r}: {why}", source, target
    )


def clear(state: TaskInstanceState | str) -> TaskInstanceState:
    """The state of a task instance after it is cleared to run again: always ``NONE``.

    Back to ``NONE``, not ``SCHEDULED``, so the scheduler evaluates the trigger rule again: the
    upstream tasks may have been cleared too. The caller gives the next run the next try
    number; the state alone does not carry it. Instances still in flight cannot be cleared.

    >>> clear("failed")
    <TaskInstanceState.NONE: 'none'>
    """
    source = TaskInstanceState(state)
    if source not in CLEARABLE:
        raise InvalidTransition(
            f"task instance in state {str(source)!r} cannot be cleared: it is still in progress; "
            "only a finished (success, failed, skipped, upstream_failed) or not yet scheduled "
            "instance can be",
            source,
            TaskInstanceState.NONE,
        )
    return TaskInstanceState.NONE
