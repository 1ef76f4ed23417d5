"""Declarations of inputs and outputs of assets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._core.keys import AssetKey


@dataclass(frozen=True, slots=True)
class AssetIn:
    """Rename an upstream asset or map its partitions.

    ``ins={"prices": AssetIn(key="vendor/raw_prices", partition_mapping=...)}``
    """

    key: AssetKey | str | None = None
    partition_mapping: Any = None
    key_prefix: str | list[str] | None = None


@dataclass(frozen=True, slots=True)
class AssetOut:
    """One output of a ``@multi_asset``."""

    key: AssetKey | str | None = None
    key_prefix: str | list[str] | None = None
    group_name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    io_manager_key: str = "io_manager"
    tags: dict[str, str] = field(default_factory=dict)
    code_version: str | None = None
    is_required: bool = True  # False: the function may end without a result for it


@dataclass(frozen=True, slots=True)
class AssetDep:
    """An upstream asset whose value the function does not load, with how partitions line up.

    ``deps=[AssetDep("raw_events", partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))]``

    >>> AssetDep("raw/events").key.to_user_string()
    'raw/events'
    """

    asset: Any  # an asset definition, AssetSpec, AssetKey or "prefix/name" string
    partition_mapping: Any = None

    def __post_init__(self) -> None:
        AssetKey.coerce(self.asset)  # a bad key fails where it was written

    @property
    def asset_key(self) -> AssetKey:
        return AssetKey.coerce(self.asset)

    @property
    def key(self) -> AssetKey:
        return self.asset_key
