"""DuckDB: a resource for connections and an IO manager that stores tables.

>>> from deras.duckdb import DuckDBResource
>>> DuckDBResource(database=":memory:").database
':memory:'
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field

from ._defs.io_manager import InputContext, IOManager, OutputContext
from ._defs.resource import ConfigurableResource

_LOCK_RETRY_SECONDS = 10.0


class DuckDBResource(ConfigurableResource):
    """Connections to a DuckDB database file.

    ``with database.get_connection() as conn: conn.execute(...)``; the connection closes
    at the end of the block so other processes can open the file. If another process holds
    the file's lock, connecting retries for a few seconds.
    """

    database: str
    connection_config: dict[str, Any] = {}

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        conn = _connect(self.database, self.connection_config)
        try:
            yield conn
        finally:
            conn.close()


class DuckDBIOManager(ConfigurableResource, IOManager):
    """Stores pandas / pyarrow / polars tables as DuckDB tables ``<schema>.<asset name>``.

    The schema is the asset key's prefix (or ``schema`` when given, default ``public``).
    Partitioned assets store their partition's rows with a ``partition`` column and replace
    only that partition's rows on re-materialization.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    database: str
    schema_: str | None = Field(default=None, alias="schema")
    connection_config: dict[str, Any] = {}

    def _table(self, asset_key: Any) -> tuple[str, str]:
        schema = self.schema_ or ("_".join(asset_key.path[:-1]) or "public")
        return _ident(schema), _ident(asset_key.path[-1])

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if obj is None:
            return
        schema, table = self._table(context.asset_key)
        kind = _frame_kind(obj)
        conn = _connect(self.database, self.connection_config)
        try:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.register("__deras_obj", obj)
            qualified = f'"{schema}"."{table}"'
            if context.partition_key is None:
                conn.execute(f"CREATE OR REPLACE TABLE {qualified} AS SELECT * FROM __deras_obj")
            else:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {qualified} AS "
                    "SELECT *, CAST(NULL AS VARCHAR) AS partition FROM __deras_obj LIMIT 0"
                )
                conn.execute(f"DELETE FROM {qualified} WHERE partition = ?", [context.partition_key])
                conn.execute(f"INSERT INTO {qualified} SELECT *, ? FROM __deras_obj", [context.partition_key])
            conn.unregister("__deras_obj")
            # The frame type rides on the table, so any later process loads the same kind back.
            conn.execute(f"COMMENT ON TABLE {qualified} IS 'deras:{kind}'")
            rows = conn.execute(f"SELECT count(*) FROM {qualified}").fetchall()[0]
        finally:
            conn.close()
        context.add_output_metadata(
            {"table": f"{schema}.{table}", "row_count": rows[0] if rows else 0, "dataframe_type": kind}
        )

    def load_input(self, context: InputContext) -> Any:
        schema, table = self._table(context.asset_key)
        conn = _connect(self.database, self.connection_config)
        try:
            kind = _stored_kind(conn, schema, table) or _default_kind()
            query = f'SELECT * FROM "{schema}"."{table}"'
            rel = (
                conn.sql(query + " WHERE partition = ?", params=[context.partition_key])
                if context.partition_key is not None
                else conn.sql(query)
            )
            if kind == "polars":
                out = rel.pl()
            elif kind == "pyarrow":
                out = rel.to_arrow_table()
            else:
                out = rel.df()
            if context.partition_key is not None:
                out = (
                    out.drop(columns=["partition"])
                    if kind == "pandas"
                    else (out.drop("partition") if kind == "polars" else out.drop_columns(["partition"]))
                )
            return out
        finally:
            conn.close()


def _connect(database: str, config: dict[str, Any]) -> Any:
    import duckdb

    if database not in (":memory:", "") and not database.startswith("md:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + _LOCK_RETRY_SECONDS
    delay = 0.05
    while True:
        try:
            return duckdb.connect(database, config=dict(config))
        except duckdb.IOException as err:
            # Another process holds the file lock: wait for it instead of failing the run.
            if "lock" not in str(err).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _frame_kind(obj: Any) -> str:
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        return "pandas"
    if module == "polars":
        return "polars"
    if module == "pyarrow":
        return "pyarrow"
    raise TypeError(
        f"DuckDBIOManager stores pandas, pyarrow or polars tables, not {type(obj).__name__}. "
        "Fix: return a DataFrame/Table, or use another io_manager_key for this asset."
    )


def _stored_kind(conn: Any, schema: str, table: str) -> str | None:
    rows = conn.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, table]
    ).fetchall()
    comment = rows[0][0] if rows else None
    return comment[len("deras:") :] if isinstance(comment, str) and comment.startswith("deras:") else None


def _default_kind() -> str:
    import importlib.util

    for kind in ("pandas", "polars", "pyarrow"):
        if importlib.util.find_spec(kind) is not None:
            return kind
    raise RuntimeError("DuckDBIOManager needs pandas, polars or pyarrow installed")


def _ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)
