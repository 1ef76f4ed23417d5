"""Materializations, check results and dynamic partitions."""

from __future__ import annotations

import pytest

from deras._core.events import EventRecord, EventType
from deras._core.records import CheckResultRecord, RunRecord
from deras._storage import MetadataStore


@pytest.fixture
def runs_store(store: MetadataStore) -> MetadataStore:
    for run_id in ("r1", "r2"):
        store.create_run(RunRecord(run_id, "assets:*", create_time=1.0))
    return store


def _materialize(
    store: MetadataStore, asset_key: str, run_id: str = "r1", t: float = 0.0, **data: object
) -> EventRecord:
    event = EventRecord(
        run_id,
        EventType.ASSET_MATERIALIZATION,
        node=asset_key,
        timestamp=t,
        data={"asset_key": asset_key, **data},
    )
    store.store_events([event])
    return event


def test_materialization_event_records_a_materialization(runs_store: MetadataStore) -> None:
    event = _materialize(runs_store, "prices/raw", t=5.0, metadata={"rows": 10, "path": "/tmp/x"})
    latest = runs_store.get_latest_materialization("prices/raw")
    assert latest is not None
    assert (latest.asset_key, latest.partition, latest.run_id, latest.timestamp) == (
        "prices/raw",
        None,
        "r1",
        5.0,
    )
    assert latest.metadata == {"rows": 10, "path": "/tmp/x"}
    assert latest.event_id == event.id


def test_unmaterialized_asset_has_no_latest_materialization(runs_store: MetadataStore) -> None:
    assert runs_store.get_latest_materialization("never") is None
    assert runs_store.get_materializations("never") == []


def test_latest_materialization_is_the_newest(runs_store: MetadataStore) -> None:
    _materialize(runs_store, "a", "r1", t=1.0, metadata={"v": 1})
    _materialize(runs_store, "a", "r2", t=2.0, metadata={"v": 2})
    _materialize(runs_store, "b", "r2", t=3.0, metadata={"v": 3})
    latest = runs_store.get_latest_materialization("a")
    assert latest is not None and latest.metadata == {"v": 2} and latest.run_id == "r2"


def test_latest_materialization_per_partition(runs_store: MetadataStore) -> None:
    _materialize(runs_store, "daily", partition="2024-01-01", metadata={"v": 1})
    _materialize(runs_store, "daily", partition="2024-01-02", metadata={"v": 2})
    _materialize(runs_store, "daily", partition="2024-01-01", metadata={"v": 3})
    first = runs_store.get_latest_materialization("daily", "2024-01-01")
    second = runs_store.get_latest_materialization("daily", "2024-01-02")
    assert first is not None and first.metadata == {"v": 3} and first.partition == "2024-01-01"
    assert second is not None and second.metadata == {"v": 2}
    assert runs_store.get_latest_materialization("daily", "2024-01-03") is None
    any_partition = runs_store.get_latest_materialization("daily")
    assert any_partition is not None and any_partition.metadata == {"v": 3}


def test_get_materializations_newest_first_with_limit(runs_store: MetadataStore) -> None:
    for i in range(4):
        _materialize(runs_store, "a", metadata={"i": i})
    _materialize(runs_store, "other")
    assert [m.metadata["i"] for m in runs_store.get_materializations("a")] == [3, 2, 1, 0]
    assert [m.metadata["i"] for m in runs_store.get_materializations("a", limit=2)] == [3, 2]


def test_materialized_partitions_are_distinct_single_keys(runs_store: MetadataStore) -> None:
    _materialize(runs_store, "daily", partition="2024-01-02")
    _materialize(runs_store, "daily", partition="2024-01-01")
    _materialize(runs_store, "daily", partition="2024-01-02")
    _materialize(runs_store, "daily", partition_range=["2024-02-01", "2024-02-29"])
    _materialize(runs_store, "other", partition="2024-01-05")
    assert runs_store.get_materialized_partitions("daily") == ["2024-01-01", "2024-01-02"]
    assert runs_store.get_materialized_partitions("unpartitioned") == []


