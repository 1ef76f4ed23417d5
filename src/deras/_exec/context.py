"""The context object a user function receives as ``context``."""

from __future__ import annotations

import logging
from typing import Any

from .._core.keys import AssetKey
from .._defs.time_partitions import TimeWindow
from .ports import InstanceLike


class Resources:
    """``context.resources.<key>``: the run's resources by key."""

    def __init__(self, lookup: Any) -> None:
        self._lookup = lookup

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self._lookup(key)


class AssetExecutionContext:
    """What an asset function knows about the run it is in.

    ``log`` records into the run's event log; ``partition_key`` is the partition being
    materialized (None when unpartitioned); ``retry_number`` is 0 on the first attempt.
    """

    def __init__(
        self,
        *,
        run_id: str,
        node_id: str,
        asset_key: AssetKey | None,
        asset_keys: list[AssetKey],
        partition_keys: list[str],
        partitions_def: Any,
        log: logging.Logger,
        resources: Resources,
        retry_number: int,
        instance: InstanceLike,
        run_config: dict[str, Any],
    ) -> None:
        self.run_id = run_id
        self.node_id = node_id
        self._asset_key = asset_key
        self.asset_keys = asset_keys
        self.partition_keys = partition_keys
        self._partitions_def = partitions_def
        self.log = log
        self.resources = resources
        self.retry_number = retry_number
        self.instance = instance
        self.run_config = run_config
        self.output_metadata: dict[AssetKey | None, dict[str, Any]] = {}
        self.op_config: dict[str, Any] | None = None  # the asset's validated config, as a dict
        self.logged_events: list[Any] = []  # what ``log_event`` got, recorded after the function

    @property
    def asset_key(self) -> AssetKey:
        if self._asset_key is None:
            raise AttributeError("this node produces several assets: use context.asset_keys")
        return self._asset_key

    @property
    def has_partition_key(self) -> bool:
        return len(self.partition_keys) == 1

    @property
    def partition_key(self) -> str | None:
        """The partition this run materializes; None for unpartitioned or range runs."""
        return self.partition_keys[0] if len(self.partition_keys) == 1 else None

    @property
    def partition_key_range(self) -> tuple[str, str] | None:
        return (self.partition_keys[0], self.partition_keys[-1]) if self.partition_keys else None

    @property
    def partition_time_window(self) -> TimeWindow:
        """The time span of the partition(s): for a range run, first start to last end."""
        if not self.partition_keys or not hasattr(
            self._partitions_def, "time_window_for_partition_key_range"
        ):
            raise AttributeError("partition_time_window needs a time-window partitioned asset")
        window: TimeWindow = self._partitions_def.time_window_for_partition_key_range(
            self.partition_keys[0], self.partition_keys[-1]
        )
        return window

    def add_output_metadata(self, metadata: dict[str, Any], output_name: str | None = None) -> None:
        key = None
        if output_name is not None:
            key = next((k for k in self.asset_keys if k.name == output_name), None)
        self.output_metadata.setdefault(key, {}).update(metadata)

    @property
    def selected_asset_keys(self) -> set[AssetKey]:
        """The assets this step is asked to produce (a ``can_subset`` multi_asset reads it)."""
        return set(self.asset_keys)

    @property
    def op_execution_context(self) -> AssetExecutionContext:
        return self  # Dagster code reaches op-level features through it; deras has one context

    def log_event(self, event: Any) -> None:
        """Record an ``AssetMaterialization`` when the step ends (Dagster's ``context.log_event``).

        >>> import deras as dg
        >>> ctx = dg.build_asset_context()
        >>> ctx.log_event(dg.AssetMaterialization(asset_key="report"))
        >>> len(ctx.logged_events)
        1
        """
        from .._defs.results import AssetMaterialization  # the context is built per step: import late

        if not isinstance(event, AssetMaterialization):
            raise TypeError(f"context.log_event takes a dg.AssetMaterialization, got {type(event).__name__}")
        self.logged_events.append(event)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} run={self.run_id} node={self.node_id}>"


class AssetCheckExecutionContext(AssetExecutionContext):
    """The context of an asset check; ``check_name`` names the check."""

    check_name: str = ""
