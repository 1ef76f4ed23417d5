"""The Airflow modules ``--compat airflow`` serves, and the deras name behind each of their names.

Airflow 2 paths (``airflow.operators.bash``) and Airflow 3 paths (``airflow.sdk``,
``airflow.providers.standard.operators.*``, where core operators moved) both load. A name here
that deras does not have (yet) fails its import with one line saying so; a module not here,
such as a provider package, fails the same way.
"""

from __future__ import annotations

from collections.abc import Mapping


def _same(*names: str) -> dict[str, str]:
    return {name: name for name in names}


_PYTHON_OPERATORS = _same(
    "PythonOperator", "BranchPythonOperator", "ShortCircuitOperator", "get_current_context"
)
_EXCEPTIONS = {
    "AirflowSkipException": "SkipTask",  # the task ends skipped, not failed
    "AirflowException": "DerasError",  # what `except AirflowException` catches: the orchestrator's errors
    "AirflowFailException": "FailTask",  # fails the task without its retries
}

# module path -> {name in that module: deras public name}
AIRFLOW_MODULES: Mapping[str, Mapping[str, str]] = {
    "airflow": _same("DAG", "Dataset", "XComArg"),
    "airflow.models": _same("DAG", "BaseOperator", "Param", "DagRun", "TaskInstance", "Variable", "XComArg"),
    "airflow.models.dag": _same("DAG"),
    "airflow.models.baseoperator": _same("BaseOperator", "chain", "cross_downstream"),
    "airflow.models.param": _same("Param"),
    "airflow.models.dagrun": _same("DagRun"),
    "airflow.models.taskinstance": _same("TaskInstance"),
    "airflow.models.variable": _same("Variable"),
    "airflow.models.xcom_arg": _same("XComArg"),
    "airflow.decorators": _same("dag", "task", "task_group"),
    "airflow.operators.python": _PYTHON_OPERATORS,
    "airflow.operators.bash": _same("BashOperator"),
    "airflow.operators.empty": _same("EmptyOperator"),
    "airflow.operators.dummy": {"DummyOperator": "EmptyOperator", "EmptyOperator": "EmptyOperator"},
    "airflow.providers.standard.operators.python": _PYTHON_OPERATORS,
    "airflow.providers.standard.operators.bash": _same("BashOperator"),
    "airflow.providers.standard.operators.empty": _same("EmptyOperator"),
    "airflow.utils.trigger_rule": _same("TriggerRule"),
    "airflow.utils.task_group": _same("TaskGroup"),
    "airflow.utils.edgemodifier": _same("Label"),
    "airflow.utils.dates": _same("days_ago"),
    "airflow.utils.state": _same("TaskInstanceState"),
    "airflow.utils.context": _same("Context", "get_current_context"),
    "airflow.exceptions": _EXCEPTIONS,
    "airflow.datasets": _same("Dataset"),
    "airflow.sdk": {
        **_same("DAG", "dag", "task", "task_group", "TaskGroup", "BaseOperator", "chain", "cross_downstream"),
        **_same("Param", "Variable", "Label", "XComArg", "TriggerRule", "get_current_context", "Context"),
        "Asset": "Asset",  # Airflow 3's Dataset, keyed by its name
    },
    "airflow.sdk.definitions.dag": _same("DAG", "dag"),
    "airflow.sdk.definitions.asset": _same("Asset"),
    "airflow.sdk.definitions.taskgroup": _same("TaskGroup"),
    "airflow.sdk.definitions.param": _same("Param"),
    "airflow.sdk.definitions.edges": _same("Label"),
    "airflow.sdk.bases.operator": _same("BaseOperator", "chain", "cross_downstream"),
    "airflow.sdk.exceptions": _EXCEPTIONS,
}
