"""Ticks of schedules and sensors: claimed exactly once, leases, outcomes, cursors, state."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from deras._core.errors import DerasError
from deras._core.records import InstigatorState
from deras._core.status import TickStatus
from deras._storage import MetadataStore

T0 = 1_700_000_000.0
SCHEDULE = "schedule:nightly"
LEASE = 60.0


def test_claim_tick_starts_a_new_tick_for_its_owner(store: MetadataStore) -> None:
    tick = store.ticks.claim_tick(SCHEDULE, T0, "daemon-a", now=T0 + 1, lease_seconds=LEASE)
    assert tick is not None
    assert (tick.instigator, tick.tick_time, tick.status) == (SCHEDULE, T0, TickStatus.STARTED)
    assert (tick.owner, tick.lease_until, tick.start_time, tick.end_time) == (
        "daemon-a",
        T0 + 61,
        T0 + 1,
        None,
    )
    assert tick.run_ids == []
    assert store.ticks.get_ticks(SCHEDULE) == [tick]


def test_claim_tick_returns_none_while_another_owner_holds_the_lease(store: MetadataStore) -> None:
    first = store.ticks.claim_tick(SCHEDULE, T0, "daemon-a", now=T0, lease_seconds=LEASE)
    assert first is not None
    assert store.ticks.claim_tick(SCHEDULE, T0, "daemon-b", now=T0 + LEASE - 1, lease_seconds=LEASE) is None
    assert store.ticks.claim_tick(SCHEDULE, T0, "daemon-a", now=T0 + 1, lease_seconds=LEASE) is None
    assert store.ticks.get_ticks(SCHEDULE) == [first]


def test_claim_tick_takes_over_an_expired_lease(store: MetadataStore) -> None:
    crashed = store.ticks.claim_tick(SCHEDULE, T0, "daemon-a", now=T0, lease_seconds=LEASE)
    assert crashed is not None
    store.ticks.add_tick_runs(crashed.id, ["r1"])
    later = T0 + LEASE + 5
    taken = store.ticks.claim_tick(SCHEDULE, T0, "daemon-b", now=later, lease_seconds=LEASE)
    assert taken is not None
    assert taken.id == crashed.id and taken.owner == "daemon-b" and taken.lease_until == later + LEASE
    assert taken.run_ids == ["r1"] and taken.start_time == T0  # the runs it already created stay
    assert store.ticks.get_ticks(SCHEDULE) == [taken]
    assert store.ticks.count_ticks(SCHEDULE) == 1


def test_claim_tick_never_returns_a_finished_tick(store: MetadataStore) -> None:
    tick = store.ticks.claim_tick(SCHEDULE, T0, "daemon-a", now=T0, lease_seconds=LEASE)
    assert tick is not None
    store.ticks.finish_tick(tick.id, TickStatus.SUCCESS, now=T0 + 1)
    much_later = T0 + 100 * LEASE
    assert store.ticks.claim_tick(SCHEDULE, T0, "daemon-b", now=much_later, lease_seconds=LEASE) is None


def test_ticks_of_other_instigators_or_times_are_independent(store: MetadataStore) -> None:
    claims = [
        store.ticks.claim_tick(SCHEDULE, T0, "d", now=T0, lease_seconds=LEASE),
        store.ticks.claim_tick(SCHEDULE, T0 + 60, "d", now=T0, lease_seconds=LEASE),
        store.ticks.claim_tick("sensor:files", T0, "d", now=T0, lease_seconds=LEASE),
    ]
    assert all(claims)
    assert store.ticks.count_ticks(SCHEDULE) == 2 and store.ticks.count_ticks("sensor:files") == 1


def test_concurrent_claimers_win_each_tick_exactly_once(store: MetadataStore) -> None:
    """Two daemons (own engines) race for the same 40 ticks: every tick has exactly one winner."""
    tick_times = [T0 + 60 * i for i in range(40)]
    barrier = threading.Barrier(2)
    won: dict[str, list[float]] = {}
    errors: list[BaseException] = []

    def claim_all(owner: str) -> None:
        other = MetadataStore(store.url)
        try:
            barrier.wait(timeout=30)
            won[owner] = [
                t
                for t in tick_times
                if other.ticks.claim_tick(SCHEDULE, t, owner, now=T0, lease_seconds=LEASE)
            ]
        except BaseException as e:
            errors.append(e)
        finally:
            other.dispose()

    threads = [threading.Thread(target=claim_all, args=(owner,)) for owner in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(won["a"] + won["b"]) == tick_times
    owners = {t.tick_time: t.owner for t in store.ticks.get_ticks(SCHEDULE)}
    assert owners == {**dict.fromkeys(won["a"], "a"), **dict.fromkeys(won["b"], "b")}


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # row locks are Postgres's
def test_claim_tick_skips_a_tick_locked_by_another_session_without_waiting(
    store: MetadataStore, no_hang
) -> None:
    """Postgres: a row held ``FOR UPDATE`` elsewhere is skipped (SKIP LOCKED), not waited on."""
    crashed = store.ticks.claim_tick(SCHEDULE, T0, "daemon-a", now=T0, lease_seconds=LEASE)
    assert crashed is not None
    engine = sa.create_engine(store.url, poolclass=sa.NullPool)
    try:
        with engine.connect() as other, other.begin():
            other.execute(sa.text("SELECT id FROM ticks WHERE id = :id FOR UPDATE"), {"id": crashed.id})
            later = T0 + 2 * LEASE
            with no_hang(20):  # waiting for the lock would wait for ever: it is held here
                claimed = store.ticks.claim_tick(SCHEDULE, T0, "daemon-b", now=later, lease_seconds=LEASE)
            assert claimed is None
        # Once the other session lets go, the expired tick can be taken over.
        taken = store.ticks.claim_tick(SCHEDULE, T0, "daemon-b", now=later, lease_seconds=LEASE)
        assert taken is not None and taken.owner == "daemon-b"
    finally:
        engine.dispose()


def test_finish_tick_records_the_outcome_and_every_run(store: MetadataStore) -> None:
    tick = store.ticks.claim_tick(SCHEDULE, T0, "d", now=T0, lease_seconds=LEASE)
    assert tick is not None
    store.ticks.add_tick_runs(tick.id, ["r1", "r2"])
    store.ticks.add_tick_runs(tick.id, ["r2", "r3"])
    store.ticks.finish_tick(tick.id, TickStatus.SUCCESS, now=T0 + 2, run_ids=["r3", "r4"])
    finished = store.ticks.get_latest_tick(SCHEDULE)
    assert finished is not None
    assert finished.status is TickStatus.SUCCESS and finished.end_time == T0 + 2
    assert finished.run_ids == ["r1", "r2", "r3", "r4"]
    assert finished.cursor is None and store.ticks.get_state(SCHEDULE) is None


def test_finish_tick_records_skip_reasons_and_errors(store: MetadataStore) -> None:
    skipped = store.ticks.claim_tick(SCHEDULE, T0, "d", now=T0, lease_seconds=LEASE)
    failed = store.ticks.claim_tick(SCHEDULE, T0 + 60, "d", now=T0, lease_seconds=LEASE)
    assert skipped is not None and failed is not None
    store.ticks.finish_tick(skipped.id, TickStatus.SKIPPED, now=T0 + 1, skip_reason="max_active_runs reached")
    store.ticks.finish_tick(failed.id, TickStatus.FAILURE, now=T0 + 61, error="ValueError: boom")
    by_time = {t.tick_time: t for t in store.ticks.get_ticks(SCHEDULE)}
    assert by_time[T0].skip_reason == "max_active_runs reached" and by_time[T0].error is None
    assert by_time[T0 + 60].status is TickStatus.FAILURE and by_time[T0 + 60].error == "ValueError: boom"


def test_finish_tick_moves_the_cursor_with_the_tick(store: MetadataStore) -> None:
    sensor = "sensor:new_files"
    store.ticks.set_status(sensor, "running", now=T0)
    tick = store.ticks.claim_tick(sensor, T0, "d", now=T0, lease_seconds=LEASE)
    assert tick is not None
    store.ticks.finish_tick(tick.id, TickStatus.SUCCESS, now=T0 + 1, cursor="file-0042")
    assert store.ticks.get_state(sensor) == InstigatorState(sensor, "running", "file-0042", T0 + 1)
    latest = store.ticks.get_latest_tick(sensor)
    assert latest is not None and latest.cursor == "file-0042"

    # A tick finished without a cursor leaves the instigator's cursor where it was.
    tick = store.ticks.claim_tick(sensor, T0 + 30, "d", now=T0 + 30, lease_seconds=LEASE)
    assert tick is not None
    store.ticks.finish_tick(tick.id, TickStatus.SKIPPED, now=T0 + 31, skip_reason="no new files")
    state = store.ticks.get_state(sensor)
    assert state is not None and state.cursor == "file-0042"


def test_finish_tick_with_a_cursor_creates_the_instigator_state(store: MetadataStore) -> None:
    tick = store.ticks.claim_tick("sensor:s", T0, "d", now=T0, lease_seconds=LEASE)
    assert tick is not None
    store.ticks.finish_tick(tick.id, TickStatus.SUCCESS, now=T0 + 1, cursor="c1")
    assert store.ticks.get_state("sensor:s") == InstigatorState("sensor:s", None, "c1", T0 + 1)


def test_finish_tick_refuses_started_as_an_outcome_and_unknown_ticks(store: MetadataStore) -> None:
    tick = store.ticks.claim_tick(SCHEDULE, T0, "d", now=T0, lease_seconds=LEASE)
    assert tick is not None
    with pytest.raises(DerasError, match="outcome"):
        store.ticks.finish_tick(tick.id, TickStatus.STARTED, now=T0)
    with pytest.raises(DerasError, match="no tick"):
        store.ticks.finish_tick(tick.id + 1000, TickStatus.SUCCESS, now=T0)


def test_add_tick_runs_only_to_a_started_tick(store: MetadataStore) -> None:
    tick = store.ticks.claim_tick(SCHEDULE, T0, "d", now=T0, lease_seconds=LEASE)
    assert tick is not None
    store.ticks.finish_tick(tick.id, TickStatus.SUCCESS, now=T0 + 1)
    with pytest.raises(DerasError, match="not started"):
        store.ticks.add_tick_runs(tick.id, ["late"])


def test_get_ticks_lists_newest_first_with_limit_and_status(store: MetadataStore) -> None:
    for i, outcome in enumerate([TickStatus.SUCCESS, TickStatus.SKIPPED, TickStatus.SUCCESS, None]):
        tick = store.ticks.claim_tick(SCHEDULE, T0 + 60 * i, "d", now=T0, lease_seconds=LEASE)
        assert tick is not None
        if outcome is not None:
            store.ticks.finish_tick(tick.id, outcome, now=T0 + 60 * i + 1)
    assert [t.tick_time for t in store.ticks.get_ticks(SCHEDULE)] == [T0 + 180, T0 + 120, T0 + 60, T0]
    assert [t.tick_time for t in store.ticks.get_ticks(SCHEDULE, limit=2)] == [T0 + 180, T0 + 120]
    successes = store.ticks.get_ticks(SCHEDULE, status=TickStatus.SUCCESS)
    assert [t.tick_time for t in successes] == [T0 + 120, T0]
    finished = store.ticks.get_ticks(SCHEDULE, status=[TickStatus.SUCCESS, TickStatus.SKIPPED], limit=2)
    assert [t.tick_time for t in finished] == [T0 + 120, T0 + 60]
    latest = store.ticks.get_latest_tick(SCHEDULE)
    assert latest is not None and latest.status is TickStatus.STARTED
    assert store.ticks.get_latest_tick("schedule:unknown") is None
    assert store.ticks.count_ticks(SCHEDULE) == 4 and store.ticks.count_ticks("schedule:unknown") == 0


def test_instigator_status_and_cursor_are_upserted_separately(store: MetadataStore) -> None:
    assert store.ticks.get_state("dag:etl") is None and store.ticks.get_states() == {}
    store.ticks.set_status("dag:etl", "stopped", now=T0)
    store.ticks.set_cursor("dag:etl", "2024-01-01", now=T0 + 1)
    assert store.ticks.get_state("dag:etl") == InstigatorState("dag:etl", "stopped", "2024-01-01", T0 + 1)
    store.ticks.set_status("dag:etl", None, now=T0 + 2)  # back to the definition's default
    store.ticks.set_cursor("sensor:s", None, now=T0 + 3)
    assert store.ticks.get_states() == {
        "dag:etl": InstigatorState("dag:etl", None, "2024-01-01", T0 + 2),
        "sensor:s": InstigatorState("sensor:s", None, None, T0 + 3),
    }


def test_a_started_tick_of_a_dead_owner_is_taken_over_under_its_live_lease(store: MetadataStore) -> None:
    held = store.ticks.claim_tick(SCHEDULE, T0, "daemon-a", now=T0, lease_seconds=LEASE)
    assert held is not None
    assert store.ticks.claim_tick(SCHEDULE, T0, "daemon-b", now=T0 + 1, lease_seconds=LEASE) is None
    assert (
        store.ticks.claim_tick(SCHEDULE, T0, "daemon-b", now=T0 + 1, lease_seconds=LEASE, dead_owner="other")
        is None
    )
    taken = store.ticks.claim_tick(
        SCHEDULE, T0, "daemon-b", now=T0 + 1, lease_seconds=LEASE, dead_owner="daemon-a"
    )
    assert taken is not None and taken.id == held.id and taken.owner == "daemon-b"
