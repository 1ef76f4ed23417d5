"""``load_assets_from_modules``: the asset and check definitions of Python modules, gathered."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import replace
from types import ModuleType
from typing import Any

from .._core.errors import DefinitionError
from .asset import DEFAULT_GROUP, AssetsDefinition
from .check import AssetChecksDefinition
from .check_spec import MultiAssetChecksDefinition


def load_assets_from_modules(
    modules: Iterable[ModuleType], group_name: str | None = None
) -> list[AssetsDefinition]:
    """Every asset definition (``@asset``, ``@multi_asset``, ``AssetSpec``) at the top level of
    ``modules``, each once; with ``group_name`` they are copies in that group.

    An asset already in another group than the default keeps its group only without ``group_name``:
    asking for another one is an error, as in Dagster.

    >>> import types, deras as dg
    >>> mod = types.ModuleType("demo")
    >>> mod.numbers = dg.asset(lambda: [1, 2])
    >>> [a.group_name for a in dg.load_assets_from_modules([mod], group_name="demo")]
    ['demo']
    """
    found = _members(modules, (AssetsDefinition,))
    if group_name is None:
        return found
    return [_in_group(a, group_name) for a in found]


def load_asset_checks_from_modules(
    modules: Iterable[ModuleType],
) -> list[AssetChecksDefinition | MultiAssetChecksDefinition]:
    """Every ``@asset_check`` and ``@multi_asset_check`` at the top level of ``modules``, each once."""
    return _members(modules, (AssetChecksDefinition, MultiAssetChecksDefinition))


def _members(modules: Iterable[ModuleType], kinds: tuple[type, ...]) -> list[Any]:
    if isinstance(modules, ModuleType):
        raise TypeError("pass a list of modules: load_assets_from_modules([my_module])")
    seen: dict[int, Any] = {}
    for mod in modules:
        if not isinstance(mod, ModuleType):
            raise TypeError(f"load_assets_from_modules takes modules, got {mod!r}")
        for value in vars(mod).values():
            if isinstance(value, kinds):
                seen.setdefault(id(value), value)  # imported into several modules: once
    return list(seen.values())


def _in_group(a: AssetsDefinition, group_name: str) -> AssetsDefinition:
    taken = [s for s in a.specs if s.group_name not in (DEFAULT_GROUP, group_name)]
    if taken:
        raise DefinitionError(
            f"asset '{taken[0].key}' ({a.source}) is in group '{taken[0].group_name}' already; "
            f"load_assets_from_modules(group_name='{group_name}') would move it. Fix: drop one of the two."
        )
    moved = copy.copy(a)
    moved.specs = [replace(s, group_name=group_name) for s in a.specs]
    return moved
