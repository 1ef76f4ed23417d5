"""A run's resources: resolved (EnvVar values read) on first use, torn down at run end."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

from .._core.errors import ConfigError


class RunResources:
    """Resources by key for one run, plus the instance's default IO manager."""

    def __init__(self, resources: Mapping[str, Any], default_io_manager: Any, secrets: set[str]) -> None:
        self._declared = dict(resources)
        self._default_io_manager = default_io_manager
        self._ready: dict[str, Any] = {}
        self._secrets = secrets

    def get(self, key: str) -> Any:
        ready = self._ready.get(key)
        if ready is not None:
            return ready
        if key not in self._declared:
            if key == "io_manager":
                self._ready[key] = self._default_io_manager
                return self._default_io_manager
            raise ConfigError(f"no resource '{key}' (resources: {sorted(self._declared)})")
        value = self._declared[key]
        build = getattr(value, "_deras_build_resource", None)
        if callable(build):  # an IO manager definition (``dg.fs_io_manager``): one per run
            value = build(self._default_io_manager)
        resource_mod = sys.modules.get("deras._defs.resource")  # loaded iff any resource class exists
        if resource_mod is not None and isinstance(value, resource_mod.ConfigurableResource):
            value = value.resolve(self._secrets)
        setup = getattr(value, "setup_for_execution", None)
        if callable(setup):
            setup(None)
        self._ready[key] = value
        return value

    @property
    def has_teardown(self) -> bool:
        """Whether a resource in use has teardown code to run."""
        return any(_tears_down(value) for value in self._ready.values())

    def teardown(self, log: logging.Logger) -> None:
        for key, value in self._ready.items():
            teardown = getattr(value, "teardown_after_execution", None)
            if callable(teardown):
                try:
                    teardown(None)
                except Exception:
                    log.exception("teardown of resource '%s' failed", key)
        self._ready.clear()


def _tears_down(value: Any) -> bool:
    method = getattr(type(value), "teardown_after_execution", None)
    resource_mod = sys.modules.get("deras._defs.resource")
    base = resource_mod.ConfigurableResource.teardown_after_execution if resource_mod is not None else None
    return callable(method) and method is not base  # the base class's does nothing
