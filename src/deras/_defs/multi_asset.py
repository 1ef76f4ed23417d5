"""``@multi_asset``: one function that produces several assets."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from .._core.keys import AssetKey
from .asset import DEFAULT_GROUP, AssetOutSpec, AssetsDefinition
from .asset_in import AssetIn, AssetOut
from .check_spec import AssetCheckSpec, check_specs_of
from .retry import RetryPolicy


def multi_asset(
    *,
    outs: Mapping[str, AssetOut] | None = None,
    specs: Sequence[AssetsDefinition] | None = None,
    name: str | None = None,
    deps: Sequence[Any] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    partitions_def: Any = None,
    group_name: str | None = None,
    retry_policy: RetryPolicy | None = None,
    pool: str | None = None,
    timeout: float | None = None,
    backfill_policy: Any = None,
    automation_condition: Any = None,
    check_specs: Sequence[AssetCheckSpec] | None = None,
    can_subset: bool = False,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare one function that produces several assets, given as ``outs=`` or ``specs=``.

    The function returns a tuple (in the order of ``outs``) or yields ``Output(value, name)`` /
    ``MaterializeResult(asset_key=...)`` per asset (and ``AssetCheckResult`` per check spec).
    With ``specs=[dg.AssetSpec(...)]`` each spec's ``deps`` become upstreams of the step;
    with ``can_subset=True`` the function reads ``context.selected_asset_keys`` and yields
    results for those only.

    >>> @multi_asset(outs={"a": AssetOut(), "b": AssetOut()})
    ... def split():
    ...     return 1, 2
    >>> [k.to_user_string() for k in split.keys]
    ['a', 'b']
    >>> from deras._defs.asset import AssetSpec
    >>> @multi_asset(specs=[AssetSpec("x"), AssetSpec("y", deps=["x"])])
    ... def load():
    ...     from deras._defs.results import MaterializeResult
    ...     yield MaterializeResult(asset_key="x")
    ...     yield MaterializeResult(asset_key="y")
    >>> [k.to_user_string() for k in load.keys]
    ['x', 'y']
    """
    if bool(outs) == bool(specs):
        raise ValueError("@multi_asset needs either outs= or specs= (one of them, not empty)")

    def decorate(f: Callable[..., Any]) -> AssetsDefinition:
        where = f"@multi_asset on {f.__name__}"
        if outs:
            out_specs = _specs_of_outs(outs, group_name)
        else:
            out_specs = _specs_of_specs(specs or (), group_name, where)
        all_deps = list(deps or ())
        pdef = partitions_def
        for given in specs or ():
            all_deps.extend(d for d in given.deps if d not in all_deps)
            if given.partitions_def is not None and pdef is not None and given.partitions_def != pdef:
                raise ValueError(f"{where}: AssetSpec {given.op_name} has other partitions than the others")
            pdef = given.partitions_def if pdef is None else pdef
        return AssetsDefinition(
            fn=f,
            op_name=name or f.__name__,
            specs=out_specs,
            ins=ins,
            deps=all_deps,
            partitions_def=pdef,
            backfill_policy=backfill_policy,
            retry_policy=retry_policy,
            timeout=timeout,
            pool=pool,
            automation_condition=automation_condition,
            check_specs=check_specs_of(check_specs, where),
            can_subset=can_subset,
        )

    return decorate


def _specs_of_outs(outs: Mapping[str, AssetOut], group_name: str | None) -> list[AssetOutSpec]:
    specs = []
    for out_name, out in outs.items():
        key = AssetKey.coerce(out.key) if out.key is not None else AssetKey(out_name)
        if out.key_prefix:
            key = key.with_prefix(out.key_prefix)
        specs.append(
            AssetOutSpec(
                out_name,
                key,
                out.group_name or group_name or DEFAULT_GROUP,
                out.description,
                dict(out.metadata or {}),
                dict(out.tags),
                (),
                out.io_manager_key,
                out.code_version,
                skippable=not out.is_required,
            )
        )
    return specs


def _specs_of_specs(
    given: Sequence[AssetsDefinition], group_name: str | None, where: str
) -> list[AssetOutSpec]:
    out: list[AssetOutSpec] = []
    for item in given:
        if not isinstance(item, AssetsDefinition) or not item.is_external:
            raise TypeError(f"{where}: specs= takes dg.AssetSpec(...) objects, got {item!r}")
        spec = item.specs[0]
        if any(s.key == spec.key for s in out):
            raise ValueError(f"{where}: asset '{spec.key}' is listed twice in specs=")
        if group_name and spec.group_name == DEFAULT_GROUP:
            spec = replace(spec, group_name=group_name)
        out.append(replace(spec, deps=tuple(item.deps)))
    return out
