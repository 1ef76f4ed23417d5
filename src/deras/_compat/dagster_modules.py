"""The Dagster modules ``--compat dagster`` serves, and the deras name behind each of their names.

``dagster`` offers every public name of deras (``dg.asset``, ``dg.Definitions``, ...) and, under
their Dagster names, the few deras renamed. Integration packages (``dagster_duckdb``) offer the
deras names that do their job. Any other ``dagster_*`` package fails its import with one line
saying it is not supported.
"""

from __future__ import annotations

from collections.abc import Mapping

# Dagster's names for things deras calls otherwise; every other name in `dagster` is deras's own.
DAGSTER_RENAMED: Mapping[str, str] = {
    "DagsterInstance": "DerasInstance",
    "DagsterRunStatus": "RunStatus",
    "DagsterEventType": "EventType",
    "DagsterError": "DerasError",
    "DagsterInvalidConfigError": "ConfigError",  # a run config that does not validate
    "DagsterTypeCheckDidNotPass": "TypeCheckError",  # a value failing a DagsterType
}

# module path -> {name in that module: deras public name}; `dagster` itself is DAGSTER_RENAMED
# plus every name in deras's public table.
DAGSTER_MODULES: Mapping[str, Mapping[str, str]] = {
    "dagster": DAGSTER_RENAMED,
    "dagster_duckdb": {"DuckDBResource": "DuckDBResource", "DuckDBIOManager": "DuckDBIOManager"},
    # deras's DuckDB IO manager stores pandas, pyarrow and polars tables alike
    "dagster_duckdb_pandas": {"DuckDBPandasIOManager": "DuckDBIOManager"},
    "dagster_duckdb_pyarrow": {"DuckDBPyArrowIOManager": "DuckDBIOManager"},
    "dagster_duckdb_polars": {"DuckDBPolarsIOManager": "DuckDBIOManager"},
}

# Modules that also offer every public name of deras under its own name.
EVERY_DERAS_NAME = frozenset({"dagster"})
