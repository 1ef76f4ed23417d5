"""IO managers: where asset values go and where downstream assets load them from."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .._core.keys import AssetKey


@dataclass(slots=True)
class OutputContext:
    """What ``IOManager.handle_output`` knows about the value it stores."""

    asset_key: AssetKey
    name: str = "result"
    run_id: str = ""
    partition_key: str | None = None
    partition_keys: list[str] = field(default_factory=list)
    definition_metadata: dict[str, Any] = field(default_factory=dict)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("deras"))
    _metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None

    @property
    def asset_partition_key(self) -> str | None:
        return self.partition_key

    def add_output_metadata(self, metadata: dict[str, Any]) -> None:
        self._metadata.update(metadata)


@dataclass(slots=True)
class InputContext:
    """What ``IOManager.load_input`` knows about the value it loads.

    ``partition_key`` is the upstream partition to load (None when unpartitioned); when a
    downstream input spans several upstream partitions, ``load_input`` is called once per key.
    """

    asset_key: AssetKey
    name: str = ""
    partition_key: str | None = None
    upstream_output: OutputContext | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("deras"))

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None

    @property
    def asset_partition_key(self) -> str | None:
        return self.partition_key


class IOManager:
    """Base class for user IO managers.

    >>> class Memory(IOManager):
    ...     def __init__(self):
    ...         self.values = {}
    ...     def handle_output(self, context, obj):
    ...         self.values[context.asset_key] = obj
    ...     def load_input(self, context):
    ...         return self.values[context.asset_key]
    """

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__}.handle_output")

    def load_input(self, context: InputContext) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.load_input")


class InMemoryIOManager(IOManager):
    """Keeps values in this process; the default of ephemeral instances (tests)."""

    _deras_exact_roundtrip = True  # values come back as they went in: safe to cache

    def __init__(self) -> None:
        self.values: dict[tuple[AssetKey, str | None], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self.values[(context.asset_key, context.partition_key)] = obj

    def load_input(self, context: InputContext) -> Any:
        try:
            return self.values[(context.asset_key, context.partition_key)]
        except KeyError:
            part = f" partition '{context.partition_key}'" if context.partition_key else ""
            raise FileNotFoundError(
                f"asset '{context.asset_key}'{part} has no stored value in this process's memory. "
                "Fix: materialize it in the same run, or use a persistent instance."
            ) from None
