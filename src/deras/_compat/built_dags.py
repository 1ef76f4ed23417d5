"""DAGs a file builds without naming them, found under ``--compat airflow`` as Airflow finds them.

Airflow registers every DAG created while a file is imported, so a TaskFlow file may end with
a bare ``my_dag()``. deras finds DAGs by their module-level names; under ``--compat airflow``
the loader also keeps the DAGs built during the import (``DAG.__init__`` notes each one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .finder import compat_modes

_built: ContextVar[list[Any] | None] = ContextVar("deras_dags_built", default=None)


def note_dag_built(dag: Any) -> None:
    """Called by every new DAG; kept only while a file is imported under ``--compat airflow``."""
    built = _built.get()
    if built is not None:
        built.append(dag)


@contextmanager
def collecting_built_dags() -> Iterator[list[Any]]:
    """The DAGs built inside the block, in order (none unless ``--compat airflow`` is on)."""
    found: list[Any] = []
    token = _built.set(found if "airflow" in compat_modes() else None)
    try:
        yield found
    finally:
        _built.reset(token)
