"""``@asset_check``: a validation that runs right after its asset, in the same run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._core.keys import AssetKey
from .asset_in import AssetIn
from .retry import RetryPolicy
from .signature import read_params
from .source import SourceInfo


class CheckFunction:
    """What every check step holds: the user's function, its inputs, and how it is retried."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        ins: Mapping[str, AssetIn] | None,
        retry_policy: RetryPolicy | None,
        timeout: float | None,
    ) -> None:
        self.fn = fn
        self.name = name
        self.ins = dict(ins or {})
        self.retry_policy = retry_policy
        self.timeout = timeout
        self.source = SourceInfo.of(fn)
        self.params = read_params(fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


class AssetChecksDefinition(CheckFunction):
    """A check on one asset (what ``@asset_check`` returns).

    ``blocking=True``: when the check fails with severity ERROR (or raises), every asset
    downstream of the checked asset is skipped in that run and the run fails.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        asset_key: AssetKey,
        blocking: bool,
        description: str | None,
        ins: Mapping[str, AssetIn] | None = None,
        retry_policy: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(fn, name=name, ins=ins, retry_policy=retry_policy, timeout=timeout)
        self.asset_key = asset_key
        self.blocking = blocking
        self.description = description

    @property
    def node_id(self) -> str:
        return f"{self.asset_key.to_user_string()}:{self.name}"

    def __repr__(self) -> str:
        return f"<AssetChecksDefinition {self.node_id}>"


def asset_check(
    *,
    asset: Any,
    name: str | None = None,
    blocking: bool = False,
    description: str | None = None,
    additional_ins: Mapping[str, AssetIn] | None = None,
    retry_policy: RetryPolicy | None = None,
    timeout: float | None = None,
) -> Callable[[Callable[..., Any]], AssetChecksDefinition]:
    """Declare a check on ``asset`` (an asset definition, key or "prefix/name" string).

    A parameter named like the checked asset receives its value.

    >>> from deras._defs.asset import asset
    >>> @asset
    ... def prices():
    ...     return [1.0, 2.0]
    >>> @asset_check(asset=prices, blocking=True)
    ... def positive(prices):
    ...     from deras._defs.results import AssetCheckResult
    ...     return AssetCheckResult(passed=all(p > 0 for p in prices))
    >>> positive.node_id
    'prices:positive'
    """
    asset_key = AssetKey.coerce(asset)

    def decorate(fn: Callable[..., Any]) -> AssetChecksDefinition:
        return AssetChecksDefinition(
            fn,
            name=name or fn.__name__,
            asset_key=asset_key,
            blocking=blocking,
            description=description if description is not None else (fn.__doc__ or "").strip() or None,
            ins=additional_ins,
            retry_policy=retry_policy,
            timeout=timeout,
        )

    return decorate
