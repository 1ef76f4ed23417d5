"""XCom values: what tasks return or push, kept per DAG run by the value store, not the database."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from .._io.atomic_file import SPARE_FOLDER, SpareFiles, write_atomically


class XComStore:
    """Values by (dag, run, task, key, map index): pickle files under ``base_dir``, or memory.

    A 100 MB return value costs the metadata database nothing: only files hold values.
    """

    _deras_exact_roundtrip = True

    def __init__(self, base_dir: str | os.PathLike[str] | None) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self._base = str(self.base_dir) if self.base_dir is not None else ""
        self._memory: dict[tuple[str, str, str, str, int], Any] = {}
        self._made: set[Path] = set()
        self._spares = SpareFiles(self.base_dir / SPARE_FOLDER) if self.base_dir is not None else None

    def _path(self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int) -> Path:
        # One folder per run and a flat file per value: no folder to create per task.
        assert self.base_dir is not None
        name = f"{task_id}@{key}" if map_index < 0 else f"{task_id}@{key}.{map_index}"
        return Path(os.path.join(self._base, dag_id, run_id, name))

    def put(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        key: str,
        map_index: int,
        value: Any,
    ) -> None:
        if self.base_dir is None:
            self._memory[(dag_id, run_id, task_id, key, map_index)] = value
            return
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)  # a pickling error is the task's
        path = self._path(dag_id, run_id, task_id, key, map_index)

        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        write_atomically(path, data, self._spares)

    def get(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        if self.base_dir is None:
            try:
                return self._memory[(dag_id, run_id, task_id, key, map_index)]
            except KeyError:
                raise KeyError(self._missing(task_id, key, map_index)) from None
        try:
            return pickle.loads(self._path(dag_id, run_id, task_id, key, map_index).read_bytes())
        except FileNotFoundError:
            raise KeyError(self._missing(task_id, key, map_index)) from None

    @staticmethod
    def _missing(task_id: str, key: str, map_index: int) -> str:
        where = f" (map index {map_index})" if map_index >= 0 else ""
        return f"no XCom '{key}' from task '{task_id}'{where} in this DAG run"
