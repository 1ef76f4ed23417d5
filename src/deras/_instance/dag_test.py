"""``DAG.test()``: one run of a DAG, on an in-memory instance unless one is given.

The DAG lives below execution and the instance; this facade is the one place it calls up to them
(lazily, from ``DAG.test``; ``tests/test_layers.py`` lists it as the allowed exception).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .._dags.dag_run import DagRun
from .._exec.dag_runs import run_dag
from .instance import DerasInstance


def dag_test(
    dag: Any,
    logical_date: datetime | None = None,
    conf: Mapping[str, Any] | None = None,
    *,
    instance: DerasInstance | None = None,
    run_type: str = "manual",
    executor: Any = None,
) -> DagRun:
    """Run ``dag`` once and return the DAG run (see ``DAG.test``)."""
    return run_dag(
        dag,
        instance or DerasInstance.ephemeral(),
        logical_date=logical_date,
        conf=conf,
        run_type=run_type,
        executor=executor,
    )
