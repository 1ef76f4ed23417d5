"""``build_asset_context``: a context for calling an asset function directly, in a unit test."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .._core.keys import AssetKey
from .._defs.io_manager import InMemoryIOManager
from .context import AssetExecutionContext, Resources
from .run_resources import RunResources


class DirectAssetContext(AssetExecutionContext):
    """An ``AssetExecutionContext`` outside any run; ``my_asset(context)`` fills the asset's
    resource parameters from its ``resources`` (as a run would)."""

    def __init__(self, resources: RunResources, resource_keys: frozenset[str], **fields: Any) -> None:
        super().__init__(resources=Resources(resources.get), **fields)
        self._run_resources = resources
        self.resource_keys = resource_keys

    def resource(self, key: str) -> Any:
        return self._run_resources.get(key)


def build_asset_context(
    resources: Mapping[str, Any] | None = None,
    *,
    partition_key: str | None = None,
    partition_key_range: tuple[str, str] | None = None,
    partitions_def: Any = None,
    instance: Any = None,
    run_config: Mapping[str, Any] | None = None,
    asset_key: Any = None,
) -> AssetExecutionContext:
    """A context to pass to an asset function called directly (no run, no event log).

    ``context.log`` is the ``deras.direct`` logger; resources are resolved as a run would
    (``EnvVar`` read, ``setup_for_execution`` called) on first use.

    >>> import deras as dg
    >>> @dg.asset
    ... def day(context: dg.AssetExecutionContext) -> str:
    ...     return context.partition_key
    >>> day(dg.build_asset_context(partition_key="2024-01-01"))
    '2024-01-01'
    """
    if partition_key is not None and partition_key_range is not None:
        raise ValueError("build_asset_context: give partition_key= or partition_key_range=, not both")
    keys: list[str] = []
    if partition_key is not None:
        keys = [partition_key]
    elif partition_key_range is not None:
        first, last = partition_key_range
        keys = [first, last]
        if partitions_def is not None:
            keys = list(partitions_def.get_partition_keys_in_range(first, last))

    key = AssetKey.coerce(asset_key) if asset_key is not None else None
    given = dict(resources or {})
    return DirectAssetContext(
        RunResources(given, InMemoryIOManager(), set()),
        frozenset(given),
        run_id="direct",
        node_id=str(key) if key else "direct",
        asset_key=key,
        asset_keys=[key] if key else [],
        partition_keys=keys,
        partitions_def=partitions_def,
        log=logging.getLogger("deras.direct"),
        retry_number=0,
        instance=instance,
        run_config=dict(run_config or {}),
    )
