"""Concurrency slots: at most ``limit`` nodes of all runs hold a pool's slots at once."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from deras._storage import MetadataStore

T0 = 1_700_000_000.0


def test_claim_takes_free_slots_up_to_the_limit(store: MetadataStore) -> None:
    assert store.slots.claim("db", 2, "r1", "a", now=T0)
    assert store.slots.claim("db", 2, "r2", "a", now=T0)
    assert not store.slots.claim("db", 2, "r3", "a", now=T0)
    assert store.slots.holders("db") == [("r1", "a"), ("r2", "a")]
    assert store.slots.usage() == {"db": 2}


def test_claim_again_by_the_holder_keeps_its_one_slot(store: MetadataStore) -> None:
    assert store.slots.claim("db", 2, "r1", "a", now=T0)
    assert store.slots.claim("db", 2, "r1", "a", now=T0 + 1)
    assert store.slots.holders("db") == [("r1", "a")]
    assert store.slots.claim("db", 2, "r1", "b", now=T0)  # another node of the run is another holder
    assert store.slots.usage() == {"db": 2}


def test_release_frees_a_slot_for_the_next_claimer(store: MetadataStore) -> None:
    assert store.slots.claim("db", 1, "r1", "a", now=T0)
    assert not store.slots.claim("db", 1, "r2", "a", now=T0)
    store.slots.release("db", "r1", "a")
    assert store.slots.usage() == {"db": 0}
    assert store.slots.claim("db", 1, "r2", "a", now=T0)
    assert store.slots.holders("db") == [("r2", "a")]
    store.slots.release("db", "r-unknown", "a")  # releasing what is not held does nothing
    assert store.slots.holders("db") == [("r2", "a")]


def test_release_run_frees_every_slot_of_the_run_in_every_pool(store: MetadataStore) -> None:
    assert store.slots.claim("db", 3, "r1", "a", now=T0)
    assert store.slots.claim("db", 3, "r1", "b", now=T0)
    assert store.slots.claim("api", 1, "r1", "a", now=T0)
    assert store.slots.claim("db", 3, "r2", "a", now=T0)
    store.slots.release_run("r1")
    assert store.slots.usage() == {"api": 0, "db": 1}
    assert store.slots.holders("db") == [("r2", "a")]


def test_pools_are_independent(store: MetadataStore) -> None:
    assert store.slots.claim("db", 1, "r1", "a", now=T0)
    assert store.slots.claim("api", 1, "r1", "b", now=T0)
    assert not store.slots.claim("db", 1, "r2", "a", now=T0)
    assert store.slots.usage() == {"api": 1, "db": 1}
    assert store.slots.holders("unknown") == []


def test_a_lowered_limit_applies_as_slots_above_it_are_released(store: MetadataStore) -> None:
    for run in ("r1", "r2", "r3"):
        assert store.slots.claim("db", 3, run, "a", now=T0)
    store.slots.release("db", "r1", "a")
    assert not store.slots.claim("db", 1, "r4", "a", now=T0)  # slot 0 freed, but 2 still held above
    assert store.slots.usage() == {"db": 2}
    store.slots.release("db", "r2", "a")
    store.slots.release("db", "r3", "a")
    assert store.slots.claim("db", 1, "r4", "a", now=T0)
    assert not store.slots.claim("db", 1, "r5", "a", now=T0)


def test_a_raised_limit_adds_slots(store: MetadataStore) -> None:
    assert store.slots.claim("db", 1, "r1", "a", now=T0)
    assert not store.slots.claim("db", 1, "r2", "a", now=T0)
    assert store.slots.claim("db", 2, "r2", "a", now=T0)
    assert not store.slots.claim("db", 0, "r3", "a", now=T0)


def test_concurrent_claimers_never_exceed_the_limit(store: MetadataStore) -> None:
    limit, claimers = 3, 6
    barrier = threading.Barrier(claimers)
    won: list[str] = []
    errors: list[BaseException] = []

    def claim(run_id: str) -> None:
        other = MetadataStore(store.url)
        try:
            barrier.wait(timeout=30)
            # Keep trying while slots may still be free: a claim finding every free slot
            # locked by claims in flight gets False (Postgres: SKIP LOCKED) without waiting.
            for _ in range(50):
                if other.slots.claim("db", limit, run_id, "a", now=T0):
                    won.append(run_id)
                    return
                if other.slots.usage().get("db", 0) >= limit:
                    return
                time.sleep(0.01)
        except BaseException as e:
            errors.append(e)
        finally:
            other.dispose()

    threads = [threading.Thread(target=claim, args=(f"r{i}",)) for i in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(won) == limit
    assert sorted(run for run, _ in store.slots.holders("db")) == sorted(won)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # row locks are Postgres's
def test_claim_skips_a_slot_locked_by_another_session_without_waiting(store: MetadataStore, no_hang) -> None:
    assert store.slots.claim("db", 2, "r1", "a", now=T0)
    store.slots.release("db", "r1", "a")
    engine = sa.create_engine(store.url, poolclass=sa.NullPool)
    try:
        with engine.connect() as other, other.begin():
            other.execute(sa.text("SELECT slot FROM concurrency_slots WHERE slot = 0 FOR UPDATE"))
            with no_hang(20):  # waiting for the lock would wait for ever: it is held here
                assert store.slots.claim("db", 2, "r2", "a", now=T0)
            assert store.slots.holders("db") == [("r2", "a")]
            assert not store.slots.claim("db", 2, "r3", "a", now=T0)  # slot 0 locked, slot 1 taken
    finally:
        engine.dispose()
    assert store.slots.claim("db", 2, "r3", "a", now=T0)