def test_range_materialization_is_listed_with_no_single_partition(runs_store: MetadataStore) -> None:
    _materialize(runs_store, "daily", partition_range=["2024-02-01", "2024-02-29"], metadata={"ranged": True})
    latest = runs_store.get_latest_materialization("daily")
    assert latest is not None and latest.partition is None and latest.metadata == {"ranged": True}


def test_check_evaluation_records_a_check_result(runs_store: MetadataStore) -> None:
    runs_store.store_events(
        [
            EventRecord(
                "r1",
                EventType.ASSET_CHECK_EVALUATION,
                node="prices_not_null",
                timestamp=9.0,
                data={
                    "asset_key": "prices",
                    "check_name": "not_null",
                    "passed": False,
                    "severity": "WARN",
                    "metadata": {"null_rows": 3},
                    "partition": "2024-01-01",
                },
            )
        ]
    )
    assert runs_store.get_check_results(asset_key="prices") == [
        CheckResultRecord(
            "prices", "not_null", False, "WARN", "r1", 9.0, {"null_rows": 3}, partition="2024-01-01"
        )
    ]


def test_check_results_filter_by_asset_and_run_oldest_first(runs_store: MetadataStore) -> None:
    def check(run_id: str, asset_key: str, name: str, passed: bool) -> EventRecord:
        data = {"asset_key": asset_key, "check_name": name, "passed": passed}
        return EventRecord(run_id, EventType.ASSET_CHECK_EVALUATION, data=data)

    runs_store.store_events([check("r1", "a", "c1", True), check("r1", "b", "c2", False)])
    runs_store.store_events([check("r2", "a", "c1", False)])
    by_asset = runs_store.get_check_results(asset_key="a")
    assert [(c.run_id, c.passed) for c in by_asset] == [("r1", True), ("r2", False)]
    assert [c.check_name for c in runs_store.get_check_results(run_id="r1")] == ["c1", "c2"]
    assert [c.run_id for c in runs_store.get_check_results(asset_key="a", run_id="r2")] == ["r2"]
    assert len(runs_store.get_check_results()) == 3
    assert by_asset[0].severity == "ERROR"  # default when the event names none
    assert by_asset[0].metadata == {} and by_asset[0].partition is None


# -- dynamic partitions ----------------------------------------------------------------------


def test_dynamic_partitions_keep_insertion_order(store: MetadataStore) -> None:
    store.add_dynamic_partitions("customers", ["zeta", "alpha", "mid"])
    store.add_dynamic_partitions("customers", ["beta"])
    assert store.get_dynamic_partitions("customers") == ["zeta", "alpha", "mid", "beta"]


def test_adding_dynamic_partitions_is_idempotent(store: MetadataStore) -> None:
    store.add_dynamic_partitions("c", ["a", "b", "a"])
    indices = store.get_dynamic_partition_indices("c")
    store.add_dynamic_partitions("c", ["b", "a", "c"])
    store.add_dynamic_partitions("c", [])
    assert store.get_dynamic_partitions("c") == ["a", "b", "c"]
    after = store.get_dynamic_partition_indices("c")
    assert {k: after[k] for k in indices} == indices


def test_dynamic_partition_indices_increase_in_insertion_order(store: MetadataStore) -> None:
    store.add_dynamic_partitions("c", ["x", "y"])
    store.add_dynamic_partitions("other", ["x"])
    store.add_dynamic_partitions("c", ["z"])
    indices = store.get_dynamic_partition_indices("c")
    assert list(indices) == ["x", "y", "z"]
    assert indices["x"] < indices["y"] < indices["z"]


