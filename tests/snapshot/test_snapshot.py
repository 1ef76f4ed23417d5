"""``deras._snapshot``: plain data of a code location, a JSON round trip, a stable version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import deras as dg
from deras._defs.loader import load_definitions
from deras._snapshot import (
    AssetSnap,
    CodeSnapshot,
    LoadErrorSnap,
    LocationRef,
    snapshot_from_json,
    snapshot_of,
)

HERE = Path(__file__).parent
RICH = HERE / "rich_definitions.py"
SHARE_PRICES = HERE.parents[1] / "examples" / "share_prices" / "definitions.py"


@pytest.fixture(scope="module")
def rich() -> CodeSnapshot:
    code = load_definitions(file=RICH)
    return snapshot_of(code.definitions, LocationRef(**code.location))


def test_snapshot_survives_a_json_round_trip(rich: CodeSnapshot) -> None:
    text = json.dumps(rich.to_json())
    assert CodeSnapshot.from_json(json.loads(text)) == rich


def test_location_ref_has_the_shape_of_a_runs_code_location() -> None:
    code = load_definitions(file=SHARE_PRICES)
    snap = snapshot_of(code.definitions, LocationRef(**code.location))
    assert snap.location.to_json() == code.location


def test_assets_carry_group_deps_checks_and_external_sources(rich: CodeSnapshot) -> None:
    prices, summary, vendor, cleaned = (rich.asset(k) for k in ("prices", "summary", "vendor/raw", "cleaned"))
    assert prices is not None and summary is not None and vendor is not None and cleaned is not None
    assert (prices.group, prices.kinds, prices.owners, prices.code_version) == (
        "raw",
        ["csv"],
        ["ana@example.com"],
        "3",
    )
    assert prices.has_checks and prices.check_names == ["positive"]
    assert prices.metadata == {"rows": "10", "source": "vendor"}
    assert summary.deps == ["prices"] and summary.automation == "AutomationCondition.eager()"
    assert vendor.is_source and cleaned.deps == ["vendor/raw"]
    assert rich.asset("etl_rows") is not None  # a DAG task's outlet is in the lineage too


def test_partitions_are_summarised_without_listing_keys(rich: CodeSnapshot) -> None:
    daily = rich.asset("prices").partitions  # type: ignore[union-attr]
    assert daily is not None
    assert (daily.kind, daily.count, daily.first_key, daily.last_key, daily.cron, daily.keys) == (
        "time",
        60,
        "2024-01-01",
        "2024-02-29",
        "0 0 * * *",
        None,
    )
    static = rich.asset("regional").partitions  # type: ignore[union-attr]
    assert static is not None and (static.kind, static.count, static.keys) == ("static", 2, ["eu", "us"])


def test_a_million_hourly_partitions_are_counted_not_listed() -> None:
    hourly = dg.HourlyPartitionsDefinition(start_date="1900-01-01-00:00", end_date="2020-01-01-00:00")

    @dg.asset(partitions_def=hourly)
    def big() -> int:
        return 1

    snap = snapshot_of(dg.Definitions(assets=[big]), LocationRef(module="m"))
    part = snap.assets[0].partitions
    assert part is not None and part.count > 1_000_000 and part.keys is None
    assert len(json.dumps(snap.to_json())) < 5_000


def test_multi_and_dynamic_partitions() -> None:
    multi = dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-11"),
            "region": dg.StaticPartitionsDefinition(["eu", "us", "apac"]),
        }
    )
    files = dg.DynamicPartitionsDefinition(name="files")

    @dg.asset(partitions_def=multi)
    def m() -> int:
        return 1

    @dg.asset(partitions_def=files)
    def d() -> int:
        return 1

    snap = snapshot_of(dg.Definitions(assets=[m, d]), LocationRef(module="x"))
    pm, pd = snap.assets[0].partitions, snap.assets[1].partitions
    assert pm is not None and pm.kind == "multi" and pm.count == 30
    assert [(x.name, x.kind, x.count) for x in pm.dimensions] == [
        ("date", "time", 10),
        ("region", "static", 3),
    ]
    assert pd is not None and (pd.kind, pd.name, pd.count) == ("dynamic", "files", 0)
    assert CodeSnapshot.from_json(json.loads(json.dumps(snap.to_json()))) == snap


def test_dynamic_partitions_are_counted_from_the_store_when_given(make_instance) -> None:  # type: ignore[no-untyped-def]
    files = dg.DynamicPartitionsDefinition(name="files")

    @dg.asset(partitions_def=files)
    def d() -> int:
        return 1

    instance = make_instance()
    instance.add_dynamic_partitions("files", ["a.csv", "b.csv"])
    snap = snapshot_of(dg.Definitions(assets=[d]), LocationRef(module="x"), dynamic_partitions_store=instance)
    part = snap.assets[0].partitions
    assert part is not None and (part.count, part.first_key, part.last_key) == (2, "a.csv", "b.csv")


def test_jobs_dags_schedules_and_sensors(rich: CodeSnapshot) -> None:
    job = rich.job("prices_job")
    assert job is not None and job.selection == ["prices", "summary"] and job.partitioned
    etl = rich.dag("etl")
    assert etl is not None
    assert [(t.task_id, t.operator, t.group, t.retries) for t in etl.tasks] == [
        ("extract", "EmptyOperator", None, 0),
        ("load.rows", "EmptyOperator", "load", 2),
    ]
    assert etl.edges == [("extract", "load.rows")]
    assert etl.edge_labels == {"extract": {"load.rows": "rows to load"}}
    assert (etl.schedule, etl.start_date, etl.end_date, etl.tags, etl.params) == (
        "@daily",
        "2024-01-01T00:00:00+00:00",
        "2024-02-01T00:00:00+00:00",
        ["team-a"],
        {"limit": 5},
    )
    [nightly] = rich.schedules
    assert (nightly.cron, nightly.timezone, nightly.target, nightly.default_status) == (
        "0 2 * * *",
        "Europe/Berlin",
        "prices_job",
        "stopped",
    )
    sensors = {s.name: s for s in rich.sensors}
    assert (sensors["new_files"].kind, sensors["new_files"].minimum_interval) == ("sensor", 60.0)
    assert sensors["new_files"].description == "Watch the vendor's folder."
    assert (sensors["on_prices"].kind, sensors["on_prices"].asset_key, sensors["on_prices"].target) == (
        "asset_sensor",
        "prices",
        "etl",
    )
    assert sensors["automation"].kind == "automation"


def test_version_depends_on_nodes_and_edges_only() -> None:
    a = [AssetSnap("a"), AssetSnap("b", deps=["a"])]
    first = snapshot_of(_defs_ab(), LocationRef(file="one.py"))
    again = snapshot_of(_defs_ab(description="changed"), LocationRef(file="two.py"))
    assert first.version == again.version  # a description does not move the layout
    assert first.version != snapshot_of(_defs_ab(edge=False), LocationRef(file="one.py")).version
    assert [x.key for x in a] == ["a", "b"]


def _defs_ab(description: str | None = None, edge: bool = True) -> dg.Definitions:
    @dg.asset(description=description)
    def a() -> int:
        return 1

    if edge:

        @dg.asset
        def b(a: int) -> int:
            return a
    else:

        @dg.asset
        def b() -> int:  # type: ignore[misc]
            return 1

    return dg.Definitions(assets=[a, b])


def test_from_json_ignores_unknown_keys_and_fills_missing_ones() -> None:
    snap = CodeSnapshot.from_json(
        {
            "location": {"module": "m"},
            "version": "v",
            "future_field": 1,
            "assets": [{"key": "a", "later": True}],
        }
    )
    assert snap.assets == [AssetSnap("a")] and snap.location == LocationRef(module="m")


def test_load_error_reads_back_from_a_code_servers_answer() -> None:
    err = LoadErrorSnap(LocationRef(file="x.py"), "SyntaxError: bad", "Traceback ...", "x.py", 3)
    assert snapshot_from_json({"error": err.to_json()}) == err
