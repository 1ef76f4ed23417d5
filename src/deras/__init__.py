"""deras: a fast Python data orchestrator — assets and DAGs on one engine.

>>> import deras as dg
>>> @dg.asset
... def numbers():
...     return [1, 2, 3]
>>> dg.materialize([numbers]).success
True

Names are loaded on first use, so ``import deras`` costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._core.executor_builder import set_executor_builder as _set_executor_builder

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # assets and checks
    "asset": "deras._defs.asset",
    "multi_asset": "deras._defs.multi_asset",
    "AssetSpec": "deras._defs.asset",
    "AssetsDefinition": "deras._defs.asset",
    "AssetIn": "deras._defs.asset_in",
    "AssetOut": "deras._defs.asset_in",
    "AssetKey": "deras._core.keys",
    "AssetDep": "deras._defs.asset_in",
    "AssetCheckSpec": "deras._defs.check_spec",
    "multi_asset_check": "deras._defs.check_spec",
    "MultiAssetChecksDefinition": "deras._defs.check_spec",
    "AssetMaterialization": "deras._defs.results",
    "build_asset_context": "deras._exec.direct_context",
    "asset_check": "deras._defs.check",
    "load_assets_from_modules": "deras._defs.module_assets",
    "load_asset_checks_from_modules": "deras._defs.module_assets",
    "load_assets_from_current_module": "deras._defs.module_assets",
    "load_assets_from_package_module": "deras._defs.module_assets",
    "load_asset_checks_from_current_module": "deras._defs.module_assets",
    "load_asset_checks_from_package_module": "deras._defs.module_assets",
    "AssetChecksDefinition": "deras._defs.check",
    "AssetCheckResult": "deras._defs.results",
    "AssetCheckSeverity": "deras._defs.results",
    "MaterializeResult": "deras._defs.results",
    "Output": "deras._defs.results",
    "MetadataValue": "deras._core.metadata",
    "AssetExecutionContext": "deras._exec.context",
    "AssetCheckExecutionContext": "deras._exec.context",
    "TimeWindow": "deras._defs.time_partitions",
    # definitions, resources, IO
    "Definitions": "deras._defs.definitions",
    "definitions": "deras._defs.definitions",
    "ConfigurableResource": "deras._defs.resource",
    "ConfigurableIOManager": "deras._defs.resource",
    "EnvVar": "deras._defs.env_var",
    "IOManager": "deras._defs.io_manager",
    "InputContext": "deras._defs.io_manager",
    "OutputContext": "deras._defs.io_manager",
    "InMemoryIOManager": "deras._defs.io_manager",
    "FilesystemIOManager": "deras._io.filesystem",
    "DuckDBResource": "deras.duckdb",
    "DuckDBIOManager": "deras.duckdb",
    "define_asset_job": "deras._defs.job",
    "AssetSelection": "deras._graph.selection",
    "RetryPolicy": "deras._defs.retry",
    "Backoff": "deras._defs.retry",
    "Jitter": "deras._defs.retry",
    # ops, graphs, op jobs, config
    "op": "deras._defs.op",
    "OpDefinition": "deras._defs.op",
    "In": "deras._defs.op_types",
    "Out": "deras._defs.op_types",
    "Nothing": "deras._defs.op_types",
    "DagsterType": "deras._defs.op_types",
    "TypeCheck": "deras._defs.op_types",
    "graph": "deras._defs.graph",
    "GraphDefinition": "deras._defs.graph",
    "job": "deras._defs.op_job",
    "JobDefinition": "deras._defs.op_job",
    "Config": "deras._defs.config",
    "RunConfig": "deras._defs.run_config",
    "OpExecutionContext": "deras._exec.op_context",
    "build_op_context": "deras._exec.op_context",
    "TypeCheckError": "deras._core.errors",
    "RetryRequested": "deras._core.errors",
    # partitions
    "PartitionsDefinition": "deras._defs.partitions",
    "DailyPartitionsDefinition": "deras._defs.periodic_partitions",
    "HourlyPartitionsDefinition": "deras._defs.periodic_partitions",
    "WeeklyPartitionsDefinition": "deras._defs.periodic_partitions",
    "MonthlyPartitionsDefinition": "deras._defs.periodic_partitions",
    "TimeWindowPartitionsDefinition": "deras._defs.time_partitions",
    "StaticPartitionsDefinition": "deras._defs.partitions",
    "MultiPartitionsDefinition": "deras._defs.multi_partitions",
    "MultiPartitionKey": "deras._defs.multi_partitions",
    "DynamicPartitionsDefinition": "deras._defs.partitions",
    "PartitionMapping": "deras._defs.partition_mapping",
    "IdentityPartitionMapping": "deras._defs.partition_mapping",
    "TimeWindowPartitionMapping": "deras._defs.partition_mapping",
    "AllPartitionMapping": "deras._defs.partition_mapping",
    "LastPartitionMapping": "deras._defs.partition_mapping",
    "StaticPartitionMapping": "deras._defs.partition_mapping",
    "BackfillPolicy": "deras._defs.backfill_policy",
    # DAGs and tasks
    "DAG": "deras._dags.dag",
    "dag": "deras._dags.dag",
    "task": "deras._dags.taskflow",
    "XComArg": "deras._dags.taskflow",
    "BaseOperator": "deras._dags.operator",
    "chain": "deras._dags.operator",
    "cross_downstream": "deras._dags.operator",
    "task_group": "deras._dags.task_group",
    "Context": "deras._dags.context",
    "days_ago": "deras._dags.dates",
    "PythonOperator": "deras._dags.operators",
    "BranchPythonOperator": "deras._dags.operators",
    "ShortCircuitOperator": "deras._dags.operators",
    "Label": "deras._dags.edge_label",
    "Dataset": "deras._dags.datasets",
    "Asset": "deras._dags.datasets",
    "get_current_context": "deras._dags.context",
    "BashOperator": "deras._dags.operators",
    "EmptyOperator": "deras._dags.operators",
    "TaskGroup": "deras._dags.task_group",
    "DagRun": "deras._dags.dag_run",
    "TaskInstance": "deras._dags.dag_run",
    "Param": "deras._defs.params",
    "TriggerRule": "deras._dags.trigger_rules",
    "TaskInstanceState": "deras._core.task_state",
    "SkipTask": "deras._core.errors",
    "Failure": "deras._defs.failure",
    "FailTask": "deras._core.errors",
    # schedules, sensors, automation
    "ScheduleDefinition": "deras._defs.schedule",
    "schedule": "deras._defs.schedule",
    "ScheduleEvaluationContext": "deras._defs.schedule",
    "build_schedule_context": "deras._defs.schedule",
    "DefaultScheduleStatus": "deras._defs.schedule",
    "build_schedule_from_partitioned_job": "deras._defs.partitioned_schedule",
    "SensorDefinition": "deras._defs.sensor",
    "sensor": "deras._defs.sensor",
    "SensorEvaluationContext": "deras._defs.sensor",
    "build_sensor_context": "deras._defs.sensor",
    "DefaultSensorStatus": "deras._defs.sensor",
    "asset_sensor": "deras._defs.asset_sensor",
    "AssetSensorDefinition": "deras._defs.asset_sensor",
    "run_status_sensor": "deras._defs.run_status_sensor",
    "run_failure_sensor": "deras._defs.run_status_sensor",
    "RunStatusSensorDefinition": "deras._defs.run_status_sensor",
    "RunStatusSensorContext": "deras._defs.run_status_sensor",
    "RunFailureSensorContext": "deras._defs.run_status_sensor",
    "RunRequest": "deras._defs.run_request",
    "SkipReason": "deras._defs.run_request",
    "SensorResult": "deras._defs.run_request",
    "AddDynamicPartitionsRequest": "deras._defs.run_request",
    "DeleteDynamicPartitionsRequest": "deras._defs.run_request",
    "RunRetryPolicy": "deras._defs.run_retry_policy",
    "AutomationCondition": "deras._defs.automation_condition",
    # running
    "materialize": "deras._instance.materialize",
    "materialize_to_memory": "deras._instance.materialize",
    "ExecutionResult": "deras._exec.result",
    "InProcessExecutor": "deras._exec.in_process",
    "in_process_executor": "deras._defs.executor_choice",
    "multiprocess_executor": "deras._defs.executor_choice",
    "ExecutorDefinition": "deras._defs.executor_choice",
    "get_dagster_logger": "deras._exec.user_logger",
    "get_logger": "deras._exec.user_logger",
    "fs_io_manager": "deras._io.io_manager_definition",
    "mem_io_manager": "deras._io.io_manager_definition",
    "IOManagerDefinition": "deras._io.io_manager_definition",
    "DagsterInstance": "deras._instance.instance",
    "MultiprocessExecutor": "deras._exec.multiprocess",
    "DerasInstance": "deras._instance.instance",
    "Variable": "deras._instance.variables",
    "PartitionStatus": "deras._instance.partition_status",
    "RunStatus": "deras._core.status",
    "NodeStatus": "deras._core.status",
    "RunRecord": "deras._core.records",
    "EventRecord": "deras._core.events",
    "EventType": "deras._core.events",
    # errors
    "DerasError": "deras._core.errors",
    "DefinitionError": "deras._core.errors",
    "PartitionKeyError": "deras._core.errors",
    "ConfigError": "deras._core.errors",
    "RunFailedError": "deras._core.errors",
    "SelectionError": "deras._core.errors",
    "StepTimeoutError": "deras._core.errors",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - one source of truth: the export table


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deras' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _build_executor(name: str, options: dict[str, Any]) -> Any:
    """The executors ``executor="name"`` means; they live above the definitions that name them."""
    if name == "in_process":
        from ._exec.in_process import InProcessExecutor

        return InProcessExecutor(**options)
    if name == "multiprocess":
        from ._exec.multiprocess import MultiprocessExecutor

        return MultiprocessExecutor(**options)
    from .celery import CeleryExecutor

    return CeleryExecutor(**options)


_set_executor_builder(_build_executor)


if TYPE_CHECKING:  # static analysers and IDEs see real imports
    from ._core.errors import (
        ConfigError,
        DefinitionError,
        DerasError,
        FailTask,
        PartitionKeyError,
        RetryRequested,
        RunFailedError,
        SelectionError,
        SkipTask,
        StepTimeoutError,
        TypeCheckError,
    )
    from ._core.events import EventRecord, EventType
    from ._core.keys import AssetKey
    from ._core.metadata import MetadataValue
    from ._core.records import RunRecord
    from ._core.status import NodeStatus, RunStatus
    from ._core.task_state import TaskInstanceState
    from ._dags.context import Context, get_current_context
    from ._dags.dag import DAG, dag
    from ._dags.dag_run import DagRun, TaskInstance
    from ._dags.datasets import Asset, Dataset
    from ._dags.dates import days_ago
    from ._dags.edge_label import Label
    from ._dags.operator import BaseOperator, chain, cross_downstream
    from ._dags.operators import (
        BashOperator,
        BranchPythonOperator,
        EmptyOperator,
        PythonOperator,
        ShortCircuitOperator,
    )
    from ._dags.task_group import TaskGroup, task_group
    from ._dags.taskflow import XComArg, task
    from ._dags.trigger_rules import TriggerRule
    from ._defs.asset import AssetsDefinition, AssetSpec, asset
    from ._defs.asset_in import AssetDep, AssetIn, AssetOut
    from ._defs.asset_sensor import AssetSensorDefinition, asset_sensor
    from ._defs.automation_condition import AutomationCondition
    from ._defs.backfill_policy import BackfillPolicy
    from ._defs.check import AssetChecksDefinition, asset_check
    from ._defs.check_spec import AssetCheckSpec, MultiAssetChecksDefinition, multi_asset_check
    from ._defs.config import Config
    from ._defs.definitions import Definitions, definitions
    from ._defs.env_var import EnvVar
    from ._defs.executor_choice import ExecutorDefinition, in_process_executor, multiprocess_executor
    from ._defs.failure import Failure
    from ._defs.graph import GraphDefinition, graph
    from ._defs.io_manager import InMemoryIOManager, InputContext, IOManager, OutputContext
    from ._defs.job import define_asset_job
    from ._defs.module_assets import (
        load_asset_checks_from_current_module,
        load_asset_checks_from_modules,
        load_asset_checks_from_package_module,
        load_assets_from_current_module,
        load_assets_from_modules,
        load_assets_from_package_module,
    )
    from ._defs.multi_asset import multi_asset
    from ._defs.multi_partitions import MultiPartitionKey, MultiPartitionsDefinition
    from ._defs.op import OpDefinition, op
    from ._defs.op_job import JobDefinition, job
    from ._defs.op_types import DagsterType, In, Nothing, Out, TypeCheck
    from ._defs.params import Param
    from ._defs.partition_mapping import (
        AllPartitionMapping,
        IdentityPartitionMapping,
        LastPartitionMapping,
        PartitionMapping,
        StaticPartitionMapping,
        TimeWindowPartitionMapping,
    )
    from ._defs.partitioned_schedule import build_schedule_from_partitioned_job
    from ._defs.partitions import (
        DynamicPartitionsDefinition,
        PartitionsDefinition,
        StaticPartitionsDefinition,
    )
    from ._defs.periodic_partitions import (
        DailyPartitionsDefinition,
        HourlyPartitionsDefinition,
        MonthlyPartitionsDefinition,
        WeeklyPartitionsDefinition,
    )
    from ._defs.resource import ConfigurableIOManager, ConfigurableResource
    from ._defs.results import (
        AssetCheckResult,
        AssetCheckSeverity,
        AssetMaterialization,
        MaterializeResult,
        Output,
    )
    from ._defs.retry import Backoff, Jitter, RetryPolicy
    from ._defs.run_config import RunConfig
    from ._defs.run_request import (
        AddDynamicPartitionsRequest,
        DeleteDynamicPartitionsRequest,
        RunRequest,
        SensorResult,
        SkipReason,
    )
    from ._defs.run_retry_policy import RunRetryPolicy
    from ._defs.run_status_sensor import (
        RunFailureSensorContext,
        RunStatusSensorContext,
        RunStatusSensorDefinition,
        run_failure_sensor,
        run_status_sensor,
    )
    from ._defs.schedule import (
        DefaultScheduleStatus,
        ScheduleDefinition,
        ScheduleEvaluationContext,
        build_schedule_context,
        schedule,
    )
    from ._defs.sensor import (
        DefaultSensorStatus,
        SensorDefinition,
        SensorEvaluationContext,
        build_sensor_context,
        sensor,
    )
    from ._defs.time_partitions import TimeWindow, TimeWindowPartitionsDefinition
    from ._exec.context import AssetCheckExecutionContext, AssetExecutionContext
    from ._exec.direct_context import build_asset_context
    from ._exec.in_process import InProcessExecutor
    from ._exec.multiprocess import MultiprocessExecutor
    from ._exec.op_context import OpExecutionContext, build_op_context
    from ._exec.result import ExecutionResult
    from ._exec.user_logger import get_dagster_logger, get_logger
    from ._graph.selection import AssetSelection
    from ._instance.instance import DagsterInstance, DerasInstance
    from ._instance.materialize import materialize, materialize_to_memory
    from ._instance.partition_status import PartitionStatus
    from ._instance.variables import Variable
    from ._io.filesystem import FilesystemIOManager
    from ._io.io_manager_definition import IOManagerDefinition, fs_io_manager, mem_io_manager
    from .duckdb import DuckDBIOManager, DuckDBResource
