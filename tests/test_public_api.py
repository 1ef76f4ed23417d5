"""The public surface: exactly the documented names, and a cheap ``import deras``."""

from __future__ import annotations

import json
import subprocess
import sys

import deras

# API.md §1-6 names that must be importable as ``dg.<name>``.
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
    "MultiprocessExecutor",
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
    # §5: schedules and sensors
    "ScheduleDefinition",
    "schedule",
    "DefaultScheduleStatus",
    "build_schedule_from_partitioned_job",
    "sensor",
    "SensorEvaluationContext",
    "DefaultSensorStatus",
    "RunRequest",
    "SkipReason",
    "asset_sensor",
    "run_status_sensor",
    "run_failure_sensor",
    "build_schedule_context",
    "build_sensor_context",
    # §6: run retries and declarative automation
    "RunRetryPolicy",
    "AutomationCondition",
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


def test_schedule_and_sensor_names_load_no_cron_parser() -> None:
    """Touching the schedule and sensor names is cheap: croniter loads when a cron is parsed."""
    code = (
        "import sys, deras as dg; "
        "[getattr(dg, n) for n in ('ScheduleDefinition', 'sensor', 'asset_sensor', 'run_status_sensor', "
        "'RunRequest', 'AutomationCondition', 'RunRetryPolicy', 'build_schedule_from_partitioned_job')]; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('croniter', 'sqlalchemy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
