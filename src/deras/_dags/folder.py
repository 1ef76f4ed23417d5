"""Loading a folder of DAG files: the ``DagBag`` (it lives in ``_defs``, where a DAG folder is
also a code location; see ``_defs/dag_folder.py``)."""

from __future__ import annotations

from .._defs.dag_folder import DagBag, collect_file, collect_module, dag_files, load_dag_folder

__all__ = ["DagBag", "collect_file", "collect_module", "dag_files", "load_dag_folder"]
