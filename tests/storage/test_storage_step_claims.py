"""Step claims: one worker runs an attempt; its outcome is recorded once; a lost claim records nothing."""

from __future__ import annotations

import threading
import time

from deras._core.events import EventRecord, EventType
from deras._core.records import RunRecord
from deras._storage import MetadataStore

KEY = ("r", "a", 0)
ME = {"host": "h", "pid": 1}


def _started(store: MetadataStore) -> None:
    store.create_run(RunRecord("r", "assets:a"))


def test_the_first_claim_of_an_attempt_wins_and_a_second_gets_nothing(store: MetadataStore) -> None:
    assert store.steps.claim(KEY, ME, now=1.0)
    assert not store.steps.claim(KEY, {"host": "other", "pid": 2}, now=2.0)
    [claim] = store.steps.of_run("r").values()
    assert claim.worker == ME and claim.claimed_time == 1.0 and claim.outcome is None
    assert store.steps.claim(("r", "a", 1), ME, now=3.0)  # the next attempt is a claim of its own


def test_concurrent_claimers_of_one_attempt_make_one_winner(store: MetadataStore) -> None:
    won: list[bool] = []
    barrier = threading.Barrier(4)

    def claim(i: int) -> None:
        other = MetadataStore(store.url)
        try:
            barrier.wait()
            won.append(other.steps.claim(KEY, {"pid": i}, now=1.0))
        finally:
            other.dispose()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(won) == [False, False, False, True]


def test_finishing_records_the_outcome_and_its_last_events_once(store: MetadataStore) -> None:
    _started(store)
    store.steps.claim(KEY, ME, now=1.0)
    assert store.steps.append_events(KEY, [EventRecord("r", EventType.STEP_START, node="a", attempt=0)])
    done = [EventRecord("r", EventType.STEP_SUCCESS, node="a", attempt=0)]
    assert store.steps.finish(KEY, {"status": "success"}, done, now=2.0)
    assert not store.steps.finish(KEY, {"status": "success"}, done, now=3.0)  # a duplicate: nothing
    assert store.steps.of_run("r")[KEY].outcome == {"status": "success"}
    assert [e.event_type for e in store.get_events("r")] == [EventType.STEP_START, EventType.STEP_SUCCESS]


def test_a_claim_given_up_as_lost_takes_no_more_events_or_outcome(store: MetadataStore) -> None:
    _started(store)
    store.steps.claim(KEY, ME, now=1.0)
    assert store.steps.lose(KEY, "stopped beating", now=40.0)
    assert not store.steps.lose(KEY, "again", now=41.0)
    late = [EventRecord("r", EventType.ASSET_MATERIALIZATION, node="a", attempt=0, data={"asset_key": "a"})]
    assert not store.steps.append_events(KEY, late)
    assert not store.steps.finish(KEY, {"status": "success"}, [], now=42.0)
    assert store.steps.of_run("r")[KEY].outcome == {"lost": "stopped beating"}
    assert store.get_events("r") == [] and store.get_latest_materialization("a") is None


def test_a_heartbeat_stamps_open_claims_and_names_the_lost_ones(store: MetadataStore) -> None:
    other = ("r", "b", 0)
    store.steps.claim(KEY, ME, now=1.0)
    store.steps.claim(other, ME, now=1.0)
    store.steps.lose(other, "stopped beating", now=5.0)
    assert store.steps.beat([KEY, other], now=6.0) == [other]
    assert store.steps.of_run("r")[KEY].heartbeat == 6.0


def test_a_watch_wakes_when_another_process_closes_a_claim_of_its_run(store: MetadataStore, no_hang) -> None:
    store.steps.claim(KEY, ME, now=1.0)
    watch = store.watch_steps("r")
    watch.wait(0)  # ready: listening (Postgres) or reading the version (SQLite)
    writer = MetadataStore(store.url)

    def finish_later() -> None:
        time.sleep(0.3)
        writer.steps.finish(KEY, {"status": "success"}, [], now=2.0)

    thread = threading.Thread(target=finish_later)
    thread.start()
    try:
        with no_hang(30):  # a wait of 60 s: only the finish can end it sooner
            watch.wait(60)
        assert store.steps.of_run("r")[KEY].outcome == {"status": "success"}
    finally:
        thread.join(30)
        watch.close()
        writer.dispose()
