"""The event log, and the attempts derived from step events."""

from __future__ import annotations

import pytest

from deras._core.errors import DerasError
from deras._core.events import EventRecord, EventType
from deras._core.records import AttemptRecord, RunRecord
from deras._core.status import NodeStatus
from deras._storage import MetadataStore

RUN = "run-1"


@pytest.fixture
def run_store(store: MetadataStore) -> MetadataStore:
    store.create_run(RunRecord(RUN, "assets:*", create_time=1.0))
    return store


def _ev(
    event_type: EventType, node: str | None = None, attempt: int | None = None, t: float = 0.0, **data: object
) -> EventRecord:
    return EventRecord(RUN, event_type, node=node, attempt=attempt, timestamp=t, data=dict(data))


def test_store_events_sets_increasing_ids_in_batch_order(run_store: MetadataStore) -> None:
    first = [_ev(EventType.RUN_START), _ev(EventType.LOG, "a")]
    second = [_ev(EventType.LOG, "b"), _ev(EventType.LOG, "c"), _ev(EventType.LOG, "d")]
    run_store.store_events(first)
    run_store.store_events(second)
    ids = [e.id for e in first + second]
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 5


def test_events_read_back_in_id_order_with_all_fields(run_store: MetadataStore) -> None:
    events = [
        EventRecord(RUN, EventType.RUN_START, timestamp=1.5),
        EventRecord(RUN, EventType.LOG, node="a", attempt=2, message="héllo", level="warning", timestamp=2.5),
        EventRecord(
            RUN,
            EventType.STEP_FAILURE,
            node="a",
            attempt=2,
            timestamp=3.5,
            data={"error": "ValueError: x", "traceback": "Traceback...\n", "nested": {"n": [1, 2.5, None]}},
        ),
    ]
    run_store.store_events(events)
    assert run_store.get_events(RUN) == events


def test_events_of_other_runs_are_not_returned(run_store: MetadataStore) -> None:
    run_store.create_run(RunRecord("other", "assets:*", create_time=2.0))
    run_store.store_events(
        [EventRecord("other", EventType.LOG, message="elsewhere"), _ev(EventType.LOG, "a")]
    )
    assert [e.message for e in run_store.get_events("other")] == ["elsewhere"]
    assert [e.node for e in run_store.get_events(RUN)] == ["a"]


def test_get_events_filters_by_node_type_after_id_and_limit(run_store: MetadataStore) -> None:
    events = [
        _ev(EventType.STEP_START, "a", 0),
        _ev(EventType.LOG, "a"),
        _ev(EventType.STEP_START, "b", 0),
        _ev(EventType.LOG, "b"),
        _ev(EventType.STEP_SUCCESS, "a", 0),
        _ev(EventType.STEP_SUCCESS, "b", 0),
    ]
    run_store.store_events(events)
    ids = [e.id for e in events]
    assert [e.id for e in run_store.get_events(RUN, node="a")] == [ids[0], ids[1], ids[4]]
    by_type = run_store.get_events(RUN, event_types=[EventType.STEP_START, EventType.STEP_SUCCESS])
    assert [e.id for e in by_type] == [ids[0], ids[2], ids[4], ids[5]]
    assert [e.id for e in run_store.get_events(RUN, after_id=ids[3])] == ids[4:]
    assert [e.id for e in run_store.get_events(RUN, limit=2)] == ids[:2]
    combined = run_store.get_events(
        RUN, node="b", event_types=[EventType.LOG, EventType.STEP_SUCCESS], after_id=ids[2], limit=1
    )
    assert [e.id for e in combined] == [ids[3]]


@pytest.mark.parametrize("size", [2, 32, 33, 200])
def test_batches_of_any_size_keep_their_order_and_ids(run_store: MetadataStore, size: int) -> None:
    events = [_ev(EventType.LOG, f"n{i}", t=float(i)) for i in range(size)]
    run_store.store_events(events)
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == size
    assert run_store.get_events(RUN) == events


def test_store_events_with_no_events_is_a_no_op(run_store: MetadataStore) -> None:
    run_store.store_events([])
    assert run_store.get_events(RUN) == []


def test_unserialisable_event_data_raises_and_stores_nothing(run_store: MetadataStore) -> None:
    with pytest.raises(DerasError, match="JSON"):
        run_store.store_events([_ev(EventType.LOG, "a"), _ev(EventType.LOG, "b", value=object())])
    assert run_store.get_events(RUN) == []


def test_failed_batch_is_rolled_back_entirely(run_store: MetadataStore) -> None:
    # The step events are valid; the check evaluation lacks its asset key and fails the batch.
    with pytest.raises(DerasError, match="asset_key"):
        run_store.store_events(
            [_ev(EventType.STEP_START, "a", 0, t=1.0), _ev(EventType.ASSET_CHECK_EVALUATION, "a")]
        )
    assert run_store.get_events(RUN) == []
    assert run_store.get_attempts(RUN) == []


# -- attempts --------------------------------------------------------------------------------


def test_step_start_inserts_a_running_attempt(run_store: MetadataStore) -> None:
    run_store.store_events([_ev(EventType.STEP_START, "a", 0, t=10.0)])
    assert run_store.get_attempts(RUN) == [AttemptRecord(RUN, "a", 0, NodeStatus.RUNNING, 10.0, None)]


def test_step_success_marks_attempt_succeeded_with_end_time(run_store: MetadataStore) -> None:
    run_store.store_events([_ev(EventType.STEP_START, "a", 0, t=10.0)])
    run_store.store_events([_ev(EventType.STEP_SUCCESS, "a", 0, t=12.0)])
    assert run_store.get_attempts(RUN) == [AttemptRecord(RUN, "a", 0, NodeStatus.SUCCESS, 10.0, 12.0)]