def test_dynamic_partitions_are_separate_per_name(store: MetadataStore) -> None:
    store.add_dynamic_partitions("one", ["a", "b"])
    store.add_dynamic_partitions("two", ["b", "c"])
    assert store.get_dynamic_partitions("one") == ["a", "b"]
    assert store.get_dynamic_partitions("two") == ["b", "c"]
    assert store.get_dynamic_partitions("three") == []


def test_deleted_dynamic_partition_is_gone_and_others_keep_their_index(store: MetadataStore) -> None:
    store.add_dynamic_partitions("c", ["a", "b", "c"])
    before = store.get_dynamic_partition_indices("c")
    store.delete_dynamic_partition("c", "c")
    store.delete_dynamic_partition("c", "not-there")
    assert store.get_dynamic_partitions("c") == ["a", "b"]
    assert store.get_dynamic_partition_indices("c") == {"a": before["a"], "b": before["b"]}


def test_re_added_dynamic_partition_gets_a_new_index(store: MetadataStore) -> None:
    store.add_dynamic_partitions("c", ["a", "b"])
    old = store.get_dynamic_partition_indices("c")["b"]
    store.delete_dynamic_partition("c", "b")
    store.add_dynamic_partitions("c", ["b"])
    indices = store.get_dynamic_partition_indices("c")
    assert indices["b"] > old
    assert store.get_dynamic_partitions("c") == ["a", "b"]


def test_materializations_after_an_event_id_come_oldest_first(runs_store: MetadataStore) -> None:
    first = _materialize(runs_store, "a", t=1.0)
    second = _materialize(runs_store, "b", t=2.0)
    third = _materialize(runs_store, "a", "r2", t=3.0)
    fourth = _materialize(runs_store, "c", t=4.0)
    assert first.id is not None
    after = runs_store.get_materializations_after(first.id)
    assert [m.event_id for m in after] == [second.id, third.id, fourth.id]
    assert [m.event_id for m in runs_store.get_materializations_after(0, limit=2)] == [first.id, second.id]
    of_a_and_c = runs_store.get_materializations_after(first.id, asset_keys=["a", "c"])
    assert [(m.asset_key, m.run_id) for m in of_a_and_c] == [("a", "r2"), ("c", "r1")]
    assert runs_store.get_materializations_after(0, asset_keys=[]) == []


def test_latest_materialization_event_ids_per_asset(runs_store: MetadataStore) -> None:
    _materialize(runs_store, "a", t=1.0, partition="p1")
    newest_a = _materialize(runs_store, "a", t=2.0, partition="p2")
    newest_b = _materialize(runs_store, "b", t=3.0)
    assert runs_store.get_latest_materialization_event_ids(["a", "b", "never", "a"]) == {
        "a": newest_a.id,
        "b": newest_b.id,
    }
    assert runs_store.get_latest_materialization_event_ids([]) == {}


def test_latest_materialization_event_ids_of_many_assets(runs_store: MetadataStore) -> None:
    events = [
        EventRecord("r1", EventType.ASSET_MATERIALIZATION, node=f"a{i}", data={"asset_key": f"a{i}"})
        for i in range(1500)
    ]
    runs_store.store_events(events)
    wanted = [f"a{i}" for i in range(0, 1500, 2)] + [f"missing{i}" for i in range(800)]
    assert runs_store.get_latest_materialization_event_ids(wanted) == {
        e.data["asset_key"]: e.id for e in events[::2]
    }


def _check(run_id: str, asset_key: str, name: str, passed: bool) -> EventRecord:
    data = {"asset_key": asset_key, "check_name": name, "passed": passed}
    return EventRecord(run_id, EventType.ASSET_CHECK_EVALUATION, node=f"{asset_key}:{name}", data=data)


