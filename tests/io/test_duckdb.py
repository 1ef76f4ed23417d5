"""DuckDB: the resource's connections and the IO manager's tables, on real DuckDB files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import deras as dg
from deras.duckdb import DuckDBIOManager, DuckDBResource


def test_resource_connection_writes_a_real_file(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "prices.duckdb"

    @dg.asset
    def table(database: DuckDBResource) -> None:
        with database.get_connection() as conn:
            conn.execute("CREATE TABLE t AS SELECT 42 AS answer")

    assert dg.materialize([table], resources={"database": DuckDBResource(database=str(db))}).success
    import duckdb

    with duckdb.connect(str(db)) as conn:
        assert conn.execute("SELECT answer FROM t").fetchone() == (42,)


def test_io_manager_round_trips_pandas_between_assets(tmp_path: Path) -> None:
    io = DuckDBIOManager(database=str(tmp_path / "wh.duckdb"))

    @dg.asset(key_prefix="sales", io_manager_key="warehouse")
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"id": [1, 2, 3], "amount": [10.0, 20.0, 30.5]})

    @dg.asset(ins={"orders": dg.AssetIn(key="sales/orders")})
    def total(orders: pd.DataFrame) -> float:
        assert isinstance(orders, pd.DataFrame)
        return float(orders["amount"].sum())

    instance = dg.DerasInstance.ephemeral()
    result = dg.materialize([orders, total], resources={"warehouse": io}, instance=instance)
    assert result.asset_value("total") == 60.5
    mat = instance.get_latest_materialization("sales/orders")
    assert mat is not None and mat.metadata["table"] == "sales.orders" and mat.metadata["row_count"] == 3
    # a later run, in which nothing is cached, reads the table back from the file
    again = dg.materialize([orders, total], resources={"warehouse": io}, selection="total")
    assert again.asset_value("total") == 60.5


def test_io_manager_keeps_pyarrow_tables_as_pyarrow(tmp_path: Path) -> None:
    io = DuckDBIOManager(database=str(tmp_path / "wh.duckdb"), schema="analytics")

    @dg.asset(io_manager_key="warehouse")
    def events() -> pa.Table:
        return pa.table({"kind": ["a", "b"]})

    @dg.asset
    def kinds(events: pa.Table) -> list[str]:
        assert isinstance(events, pa.Table)
        return events.column("kind").to_pylist()

    dg.materialize([events], resources={"warehouse": io})
    assert dg.materialize([events, kinds], resources={"warehouse": io}, selection="kinds").asset_value(
        "kinds"
    ) == ["a", "b"]


def test_partitioned_asset_replaces_only_its_partition(tmp_path: Path) -> None:
    io = DuckDBIOManager(database=str(tmp_path / "wh.duckdb"))
    days = dg.StaticPartitionsDefinition(["mon", "tue"])

    @dg.asset(partitions_def=days, io_manager_key="warehouse")
    def visits(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.DataFrame({"n": [len(context.partition_key)] * 2})

    for day in ("mon", "tue", "mon"):
        dg.materialize([visits], partition_key=day, resources={"warehouse": io})
    import duckdb

    with duckdb.connect(str(tmp_path / "wh.duckdb")) as conn:
        rows = conn.execute("SELECT partition, count(*) FROM public.visits GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [("mon", 2), ("tue", 2)]


def test_io_manager_refuses_non_tables_with_a_fix(tmp_path: Path) -> None:
    io = DuckDBIOManager(database=str(tmp_path / "wh.duckdb"))

    @dg.asset(io_manager_key="warehouse")
    def not_a_table() -> dict[str, int]:
        return {"a": 1}

    result = dg.materialize([not_a_table], resources={"warehouse": io}, raise_on_error=False)
    assert "stores pandas, pyarrow or polars tables" in result.failure_events()[0].data["error"]


def test_locked_database_file_is_waited_for(tmp_path: Path) -> None:
    """A second process holding the file's lock makes the connection retry, then succeed."""
    import subprocess
    import sys

    db = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); c.execute('CREATE TABLE x(a INT)'); "
            "print('ready', flush=True); time.sleep(1.0); c.close()",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    resource = DuckDBResource(database=str(db))
    with resource.get_connection() as conn:
        assert conn.execute("SELECT count(*) FROM x").fetchone() == (0,)
    holder.wait(timeout=10)


@pytest.mark.parametrize("config", [{"threads": 1}])
def test_connection_config_is_applied(tmp_path: Path, config: dict[str, int]) -> None:
    resource = DuckDBResource(database=str(tmp_path / "c.duckdb"), connection_config=config)
    with resource.get_connection() as conn:
        assert conn.execute("SELECT current_setting('threads')").fetchone() == (1,)