def test_step_failure_marks_attempt_failed_with_error(run_store: MetadataStore) -> None:
    run_store.store_events([_ev(EventType.STEP_START, "a", 0, t=10.0)])
    run_store.store_events(
        [_ev(EventType.STEP_FAILURE, "a", 0, t=11.0, error="KeyError: 'x'", traceback="...")]
    )
    assert run_store.get_attempts(RUN) == [
        AttemptRecord(RUN, "a", 0, NodeStatus.FAILED, 10.0, 11.0, error="KeyError: 'x'")
    ]


def test_step_retry_marks_attempt_up_for_retry_with_error(run_store: MetadataStore) -> None:
    run_store.store_events([_ev(EventType.STEP_START, "a", 0, t=10.0)])
    run_store.store_events([_ev(EventType.STEP_RETRY, "a", 0, t=11.0, error="Timeout", delay=1.0)])
    assert run_store.get_attempts(RUN) == [
        AttemptRecord(RUN, "a", 0, NodeStatus.UP_FOR_RETRY, 10.0, 11.0, error="Timeout")
    ]


def test_a_skip_before_the_node_ran_is_an_attempt_that_never_started(run_store: MetadataStore) -> None:
    run_store.store_events([_ev(EventType.STEP_SKIPPED, "b", None, t=5.0, reason="upstream a failed")])
    assert run_store.get_attempts(RUN) == [
        AttemptRecord(RUN, "b", 0, NodeStatus.SKIPPED, None, 5.0, error="upstream a failed")
    ]


def test_skip_during_a_started_attempt_keeps_its_start_time(run_store: MetadataStore) -> None:
    run_store.store_events([_ev(EventType.STEP_START, "t", 0, t=1.0)])
    run_store.store_events([_ev(EventType.STEP_SKIPPED, "t", 0, t=3.0, reason="SkipTask: nothing to do")])
    assert run_store.get_attempts(RUN) == [
        AttemptRecord(RUN, "t", 0, NodeStatus.SKIPPED, 1.0, 3.0, error="SkipTask: nothing to do")
    ]


def test_start_and_end_in_one_batch_make_one_finished_attempt(run_store: MetadataStore) -> None:
    run_store.store_events(
        [
            _ev(EventType.STEP_START, "a", 0, t=1.0),
            _ev(EventType.LOG, "a"),
            _ev(EventType.STEP_SUCCESS, "a", 0, t=2.0),
        ]
    )
    assert run_store.get_attempts(RUN) == [AttemptRecord(RUN, "a", 0, NodeStatus.SUCCESS, 1.0, 2.0)]


def test_status_event_without_attempt_row_inserts_one(run_store: MetadataStore) -> None:
    run_store.store_events([_ev(EventType.STEP_FAILURE, "lost", 1, t=7.0, error="boom")])
    assert run_store.get_attempts(RUN) == [
        AttemptRecord(RUN, "lost", 1, NodeStatus.FAILED, None, 7.0, error="boom")
    ]


def test_attempts_across_retries_are_ordered_by_start(run_store: MetadataStore) -> None:
    run_store.store_events(
        [_ev(EventType.STEP_START, "a", 0, t=1.0), _ev(EventType.STEP_START, "b", 0, t=1.5)]
    )
    run_store.store_events([_ev(EventType.STEP_RETRY, "a", 0, t=2.0, error="flaky")])
    run_store.store_events(
        [_ev(EventType.STEP_SUCCESS, "b", 0, t=2.5), _ev(EventType.STEP_START, "a", 1, t=3.0)]
    )
    run_store.store_events([_ev(EventType.STEP_SUCCESS, "a", 1, t=4.0)])
    assert [(a.node, a.attempt, a.status) for a in run_store.get_attempts(RUN)] == [
        ("a", 0, NodeStatus.UP_FOR_RETRY),
        ("b", 0, NodeStatus.SUCCESS),
        ("a", 1, NodeStatus.SUCCESS),
    ]
    assert [(a.attempt, a.error) for a in run_store.get_attempts(RUN, node="a")] == [(0, "flaky"), (1, None)]


def test_node_outcome_is_the_status_of_the_latest_attempt(run_store: MetadataStore) -> None:
    run_store.store_events(
        [
            _ev(EventType.STEP_START, "retried", 0, t=1.0),
            _ev(EventType.STEP_RETRY, "retried", 0, t=2.0, error="e"),
            _ev(EventType.STEP_START, "retried", 1, t=3.0),
            _ev(EventType.STEP_FAILURE, "retried", 1, t=4.0, error="e"),
            _ev(EventType.STEP_START, "recovered", 0, t=1.0),
            _ev(EventType.STEP_RETRY, "recovered", 0, t=2.0, error="e"),
            _ev(EventType.STEP_START, "recovered", 1, t=3.0),
            _ev(EventType.STEP_SUCCESS, "recovered", 1, t=4.0),
            _ev(EventType.STEP_SKIPPED, "downstream", t=5.0, reason="upstream failed"),
            _ev(EventType.STEP_START, "running", 0, t=5.0),
        ]
    )
    assert run_store.get_node_outcomes(RUN) == {
        "retried": NodeStatus.FAILED,
        "recovered": NodeStatus.SUCCESS,
        "downstream": NodeStatus.SKIPPED,
        "running": NodeStatus.RUNNING,
    }


def test_node_outcomes_of_a_run_without_attempts_are_empty(run_store: MetadataStore) -> None:
    assert run_store.get_node_outcomes(RUN) == {}