def test_the_latest_facts_follow_every_batch_of_events(runs_store: MetadataStore) -> None:
    # One batch with two materializations of an asset and two results of a check: the last wins.
    runs_store.store_events(
        [
            EventRecord(
                "r1", EventType.ASSET_MATERIALIZATION, node="a", timestamp=1.0, data={"asset_key": "a"}
            ),
            EventRecord(
                "r2", EventType.ASSET_MATERIALIZATION, node="a", timestamp=2.0, data={"asset_key": "a"}
            ),
            _check("r1", "a", "positive", True),
            _check("r2", "a", "positive", False),
        ]
    )
    _materialize(runs_store, "b", run_id="r1", t=3.0, partition="p1")
    reads = runs_store.asset_reads
    latest = reads.latest_materializations(["a", "b"], with_metadata=False)
    assert {k: (m.run_id, m.partition) for k, m in latest.items()} == {"a": ("r2", None), "b": ("r1", "p1")}
    assert latest["a"].event_id == runs_store.get_latest_materialization("a").event_id  # type: ignore[union-attr]
    (result,) = reads.latest_check_results([("a", "positive")]).values()
    assert (result.passed, result.run_id) == (False, "r2")
    runs_store.store_events([_check("r1", "a", "positive", True)])
    (result,) = reads.latest_check_results([("a", "positive")]).values()
    assert (result.passed, result.run_id) == (True, "r1")
    assert reads.materialized_asset_keys() == ["a", "b"]


def test_an_older_event_never_replaces_a_newer_latest_fact(runs_store: MetadataStore) -> None:
    from deras._storage.assets import _UPSERT_ASSET_LATEST
    from deras._storage.database import Database

    newer = _materialize(runs_store, "a", run_id="r2", t=2.0)
    db: Database = runs_store._db
    older = {
        "asset_key": "a",
        "event_id": (newer.id or 0) - 1,
        "run_id": "r1",
        "timestamp": 1.0,
        "partition_key": None,
    }
    db.transact(lambda tx: tx.execute(_UPSERT_ASSET_LATEST, older))  # as a slower writer would
    (latest,) = runs_store.asset_reads.latest_materializations(["a"], with_metadata=False).values()
    assert (latest.run_id, latest.event_id) == ("r2", newer.id)


def _fail(store: MetadataStore, asset_key: str, run_id: str = "r1", t: float = 0.0) -> EventRecord:
    event = EventRecord(
        run_id, EventType.ASSET_FAILED, node=asset_key, timestamp=t, data={"asset_key": asset_key}
    )
    store.store_events([event])
    return event


def test_each_assets_latest_failure_is_kept(runs_store: MetadataStore) -> None:
    _fail(runs_store, "a", "r1", t=1.0)
    newer = _fail(runs_store, "a", "r2", t=2.0)
    only = _fail(runs_store, "b", "r1", t=3.0)
    _materialize(runs_store, "c", t=4.0)
    found = runs_store.asset_reads.latest_failures(["a", "b", "c", "never"])
    assert found == {"a": (newer.id, "r2", 2.0), "b": (only.id, "r1", 3.0)}


def test_a_batch_keeps_its_newest_failure_of_an_asset(runs_store: MetadataStore) -> None:
    events = [
        EventRecord("r1", EventType.ASSET_FAILED, node="a", timestamp=t, data={"asset_key": "a"})
        for t in (1.0, 2.0)
    ]
    runs_store.store_events(events)
    assert runs_store.asset_reads.latest_failures(["a"])["a"][2] == 2.0


def test_asset_states_name_the_assets_whose_latest_failure_is_newer_than_their_materialization(
    runs_store: MetadataStore,
) -> None:
    _fail(runs_store, "never_materialized")
    _materialize(runs_store, "fixed")
    _fail(runs_store, "failed_since")
    _materialize(runs_store, "failed_since")
    _fail(runs_store, "failed_since")
    _fail(runs_store, "fixed")
    _materialize(runs_store, "fixed")
    _materialize(runs_store, "fine")
    rows = runs_store.asset_reads.asset_states()
    assert sorted(rows.failed_last) == ["failed_since", "never_materialized"]
    assert {key for key, _ in rows.materialized} == {"fixed", "failed_since", "fine"}
