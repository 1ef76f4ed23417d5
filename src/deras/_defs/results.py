"""What user functions return: values, materialize results, outputs, check results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .._core.keys import AssetKey


class AssetCheckSeverity(StrEnum):
    ERROR = "ERROR"
    WARN = "WARN"


@dataclass(slots=True)
class MaterializeResult:
    """Record a materialization with metadata, without storing a value.

    >>> MaterializeResult(metadata={"rows": 10}).metadata
    {'rows': 10}
    """

    metadata: dict[str, Any] | None = None
    asset_key: AssetKey | str | None = None  # which output of a multi_asset
    check_results: list[AssetCheckResult] = field(default_factory=list)  # of check_specs= checks


@dataclass(slots=True)
class Output:
    """A value for one named output of a ``@multi_asset`` (or an asset with metadata)."""

    value: Any
    output_name: str = "result"
    metadata: dict[str, Any] | None = None


@dataclass(slots=True)
class AssetCheckResult:
    """The verdict of an asset check.

    >>> AssetCheckResult(passed=False, metadata={"bad_rows": 3}).severity
    <AssetCheckSeverity.ERROR: 'ERROR'>
    """

    passed: bool
    metadata: dict[str, Any] | None = None
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR
    description: str | None = None
    check_name: str | None = None
    asset_key: AssetKey | str | None = None
    run_id: str | None = field(default=None, repr=False)


@dataclass(slots=True)
class AssetMaterialization:
    """A materialization recorded at runtime: yielded by an asset or passed to ``context.log_event``.

    It names any asset key (not only the ones the step declares) and stores no value.

    >>> AssetMaterialization(asset_key="reports/daily", metadata={"rows": 3}).metadata
    {'rows': 3}
    """

    asset_key: AssetKey | str | list[str]
    description: str | None = None
    metadata: dict[str, Any] | None = None
    partition: str | None = None
