"""Materializing partitions: one key, a single-run range, mappings between partitioned assets."""

from __future__ import annotations

import pytest

import deras as dg

DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-02-01")


@dg.asset(partitions_def=DAILY)
def daily_sales(context: dg.AssetExecutionContext) -> int:
    return int(context.partition_key[-2:])


@dg.asset(
    partitions_def=DAILY,
    ins={
        "prev": dg.AssetIn(
            key="daily_sales", partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        )
    },
)
def day_over_day(context: dg.AssetExecutionContext, daily_sales: int, prev: object) -> object:
    return (daily_sales, prev)


@dg.asset
def january_total(daily_sales: dict[str, int]) -> int:
    return sum(daily_sales.values())


def test_partition_key_reaches_context_and_storage() -> None:
    instance = dg.DerasInstance.ephemeral()
    result = dg.materialize([daily_sales], partition_key="2025-01-07", instance=instance)
    assert result.asset_value("daily_sales") == 7
    mat = instance.get_latest_materialization("daily_sales", partition="2025-01-07")
    assert mat is not None and mat.partition == "2025-01-07"
    run = instance.get_run(result.run_id)
    assert run is not None and run.partition_key == "2025-01-07"


def test_unknown_partition_key_error_names_it() -> None:
    with pytest.raises(dg.PartitionKeyError, match="2025-13-01"):
        dg.materialize([daily_sales], partition_key="2025-13-01")
    with pytest.raises(dg.PartitionKeyError, match="2024-12-31"):
        dg.materialize([daily_sales], partition_key="2024-12-31")


def test_partitioned_selection_without_key_says_what_to_pass() -> None:
    with pytest.raises(dg.DerasError, match="partition_key="):
        dg.materialize([daily_sales])


def test_previous_partition_mapping_loads_yesterday() -> None:
    instance = dg.DerasInstance.ephemeral()
    for day in ("2025-01-01", "2025-01-02"):
        dg.materialize([daily_sales], partition_key=day, instance=instance)
    result = dg.materialize(
        [daily_sales, day_over_day], selection="day_over_day", partition_key="2025-01-02", instance=instance
    )
    assert result.asset_value("day_over_day") == (2, 1)
    first = dg.materialize(
        [daily_sales, day_over_day], selection="day_over_day", partition_key="2025-01-01", instance=instance
    )
    assert first.asset_value("day_over_day") == (1, None)  # no partition before the first one


def test_unpartitioned_downstream_gets_every_partition_as_a_dict() -> None:
    instance = dg.DerasInstance.ephemeral()
    for day in ("2025-01-01", "2025-01-02", "2025-01-03"):
        dg.materialize([daily_sales], partition_key=day, instance=instance)
    with pytest.raises(dg.RunFailedError, match="2025-01-04"):
        # All-partition mapping: 31 partitions expected, only 3 stored: the error names a missing one
        dg.materialize([daily_sales, january_total], selection="january_total", instance=instance)


def test_single_run_range_materializes_whole_range_in_one_run() -> None:
    seen: list[tuple[str, str]] = []

    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def ranged(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        window = context.partition_time_window
        seen.append((window.start.date().isoformat(), window.end.date().isoformat()))
        assert context.partition_key is None and len(context.partition_keys) == 10
        return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})

    instance = dg.DerasInstance.ephemeral()
    keys = DAILY.get_partition_keys_in_range("2025-01-01", "2025-01-10")
    result = dg.materialize([ranged], partition_keys=keys, instance=instance)
    assert result.success and seen == [("2025-01-01", "2025-01-11")]
    status = instance.get_partition_status("ranged", DAILY)
    assert len(status.materialized) == 10 and status.missing == 21
    assert status.materialized.key_ranges == [("2025-01-01", "2025-01-10")]
    assert "2025-01-05" in status.materialized and "2025-01-11" not in status.materialized


def test_partition_status_tracks_failures_and_recoveries() -> None:
    fail = {"on": True}

    @dg.asset(partitions_def=DAILY)
    def fragile(context: dg.AssetExecutionContext) -> int:
        if fail["on"] and context.partition_key == "2025-01-03":
            raise RuntimeError("bad day")
        return 1

    instance = dg.DerasInstance.ephemeral()
    for day in ("2025-01-01", "2025-01-02", "2025-01-03"):
        dg.materialize([fragile], partition_key=day, instance=instance, raise_on_error=False)
    status = instance.get_partition_status("fragile", DAILY)
    assert (len(status.materialized), len(status.failed), len(status.in_progress)) == (2, 1, 0)
    assert list(status.failed) == ["2025-01-03"]
    fail["on"] = False
    dg.materialize([fragile], partition_key="2025-01-03", instance=instance)
    status = instance.get_partition_status("fragile", DAILY)
    assert (len(status.materialized), len(status.failed)) == (3, 0)
    assert status.counts()["missing"] == 28


