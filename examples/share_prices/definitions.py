"""The seed's share-price pipeline: a vendor CSV, a blocking check, a DuckDB table.

The three snippets below are the seed notes' code, unchanged but for `import deras as dg`.
Run it:  deras materialize -f examples/share_prices/definitions.py
Set SHARE_PRICES_CSV to another file (e.g. data/share_prices_with_zero.csv) to see the
blocking check stop `duckdb_table`.
"""

import csv
import os
from pathlib import Path

import deras as dg
from deras.duckdb import DuckDBResource

HERE = Path(__file__).parent


@dg.asset(group_name="prices", description="CSV dropped by the vendor")
def import_file(context: dg.AssetExecutionContext) -> str:
    path = Path(os.environ.get("SHARE_PRICES_CSV", HERE / "data" / "share_prices.csv"))
    if not path.is_absolute():
        path = HERE / path
    context.log.info("vendor file: %s", path)
    return str(path)


@dg.asset()
def duckdb_table(
    context: dg.AssetExecutionContext,
    database: DuckDBResource,
    import_file,
):
    table_name = "raw_data"
    with database.get_connection() as conn:
        conn.execute(f"""
            CREATE TABLE IF NOT EXISTS {table_name} (
                date DATE,
                share_price FLOAT,
                amount FLOAT,
                spend FLOAT,
                shift FLOAT,
                spread FLOAT
            )
        """)
        conn.execute(f"COPY {table_name} FROM '{import_file}';")


@dg.asset_check(
    asset=import_file,
    blocking=True,
    description="Ensure file contains no zero value shares",
)
def not_empty(
    context: dg.AssetCheckExecutionContext,
    import_file,
) -> dg.AssetCheckResult:
    with open(import_file, mode="r", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        data = (row for row in reader)

        for row in data:
            if float(row["share_price"]) <= 0:
                return dg.AssetCheckResult(
                    passed=False,
                    metadata={"'share' is below 0": row},
                )

    return dg.AssetCheckResult(
        passed=True,
    )


def get_resources():
    # The table is generated: it lives with deras's own files in $DERAS_HOME (./.deras by
    # default), not next to this file, so the example folder stays as it was checked out.
    home = Path(os.environ.get("DERAS_HOME", ".deras")).absolute()
    database = os.environ.get("SHARE_PRICES_DUCKDB", str(home / "prices.duckdb"))
    return {"database": DuckDBResource(database=database)}


@dg.definitions
def my_definitions():
    return dg.Definitions(
        assets=[import_file, duckdb_table],
        resources=get_resources()
    )
