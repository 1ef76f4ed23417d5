"""Airflow's Dataset/Asset name asset keys; pendulum datetimes work where datetimes do."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import deras as dg
from deras._core.errors import DefinitionError

DAY = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("made", "key"),
    [
        (lambda: dg.Dataset("s3://bucket/orders.parquet"), ["s3", "bucket", "orders.parquet"]),
        (lambda: dg.Dataset("file:///data/orders.csv"), ["file", "data", "orders.csv"]),
        (lambda: dg.Dataset("postgres://db:5432/shop/orders"), ["postgres", "db:5432", "shop", "orders"]),
        (lambda: dg.Dataset("raw/orders"), ["raw", "orders"]),
        (lambda: dg.Asset("orders", uri="s3://bucket/orders"), ["orders"]),
        (lambda: dg.Asset(uri="s3://bucket/orders"), ["s3", "bucket", "orders"]),
    ],
)
def test_a_dataset_or_asset_names_an_asset_key(made: object, key: list[str]) -> None:
    assert made().key == dg.AssetKey(key)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "needs a non-empty URI or name"),
        ("s3://", "names no location after its scheme"),
        ("a//b", "is not a valid asset key"),
    ],
)
def test_a_dataset_without_a_usable_name_is_a_definition_error(uri: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        dg.Dataset(uri)


def test_an_asset_needs_a_name_or_a_uri() -> None:
    with pytest.raises(DefinitionError, match="needs a name or a uri"):
        dg.Asset()


def test_a_dataset_outlet_materializes_the_key_a_dataset_schedule_waits_for() -> None:
    orders = dg.Dataset("s3://bucket/orders")
    with dg.DAG("producer") as producer:
        dg.EmptyOperator(task_id="write", outlets=[orders])
    consumer = dg.DAG("consumer", schedule=[dg.Dataset("s3://bucket/orders"), dg.Asset("raw/customers")])
    assert consumer.schedule.asset_keys == (
        dg.AssetKey(["s3", "bucket", "orders"]),
        dg.AssetKey(["raw", "customers"]),
    )
    run = producer.test(logical_date=DAY)
    events = run.result.events
    materialized = [e.data["asset_key"] for e in events if e.event_type == dg.EventType.ASSET_MATERIALIZATION]
    assert materialized == ["s3/bucket/orders"]


pendulum = pytest.importorskip("pendulum")


def test_pendulum_datetimes_set_the_start_date_timezone_and_the_logical_date() -> None:
    start = pendulum.datetime(2025, 1, 1, tz="Europe/Berlin")
    with dg.DAG("berlin", schedule="@daily", start_date=start) as d:
        dg.BashOperator(task_id="t", bash_command="echo {{ ds }} {{ macros.ds_add(ds, 3) }}")
    assert d.schedule.tz.key == "Europe/Berlin"
    run = d.test(logical_date=pendulum.datetime(2025, 3, 30, tz="Europe/Berlin"))
    assert run.xcom("t") == "2025-03-30 2025-04-02"
    assert run.logical_date == pendulum.datetime(2025, 3, 30, tz="Europe/Berlin")


def test_macros_ds_add_and_ds_format_render_in_templates() -> None:
    with dg.DAG("macros_builtin") as d:
        dg.BashOperator(
            task_id="t",
            bash_command="echo {{ macros.ds_add(ds, -1) }} "
            "{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}",
        )
    assert d.test(logical_date=DAY).xcom("t") == "2024-12-31 01/01/2025"


def test_airflow_2s_older_template_names_render() -> None:
    with dg.DAG("old_names", schedule="@daily", start_date=DAY) as d:
        dg.BashOperator(
            task_id="t",
            bash_command="echo {{ execution_date | ds }} {{ next_ds }} {{ next_ds_nodash }} "
            "{{ yesterday_ds }} {{ tomorrow_ds_nodash }} {{ task_instance_key_str }} "
            "{{ next_execution_date | ds }}",
        )
    assert d.test(logical_date=datetime(2025, 1, 10, tzinfo=UTC)).xcom("t") == (
        "2025-01-10 2025-01-11 20250111 2025-01-09 20250111 old_names__t__20250110 2025-01-11"
    )
