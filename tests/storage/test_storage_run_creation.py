"""Creating runs in bulk, exactly once per idempotency key; finished runs for the daemon."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from deras._core.errors import DerasError
from deras._core.events import EventRecord, EventType
from deras._core.records import RunRecord
from deras._core.status import RunStatus
from deras._storage import MetadataStore

T0 = 1_700_000_000.0


def _run(run_id: str, key: str | None = None, **fields: object) -> RunRecord:
    return RunRecord(run_id, "dag:etl", idempotency_key=key, create_time=T0, **fields)  # type: ignore[arg-type]


def test_create_runs_inserts_all_and_returns_them(store: MetadataStore) -> None:
    runs = [_run("r1", "k1", priority=3), _run("r2", "k2"), _run("r3")]
    assert store.create_runs(runs) == runs
    assert [store.get_run(r.run_id) for r in runs] == runs
    assert store.create_runs([]) == []


def test_create_runs_skips_runs_whose_idempotency_key_exists(store: MetadataStore) -> None:
    store.create_runs([_run("first", "tick:1")])
    created = store.create_runs([_run("again", "tick:1"), _run("new", "tick:2")])
    assert [r.run_id for r in created] == ["new"]
    assert store.get_run("again") is None
    found = store.get_run_by_idempotency_key("tick:1")
    assert found is not None and found.run_id == "first"
    assert store.get_run_by_idempotency_key("tick:404") is None


def test_create_runs_retried_with_the_same_runs_inserts_nothing(store: MetadataStore) -> None:
    runs = [_run("r1", "k1"), _run("r2", "k2")]
    store.create_runs(runs)
    assert store.create_runs([_run("r1", "k1"), _run("r2", "k2")]) == []
    assert len(store.get_runs()) == 2


def test_create_runs_keeps_the_first_of_two_runs_with_one_key(store: MetadataStore) -> None:
    created = store.create_runs([_run("a", "same"), _run("b", "same")])
    assert [r.run_id for r in created] == ["a"]
    assert [r.run_id for r in store.get_runs()] == ["a"]


def test_create_runs_with_a_duplicate_run_id_raises_and_inserts_nothing(store: MetadataStore) -> None:
    store.create_runs([_run("taken")])
    with pytest.raises(DerasError, match="already exists"):
        store.create_runs([_run("fresh", "k"), _run("taken", "other-key")])
    assert [r.run_id for r in store.get_runs()] == ["taken"]


def test_create_run_with_a_taken_idempotency_key_raises(store: MetadataStore) -> None:
    """The single-run create (with its events) is strict: a taken key is an error, not a skip."""
    store.create_runs([_run("first", "k")])
    with pytest.raises(DerasError, match="idempotency key 'k'"):
        store.create_run(_run("second", "k"))


def test_create_runs_sets_create_time_to_now_when_zero(store: MetadataStore) -> None:
    before = time.time()
    (created,) = store.create_runs([RunRecord("r", "dag:etl")])
    assert before <= created.create_time <= time.time()


def test_create_runs_creates_ten_thousand_queued_runs_in_one_call(store: MetadataStore) -> None:
    # How fast: benchmarks/ ("10,000-partition backfill created and queued").
    runs = [_run(f"r{i:05d}", f"backfill:bf:{i}", tags={"deras/backfill": "bf"}) for i in range(10_000)]
    created = store.create_runs(runs)
    assert len(created) == 10_000
    assert len(store.run_queue.queued_runs()) == 10_000


def test_concurrent_creators_of_the_same_keys_create_each_run_once(store: MetadataStore) -> None:
    """Two daemons creating the runs of the same ticks: each key's run is created by one."""
    keys = [f"tick:{i}" for i in range(50)]
    barrier = threading.Barrier(2)
    created: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def create(name: str) -> None:
        other = MetadataStore(store.url)
        try:
            barrier.wait(timeout=30)
            created[name] = []
            for key in keys:
                created[name] += [
                    r.idempotency_key or "" for r in other.create_runs([_run(f"{name}-{key}", key)])
                ]
        except BaseException as e:
            errors.append(e)
        finally:
            other.dispose()

    threads = [threading.Thread(target=create, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(created["a"] + created["b"]) == sorted(keys)
    assert len(store.get_runs()) == len(keys)


def test_create_runs_racing_an_uncommitted_run_with_the_same_key_skips_its_run(store: MetadataStore) -> None:
    """Another session inserts the key and commits while our create_runs is under way."""
    engine = sa.create_engine(store.url, poolclass=sa.NullPool)
    result: list[list[RunRecord]] = []
    try:
        with engine.connect() as other:
            other.execute(
                sa.text(
                    "INSERT INTO runs (run_id, target, status, tags, run_config, create_time, "
                    "idempotency_key, priority) VALUES ('theirs', 'dag:etl', 'queued', '{}', '{}', 1, 'k', 0)"
                )
            )
            creator = threading.Thread(target=lambda: result.append(store.create_runs([_run("ours", "k")])))
            creator.start()
            time.sleep(0.3)  # Postgres: ours waits on their uncommitted key; SQLite: on the write lock
            other.commit()
        creator.join(timeout=30)
    finally:
        engine.dispose()
    assert result == [[]]
    found = store.get_run_by_idempotency_key("k")
    assert found is not None and found.run_id == "theirs"
    assert store.get_run("ours") is None


def test_runs_finished_after_come_by_end_time_then_creation(store: MetadataStore) -> None:
    for run_id in ("a", "b", "c", "d", "running"):
        store.create_run(_run(run_id), [EventRecord(run_id, EventType.RUN_START, timestamp=T0)])
    store.store_events(
        [
            EventRecord("c", EventType.RUN_SUCCESS, timestamp=T0 + 20),
            EventRecord("a", EventType.RUN_FAILURE, timestamp=T0 + 30),
            EventRecord("b", EventType.RUN_CANCELED, timestamp=T0 + 20),
            EventRecord("d", EventType.RUN_SUCCESS, timestamp=T0 + 10),
        ]
    )
    assert [r.run_id for r in store.get_runs_finished_after(T0)] == ["d", "b", "c", "a"]
    assert [r.run_id for r in store.get_runs_finished_after(T0 + 10)] == ["b", "c", "a"]
    assert [r.run_id for r in store.get_runs_finished_after(T0 + 10, limit=1)] == ["b"]
    assert store.get_runs_finished_after(T0 + 30) == []
    finished = store.get_runs_finished_after(T0)
    assert {r.status for r in finished} == {RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED}


def test_run_record_json_includes_its_priority() -> None:
    assert _run("r", priority=7).to_json()["priority"] == 7
