"""``AssetCheckSpec`` and ``@multi_asset_check``: checks whose results a step yields itself.

An asset with ``check_specs=`` evaluates those checks in its own step (it yields an
``AssetCheckResult`` per spec next to its value); ``@multi_asset_check`` is one step that
evaluates several checks, possibly on several assets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._core.keys import AssetKey
from .asset_in import AssetIn
from .check import CheckFunction
from .retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class AssetCheckSpec:
    """A check declared ahead of the step that yields its result.

    >>> AssetCheckSpec("no_nulls", asset="orders", blocking=True).asset_key.to_user_string()
    'orders'
    """

    name: str
    asset: Any  # an asset definition, AssetSpec, AssetKey or "prefix/name" string
    description: str | None = None
    blocking: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    additional_deps: Sequence[Any] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"AssetCheckSpec name must be a non-empty string, got {self.name!r}")
        AssetKey.coerce(self.asset)  # a bad asset fails here, where it was written

    @property
    def asset_key(self) -> AssetKey:
        return AssetKey.coerce(self.asset)

    @property
    def node_id(self) -> str:
        """How runs and the UI name the check: ``asset:check``."""
        return f"{self.asset_key.to_user_string()}:{self.name}"


def check_specs_of(specs: Sequence[Any] | None, where: str) -> list[AssetCheckSpec]:
    """Validate a ``check_specs=`` list: specs only, each check named once per asset."""
    out: list[AssetCheckSpec] = []
    seen: set[str] = set()
    for spec in specs or ():
        if not isinstance(spec, AssetCheckSpec):
            raise TypeError(f"{where}: check_specs= takes dg.AssetCheckSpec objects, got {spec!r}")
        if spec.node_id in seen:
            raise ValueError(f"{where}: check '{spec.name}' on asset '{spec.asset_key}' is listed twice")
        seen.add(spec.node_id)
        out.append(spec)
    return out


class MultiAssetChecksDefinition(CheckFunction):
    """One step evaluating several checks (what ``@multi_asset_check`` returns)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        specs: list[AssetCheckSpec],
        ins: Mapping[str, AssetIn] | None = None,
        retry_policy: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(fn, name=name, ins=ins, retry_policy=retry_policy, timeout=timeout)
        self.specs = specs

    @property
    def node_id(self) -> str:
        return self.name

    @property
    def asset_keys(self) -> list[AssetKey]:
        return list(dict.fromkeys(s.asset_key for s in self.specs))

    def __repr__(self) -> str:
        return f"<MultiAssetChecksDefinition {self.name}: {', '.join(s.node_id for s in self.specs)}>"


def multi_asset_check(
    *,
    specs: Sequence[AssetCheckSpec],
    name: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    retry_policy: RetryPolicy | None = None,
    timeout: float | None = None,
) -> Callable[[Callable[..., Any]], MultiAssetChecksDefinition]:
    """Declare one function that evaluates several checks; it yields an ``AssetCheckResult``
    (with ``asset_key=`` and ``check_name=``) per spec.

    The step runs after every asset it checks; a spec with no result fails it.

    >>> @multi_asset_check(specs=[AssetCheckSpec("fresh", asset="a"), AssetCheckSpec("fresh", asset="b")])
    ... def freshness():
    ...     from deras._defs.results import AssetCheckResult
    ...     for key in ("a", "b"):
    ...         yield AssetCheckResult(passed=True, asset_key=key, check_name="fresh")
    >>> [s.node_id for s in freshness.specs]
    ['a:fresh', 'b:fresh']
    """

    def decorate(fn: Callable[..., Any]) -> MultiAssetChecksDefinition:
        where = f"@multi_asset_check on {fn.__name__}"
        checked = check_specs_of(specs, where)
        if not checked:
            raise ValueError(f"{where} needs at least one AssetCheckSpec in specs=")
        return MultiAssetChecksDefinition(
            fn, name=name or fn.__name__, specs=checked, ins=ins, retry_policy=retry_policy, timeout=timeout
        )

    return decorate
