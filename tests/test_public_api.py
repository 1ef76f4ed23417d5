"""The public surface: exactly the documented names, and a cheap ``import deras``."""

from __future__ import annotations

import json
import subprocess
import sys

import deras

# API.md §1-3 and §6 names that must be importable as ``dg.<name>``.
DOCUMENTED = {
    "asset",
    "multi_asset",
    "AssetSpec",
    "AssetIn",
    "AssetOut",
    "AssetKey",
    "asset_check",
    "AssetCheckResult",
    "AssetCheckSeverity",
    "AssetExecutionContext",
    "AssetCheckExecutionContext",
    "MaterializeResult",
    "MetadataValue",
    "Definitions",
    "definitions",
    "ConfigurableResource",
    "EnvVar",
    "DuckDBResource",
    "IOManager",
    "FilesystemIOManager",
    "define_asset_job",
    "AssetSelection",
    "materialize",
    "RetryPolicy",
    "Backoff",
    "DailyPartitionsDefinition",
    "HourlyPartitionsDefinition",
    "WeeklyPartitionsDefinition",
    "MonthlyPartitionsDefinition",
    "TimeWindowPartitionsDefinition",
    "StaticPartitionsDefinition",
    "MultiPartitionsDefinition",
    "DynamicPartitionsDefinition",
    "IdentityPartitionMapping",
    "TimeWindowPartitionMapping",
    "AllPartitionMapping",
    "LastPartitionMapping",
    "StaticPartitionMapping",
    "BackfillPolicy",
    "DerasInstance",
    "InProcessExecutor",
    "RunStatus",
    # §4: DAGs and tasks
    "dag",
    "task",
    "DAG",
    "PythonOperator",
    "BashOperator",
    "EmptyOperator",
    "chain",
    "TaskGroup",
    "Param",
    "SkipTask",
}


def test_every_documented_name_is_exported() -> None:
    assert set(deras.__all__) >= DOCUMENTED


def test_every_exported_name_resolves() -> None:
    for name in deras.__all__:
        assert getattr(deras, name) is not None, name


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        deras.not_a_thing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as err:
        assert "not_a_thing" in str(err)
    else:
        raise AssertionError("expected AttributeError")


def test_import_deras_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, json; import deras; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy','pydantic','click','rich','yaml','duckdb','alembic','croniter','fastapi',"
        "'jinja2','jsonschema'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_duckdb_module_exports_resource_and_io_manager() -> None:
    from deras.duckdb import DuckDBIOManager, DuckDBResource

    assert deras.DuckDBResource is DuckDBResource and deras.DuckDBIOManager is DuckDBIOManager
