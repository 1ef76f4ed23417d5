"""Which DAG (and task group) operators created right now belong to."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

current_dag: ContextVar[Any] = ContextVar("deras_current_dag", default=None)
current_group: ContextVar[Any] = ContextVar("deras_current_task_group", default=None)