def test_static_and_multi_partitions_run() -> None:
    regions = dg.StaticPartitionsDefinition(["eu", "us"])
    multi = dg.MultiPartitionsDefinition({"date": DAILY, "region": regions})

    @dg.asset(partitions_def=multi)
    def sales(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    key = multi.get_partition_keys()[3]
    result = dg.materialize([sales], partition_key=key)
    assert result.asset_value("sales") == key


REGIONS = dg.StaticPartitionsDefinition(["eu", "us"])
BY_DAY_REGION = dg.MultiPartitionsDefinition({"date": DAILY, "region": REGIONS})


class KeyRecordingIO(dg.IOManager):
    """Keeps values in memory and the partition keys its contexts carried."""

    def __init__(self) -> None:
        self.values: dict[object, object] = {}
        self.keys: list[object] = []

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        self.keys.append(context.partition_key)
        self.values[context.partition_key] = obj

    def load_input(self, context: dg.InputContext) -> object:
        self.keys.append(context.partition_key)
        return self.values[context.partition_key]


@dg.asset(partitions_def=BY_DAY_REGION, io_manager_key="recording")
def regional(context: dg.AssetExecutionContext) -> str:
    return context.partition_key.keys_by_dimension["region"]


@dg.asset(partitions_def=BY_DAY_REGION, io_manager_key="recording")
def regional_upper(context: dg.AssetExecutionContext, regional: str) -> str:
    return regional.upper() + context.partition_key.keys_by_dimension["date"]


def test_a_multi_partition_key_given_as_text_reaches_user_code_as_a_multi_partition_key() -> None:
    io = KeyRecordingIO()
    result = dg.materialize(
        [regional, regional_upper], partition_key="2025-01-02|us", resources={"recording": io}
    )
    assert len(io.keys) == 3  # two outputs, one input
    assert all(isinstance(k, dg.MultiPartitionKey) and k == "2025-01-02|us" for k in io.keys)
    assert result.asset_value("regional_upper") == "US2025-01-02"


def test_re_executing_a_multi_partition_run_hands_user_code_a_multi_partition_key() -> None:
    attempts: list[object] = []

    @dg.asset(partitions_def=BY_DAY_REGION)
    def flaky(context: dg.AssetExecutionContext) -> str:
        attempts.append(context.partition_key)
        if len(attempts) == 1:
            raise ValueError("first time fails")
        return context.partition_key.keys_by_dimension["date"]

    instance = dg.DerasInstance.ephemeral()
    defs = dg.Definitions(assets=[flaky])
    first = dg.materialize([flaky], partition_key="2025-01-03|eu", instance=instance, raise_on_error=False)
    assert not first.success
    again = instance.reexecute(first.run_id, definitions=defs)
    assert again.success and again.asset_value("flaky") == "2025-01-03"
    assert all(isinstance(k, dg.MultiPartitionKey) for k in attempts)


def test_dynamic_partitions_come_from_the_instance() -> None:
    files = dg.DynamicPartitionsDefinition(name="files")

    @dg.asset(partitions_def=files)
    def parsed(context: dg.AssetExecutionContext) -> str:
        return context.partition_key.upper()

    instance = dg.DerasInstance.ephemeral()
    with pytest.raises(dg.PartitionKeyError, match=r"a\.csv"):
        dg.materialize([parsed], partition_key="a.csv", instance=instance)
    instance.add_dynamic_partitions("files", ["a.csv", "b.csv"])
    assert dg.materialize([parsed], partition_key="a.csv", instance=instance).asset_value("parsed") == "A.CSV"
    status = instance.get_partition_status("parsed", files)
    assert list(status.materialized) == ["a.csv"] and status.missing == 1


def test_mixed_partitions_definitions_in_one_run_are_refused() -> None:
    monthly = dg.MonthlyPartitionsDefinition(start_date="2025-01-01")

    @dg.asset(partitions_def=monthly)
    def per_month() -> int:
        return 1

    with pytest.raises(dg.DerasError, match="different partitions definitions"):
        dg.materialize([daily_sales, per_month], partition_key="2025-01-01")


def test_mismatched_partition_mapping_is_a_definition_error() -> None:
    regions = dg.StaticPartitionsDefinition(["eu", "us"])

    @dg.asset(partitions_def=regions)
    def by_region() -> int:
        return 1

    @dg.asset(
        partitions_def=DAILY, ins={"by_region": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping())}
    )
    def by_day(by_region: int) -> int:
        return by_region

    with pytest.raises(dg.DefinitionError, match="partition mapping from 'by_region' does not fit"):
        dg.Definitions(assets=[by_region, by_day])


def test_spanning_mapping_gives_a_dict_on_every_partition_even_the_first() -> None:
    seen: dict[str, object] = {}

    @dg.asset(
        partitions_def=DAILY,
        ins={
            "window": dg.AssetIn(
                key="daily_sales", partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1)
            )
        },
    )
    def two_days(context: dg.AssetExecutionContext, window: dict[str, int]) -> int:
        seen[context.partition_key] = window
        return sum(window.values())

    instance = dg.DerasInstance.ephemeral()
    for day in ("2025-01-01", "2025-01-02"):
        dg.materialize([daily_sales], partition_key=day, instance=instance)
        dg.materialize([daily_sales, two_days], selection="two_days", partition_key=day, instance=instance)
    assert seen == {"2025-01-01": {"2025-01-01": 1}, "2025-01-02": {"2025-01-01": 1, "2025-01-02": 2}}
