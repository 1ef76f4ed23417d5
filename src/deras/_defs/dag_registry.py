"""DAGs that register themselves: ``with DAG(...):`` without ``as``, a ``@dag`` function called
without keeping its result. Airflow (>= 2.4) finds those in a DAG file; so does deras.

A DAG records itself under the module that created it; loading a module finds the DAGs held by
its variables plus those registered under its name.
"""

from __future__ import annotations

from typing import Any

# module name -> dag id -> DAG. Keyed by id, so re-importing a module replaces its DAGs.
_REGISTERED: dict[str, dict[str, Any]] = {}


def register_dag(module_name: str, dag: Any) -> None:
    _REGISTERED.setdefault(module_name, {})[dag.dag_id] = dag


def registered_dags(module_name: str) -> list[Any]:
    """The DAGs created while ``module_name`` ran (in a ``with`` block or by a ``@dag`` call)."""
    return list(_REGISTERED.get(module_name, {}).values())


def forget_module(module_name: str) -> None:
    """Before a module is imported again: the DAGs of its last import are not its DAGs now."""
    _REGISTERED.pop(module_name, None)
