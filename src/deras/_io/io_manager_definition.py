"""``fs_io_manager`` and ``mem_io_manager``: IO managers named the way Dagster code names them.

Each is built once per run from its config (a new in-memory store per run, as in Dagster).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from typing import Any

from .._core.errors import ConfigError
from .._defs.io_manager import InMemoryIOManager
from .filesystem import FilesystemIOManager
from .pickle_files import PickleFileIOManager


class IOManagerDefinition:
    """An IO manager built per run from ``config`` (``resources={"io_manager": fs_io_manager}``).

    >>> fs_io_manager.configured({"base_dir": "/tmp/out"}).config
    {'base_dir': '/tmp/out'}
    """

    def __init__(
        self,
        name: str,
        build: Callable[[dict[str, Any], Any], Any],
        fields: frozenset[str],
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self._build = build
        self.fields = fields
        self.config: dict[str, Any] = dict(config or {})
        unknown = sorted(set(self.config) - fields)
        if unknown:
            allowed = ", ".join(sorted(fields)) or "none"
            raise ConfigError(f"{name}.configured(): unknown option(s) {unknown} (it takes: {allowed})")

    def configured(self, config: Mapping[str, Any]) -> IOManagerDefinition:
        if not isinstance(config, Mapping):
            raise ConfigError(f"{self.name}.configured() takes a dict, got {config!r}")
        return IOManagerDefinition(self.name, self._build, self.fields, {**self.config, **config})

    def _deras_build_resource(self, default_io_manager: Any) -> Any:
        """The IO manager of one run; read by the run's resources."""
        return self._build(self.config, default_io_manager)

    def __repr__(self) -> str:
        return self.name + (f".configured({self.config!r})" if self.config else "")


def _filesystem(config: dict[str, Any], default_io_manager: Any) -> Any:
    base_dir = config.get("base_dir")
    if base_dir is not None:
        return FilesystemIOManager(base_dir=str(base_dir))
    if isinstance(default_io_manager, PickleFileIOManager):
        return default_io_manager  # the instance's storage directory, as Dagster's default
    # An in-memory instance has no storage directory: a fresh one for the run, as Dagster's
    # ephemeral instance does.
    return FilesystemIOManager(base_dir=tempfile.mkdtemp(prefix="deras-fs-io-"))


def _memory(config: dict[str, Any], default_io_manager: Any) -> Any:
    return InMemoryIOManager()


fs_io_manager = IOManagerDefinition("fs_io_manager", _filesystem, frozenset({"base_dir"}))
mem_io_manager = IOManagerDefinition("mem_io_manager", _memory, frozenset())
