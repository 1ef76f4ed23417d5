"""Loading a folder of DAG files: every DAG found, and every file that failed to import.

A code location of its own (``load_definitions(dags_folder=...)``, ``-d`` on the command line)
as well as what ``deras dags`` commands read.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .._core.errors import DerasError


@dataclass(slots=True)
class DagBag:
    """The DAGs of a folder by id, and the import errors of the files that did not load.

    One broken file does not hide the others' DAGs (as in Airflow's import errors).
    """

    dags: dict[str, Any] = field(default_factory=dict)
    import_errors: dict[str, str] = field(default_factory=dict)  # file -> traceback of its code
    import_tracebacks: dict[str, str] = field(default_factory=dict)  # file -> whole traceback
    files: dict[str, str] = field(default_factory=dict)  # dag_id -> file

    def get_dag(self, dag_id: str) -> Any:
        try:
            return self.dags[dag_id]
        except KeyError:
            hint = f"; {len(self.import_errors)} file(s) failed to import" if self.import_errors else ""
            raise DerasError(f"no DAG '{dag_id}' (DAGs: {sorted(self.dags)}{hint})") from None


def is_dag(value: Any) -> bool:
    """A DAG, known by its graph (``_defs`` sits below the ``DAG`` class)."""
    return callable(getattr(value, "graph_nodes", None)) and not isinstance(value, type)


def dag_files(folder: str | Path) -> list[Path]:
    """Every ``*.py`` under ``folder``, in path order, but those under a name starting with ``_``
    or ``.`` (helpers and hidden folders, as Airflow leaves them alone)."""
    root = Path(folder)
    if not root.is_dir():
        raise DerasError(f"no such folder: {root}")
    return [
        path
        for path in sorted(root.rglob("*.py"))
        if not any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)
    ]


def load_dag_folder(folder: str | Path) -> DagBag:
    """Import every DAG file of ``folder`` (see ``dag_files``) and collect their DAGs."""
    bag = DagBag()
    for path in dag_files(folder):
        collect_file(bag, path)
    return bag


def collect_file(bag: DagBag, path: Path) -> None:
    from .loader import import_file

    _collect(bag, lambda: import_file(path), str(path))


def collect_module(bag: DagBag, name: str) -> None:
    """The DAGs of an importable module (the current directory is on the import path)."""
    from .loader import import_module

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    _collect(bag, lambda: import_module(name), name)


def _collect(bag: DagBag, load: Callable[[], ModuleType], origin: str) -> None:
    from .definitions import Definitions
    from .load_error import user_traceback
    from .loader import module_values

    try:
        module = load()
    except BaseException as err:  # SystemExit in a DAG file is still that file's error
        if isinstance(err, KeyboardInterrupt):
            raise
        bag.import_errors[origin] = user_traceback(err)  # deras's own frames say nothing here
        bag.import_tracebacks[origin] = traceback.format_exc()
        return
    values = module_values(module)  # with the DAGs created but not assigned (`with DAG(...):`)
    found = [v for v in values if is_dag(v)]
    for value in values:  # DAGs that live only inside a Definitions count too
        if isinstance(value, Definitions):
            found.extend(d for d in value.dags if is_dag(d) and d not in found)
    for dag in found:
        other = bag.files.get(dag.dag_id)
        if other is not None and other != origin:
            bag.import_errors[origin] = f"DAG id '{dag.dag_id}' is already defined in {other}"
            continue
        bag.dags[dag.dag_id] = dag
        bag.files[dag.dag_id] = origin
