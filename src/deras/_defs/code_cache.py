"""The code locations a long-lived process has loaded: a run worker's, a Celery worker's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._core.errors import DerasError


class CodeCache:
    """Loaded code locations of a long-lived worker, reloaded when their file changes."""

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[float, Any]] = {}

    def remember(self, location: dict[str, str], definitions: Any) -> None:
        """``definitions`` are what ``location`` holds now (loaded by the caller)."""
        self._loaded[repr(sorted(location.items()))] = (_stamp(location), definitions)

    def definitions(self, location: dict[str, str]) -> Any:
        from .loader import load_definitions  # the definitions' modules load when first needed

        key = repr(sorted(location.items()))
        stamp = _stamp(location)
        cached = self._loaded.get(key)
        if cached is None or cached[0] != stamp:
            loaded = load_definitions(**location).definitions
            self._loaded[key] = (stamp, loaded)
            return loaded
        return cached[1]


def _stamp(location: dict[str, str]) -> float:
    file, folder = location.get("file"), location.get("dags_folder")
    try:
        if folder:  # a file added, changed or fixed in the folder
            from .dag_folder import dag_files

            return max((p.stat().st_mtime for p in dag_files(folder)), default=0.0)
        return Path(file).stat().st_mtime if file else 0.0
    except (OSError, DerasError):
        return 0.0
