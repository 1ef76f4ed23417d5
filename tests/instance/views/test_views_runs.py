"""The read model's runs: keyset pages with filters, a run's steps and attempts, events, logs."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest

import deras as dg
from deras._core.errors import DerasError
from deras._core.events import EventRecord, EventType
from deras._core.new_runs import new_run
from deras._core.records import RunRecord, RunTarget
from deras._core.status import RunStatus
from deras._instance.views import list_runs, run_detail, run_events, run_logs


def _store_runs(instance: Any, n: int, **kwargs: Any) -> list[str]:
    """``n`` queued runs created one second apart (oldest first); their ids."""
    target = kwargs.pop("target", RunTarget.assets())
    start = kwargs.pop("start", 1_000.0)
    runs = [new_run(target, selection=["a"], create_time=start + i, **kwargs) for i in range(n)]
    instance.store.create_runs(runs)
    return [r.run_id for r in runs]


def _all_pages(**kwargs: Any) -> list[list[str]]:
    instance = kwargs.pop("instance")
    pages, cursor = [], None
    while True:
        page = list_runs(instance, cursor=cursor, **kwargs)
        pages.append([r.run_id for r in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_runs_are_listed_newest_first_in_pages_that_end_with_no_cursor(instance: Any) -> None:
    ids = _store_runs(instance, 7)
    pages = _all_pages(instance=instance, limit=3)
    assert pages == [ids[::-1][:3], ids[::-1][3:6], ids[::-1][6:]]


def test_a_full_last_page_has_no_next_cursor(instance: Any) -> None:
    _store_runs(instance, 4)
    assert list_runs(instance, limit=4).next_cursor is None


def test_runs_created_between_pages_neither_shift_nor_repeat_the_next_page(instance: Any) -> None:
    ids = _store_runs(instance, 5)
    first = list_runs(instance, limit=2)
    _store_runs(instance, 3, start=5_000.0)  # newer than everything listed
    second = list_runs(instance, limit=2, cursor=first.next_cursor)
    assert [r.run_id for r in second.items] == [ids[2], ids[1]]


def test_runs_created_in_the_same_instant_are_each_listed_once(instance: Any) -> None:
    runs = [new_run(RunTarget.assets(), selection=["a"], create_time=42.0) for _ in range(5)]
    instance.store.create_runs(runs)
    pages = _all_pages(instance=instance, limit=2)
    assert sorted(r for page in pages for r in page) == sorted(r.run_id for r in runs) and len(pages) == 3


def test_filters_by_status_target_dag_tags_and_backfill_combine(instance: Any) -> None:
    day = datetime(2025, 1, 1, tzinfo=UTC)
    dag_runs = _store_runs(instance, 3, target=RunTarget.dag("etl"), logical_date=day, run_type="manual")
    job_runs = _store_runs(instance, 2, target=RunTarget.job("daily"), tags={"team": "ops"}, start=2_000.0)
    filled = _store_runs(instance, 2, backfill_id="bf1", tags={"team": "ops"}, start=3_000.0)
    instance.store.update_run_status(job_runs[0], RunStatus.FAILURE)

    def ids(**kwargs: Any) -> list[str]:
        return [r.run_id for r in list_runs(instance, **kwargs).items]

    assert ids(dag_id="etl") == dag_runs[::-1]
    assert ids(target="job:daily") == job_runs[::-1]
    assert ids(status="failure") == [job_runs[0]]
    assert ids(status=["failure", "queued"], tags={"team": "ops"}) == [*filled[::-1], *job_runs[::-1]]
    assert ids(backfill_id="bf1") == filled[::-1]
    assert ids(tags={"team": "ops"}, backfill_id="bf1", limit=1) == [filled[1]]
    assert ids(tags={"team": "nobody"}) == []


def test_tag_filtered_pages_continue_past_runs_without_the_tag(instance: Any) -> None:
    tagged = _store_runs(instance, 3, tags={"k": "v"})
    _store_runs(instance, 500, start=2_000.0)  # newer, untagged: a page must look past them
    tagged += _store_runs(instance, 2, tags={"k": "v"}, start=9_000.0)
    assert _all_pages(instance=instance, tags={"k": "v"}, limit=2) == [
        tagged[::-1][:2],
        tagged[::-1][2:4],
        tagged[::-1][4:],
    ]


def test_a_summary_says_what_the_run_was_for(instance: Any) -> None:
    day = datetime(2025, 1, 2, tzinfo=UTC)
    (run_id,) = _store_runs(instance, 1, target=RunTarget.dag("etl"), logical_date=day, run_type="scheduled")
    (summary,) = list_runs(instance).items
    assert (summary.run_id, summary.target_kind, summary.dag_id) == (run_id, "dag", "etl")
    assert summary.logical_date == day.isoformat() and summary.scope == day.isoformat()
    assert summary.to_json()["status"] == "queued" and summary.duration is None


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzFd"}, "cursor"),  # base64 of [1]: one value, not two
        ({"status": "exploded"}, "exploded"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_arguments_are_refused_with_a_message_naming_them(
    instance: Any, kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises(DerasError, match=named):
        list_runs(instance, **kwargs)


@dg.asset
def source() -> int:
    return 1


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
def flaky(source: int) -> int:
    raise ValueError("flaky broke")


@dg.asset_check(asset=source)
def source_positive(source: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=source > 0)


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
def dies_once(context: dg.AssetExecutionContext) -> int:
    if context.retry_number == 0:
        os._exit(3)  # the worker process dies before it reports the attempt
    return 7


def test_an_attempt_whose_worker_died_counts_as_a_try(instance: Any) -> None:
    result = dg.materialize([dies_once], instance=instance, executor=dg.MultiprocessExecutor(1))
    detail = run_detail(instance, result.run_id)
    assert detail is not None
    (step,) = detail.steps
    assert [(a.status, a.try_number) for a in step.attempts] == [("up_for_retry", 1), ("success", 2)]


def test_run_detail_has_each_step_with_its_attempts_and_tracebacks(instance: Any) -> None:
    result = dg.materialize([source, flaky, source_positive], instance=instance, raise_on_error=False)
    detail = run_detail(instance, result.run_id)
    assert detail is not None and detail.summary.status == "failure"
    steps = {s.node: s for s in detail.steps}
    assert {n: s.kind for n, s in steps.items()} == {
        "source": "asset",
        "flaky": "asset",
        "source:source_positive": "check",
    }
    assert [a.status for a in steps["flaky"].attempts] == ["up_for_retry", "failed"]
    assert [a.try_number for a in steps["flaky"].attempts] == [1, 2]
    last = steps["flaky"].attempts[-1]
    assert "flaky broke" in (last.error or "") and "ValueError" in (last.traceback or "")
    assert steps["flaky"].status == "failed" and steps["source"].status == "success"
    assert [(c.check_name, c.passed) for c in detail.checks] == [("source_positive", True)]
    assert detail.to_json()["steps"][0]["attempts"][0]["map_index"] == -1


def test_run_detail_of_an_unknown_run_is_none(instance: Any) -> None:
    assert run_detail(instance, "nope") is None


def test_events_continue_after_the_last_event_id_seen(instance: Any) -> None:
    result = dg.materialize([source], instance=instance)
    everything = run_events(instance, result.run_id).items
    assert everything[0].event_type == "run_start" and everything[-1].event_type == "run_success"
    first = run_events(instance, result.run_id, limit=2)
    assert first.next_cursor is not None and [e.event_id for e in first.items] == [
        e.event_id for e in everything[:2]
    ]
    rest = run_events(instance, result.run_id, after_event_id=first.items[-1].event_id)
    assert [e.event_id for e in rest.items] == [e.event_id for e in everything[2:]]
    assert rest.next_cursor is None


def test_logs_page_after_an_event_id_and_from_the_end(instance: Any) -> None:
    result = dg.materialize([source, flaky], instance=instance, raise_on_error=False)
    whole = run_logs(instance, result.run_id)
    assert whole.text == instance.get_logs(result.run_id) and not whole.more
    head = run_logs(instance, result.run_id, limit=3)
    assert head.more and head.records == whole.records[:3]
    rest = run_logs(instance, result.run_id, after_event_id=head.last_event_id)
    assert head.records + rest.records == whole.records
    assert run_logs(instance, result.run_id, offset=-2).records == whole.records[-2:]
    flaky_only = run_logs(instance, result.run_id, node="flaky")
    assert flaky_only.records and all(r.node == "flaky" for r in flaky_only.records)
    with pytest.raises(DerasError, match="no run"):
        run_logs(instance, "nope")


def _run_of_many_steps(instance: Any, run_id: str, outcomes: str) -> None:
    """A run whose nodes ``n0``, ``n1``... started in that order; ``s``: succeeded, ``f``: failed."""
    instance.store.create_runs([RunRecord(run_id, "assets:*", status=RunStatus.QUEUED, create_time=1.0)])
    events = []
    for i, outcome in enumerate(outcomes):
        node = f"n{i}"
        events.append(EventRecord(run_id, EventType.STEP_START, node=node, attempt=0, timestamp=10.0 + i))
        kind = EventType.STEP_SUCCESS if outcome == "s" else EventType.STEP_FAILURE
        data = {} if outcome == "s" else {"traceback": f"trace of {node}"}
        events.append(EventRecord(run_id, kind, node=node, attempt=0, timestamp=10.5 + i, data=data))
    instance.store.store_events(events)


def test_a_step_limit_keeps_the_first_steps_and_the_first_failed_ones_and_counts_all(instance: Any) -> None:
    _run_of_many_steps(instance, "big", "ssfsfsf")
    detail = run_detail(instance, "big", steps_limit=2)
    assert detail is not None
    assert [s.node for s in detail.steps] == ["n0", "n1"]
    assert [s.node for s in detail.failed_steps] == ["n2", "n4"]
    assert detail.failed_steps[0].attempts[0].traceback == "trace of n2"
    assert detail.step_count == 7 and detail.step_statuses == {"success": 4, "failed": 3}
    assert [node for node, _ in detail.attempts_by_time] == ["n0", "n1", "n2", "n4"]
    data = detail.to_json()
    assert data["step_count"] == 7 and [s["node"] for s in data["failed_steps"]] == ["n2", "n4"]
    everything = run_detail(instance, "big")
    assert everything is not None and [s.node for s in everything.steps] == [f"n{i}" for i in range(7)]


@pytest.mark.parametrize("steps_limit", [0, -1, 100_001])
def test_a_step_limit_out_of_range_is_refused(instance: Any, steps_limit: int) -> None:
    with pytest.raises(DerasError, match="limit"):
        run_detail(instance, "any", steps_limit=steps_limit)
