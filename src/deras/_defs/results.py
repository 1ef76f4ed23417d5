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
    asset_key: AssetKey | None = None
    run_id: str | None = field(default=None, repr=False)
