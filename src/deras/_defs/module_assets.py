"""``load_assets_from_modules`` and friends: the definitions of Python modules, gathered."""

from __future__ import annotations

import copy
import importlib
import pkgutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from types import ModuleType
from typing import Any

from .._core.errors import DefinitionError
from .._core.keys import AssetKey
from .asset import DEFAULT_GROUP, AssetsDefinition
from .asset_in import AssetDep, AssetIn
from .check import AssetChecksDefinition
from .check_spec import MultiAssetChecksDefinition

Checks = AssetChecksDefinition | MultiAssetChecksDefinition


def load_assets_from_modules(
    modules: Iterable[ModuleType],
    group_name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    *,
    include_specs: bool = False,
) -> list[AssetsDefinition]:
    """Every ``@asset`` and ``@multi_asset`` at the top level of ``modules``, each once.

    As in Dagster, ``AssetSpec``s are left out unless ``include_specs=True``. With ``group_name``
    the assets are copies in that group (an asset in another group already is an error); with
    ``key_prefix`` copies whose keys, and the ``deps``/``ins`` among them, have that prefix.

    >>> import types, deras as dg
    >>> mod = types.ModuleType("demo")
    >>> mod.numbers = dg.asset(lambda: [1, 2], name="numbers")
    >>> [a.group_name for a in dg.load_assets_from_modules([mod], group_name="demo")]
    ['demo']
    >>> [str(a.key) for a in dg.load_assets_from_modules([mod], key_prefix="raw")]
    ['raw/numbers']
    """
    found = [a for a in _members(modules, (AssetsDefinition,)) if include_specs or not a.is_external]
    if group_name is not None:
        found = [_in_group(a, group_name) for a in found]
    if key_prefix:
        loaded = {k for a in found for k in a.keys}
        found = [_prefixed(a, key_prefix, loaded) for a in found]
    return found


def load_assets_from_current_module(
    group_name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    *,
    include_specs: bool = False,
) -> list[AssetsDefinition]:
    """``load_assets_from_modules`` of the module that calls it."""
    return load_assets_from_modules([_caller()], group_name, key_prefix, include_specs=include_specs)


def load_assets_from_package_module(
    package_module: ModuleType,
    group_name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    *,
    include_specs: bool = False,
) -> list[AssetsDefinition]:
    """``load_assets_from_modules`` of a package and every module below it (each imported)."""
    modules = _package_modules(package_module)
    return load_assets_from_modules(modules, group_name, key_prefix, include_specs=include_specs)


def load_asset_checks_from_modules(
    modules: Iterable[ModuleType], asset_key_prefix: str | Sequence[str] | None = None
) -> list[Checks]:
    """Every ``@asset_check`` and ``@multi_asset_check`` at the top level of ``modules``, each
    once; with ``asset_key_prefix`` copies checking the prefixed asset keys."""
    found: list[Checks] = _members(modules, (AssetChecksDefinition, MultiAssetChecksDefinition))
    if asset_key_prefix:
        found = [_check_prefixed(c, asset_key_prefix) for c in found]
    return found


def load_asset_checks_from_current_module(
    asset_key_prefix: str | Sequence[str] | None = None,
) -> list[Checks]:
    return load_asset_checks_from_modules([_caller()], asset_key_prefix)


def load_asset_checks_from_package_module(
    package_module: ModuleType, asset_key_prefix: str | Sequence[str] | None = None
) -> list[Checks]:
    return load_asset_checks_from_modules(_package_modules(package_module), asset_key_prefix)


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


def _caller() -> ModuleType:
    name = sys._getframe(2).f_globals.get("__name__")  # the frame that called the public function
    module = sys.modules.get(name or "")
    if module is None:
        raise TypeError("load_*_from_current_module must be called at the top level of a module")
    return module


def _package_modules(package: ModuleType) -> list[ModuleType]:
    if not isinstance(package, ModuleType):
        raise TypeError(f"load_*_from_package_module takes a module, got {package!r}")
    modules = [package]
    path = getattr(package, "__path__", None)
    if path is not None:  # a package, not a plain module
        for info in pkgutil.walk_packages(path, package.__name__ + "."):
            modules.append(importlib.import_module(info.name))
    return modules


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


def _prefixed(a: AssetsDefinition, prefix: str | Sequence[str], loaded: set[AssetKey]) -> AssetsDefinition:
    """A copy with prefixed keys; its deps and ins on other loaded assets follow them."""
    moved = copy.copy(a)
    moved.specs = [replace(s, key=s.key.with_prefix(prefix)) for s in a.specs]
    if a.is_external:
        moved.op_name = moved.specs[0].key.to_user_string()
    moved.deps = [new for dep in a.deps for new in _dep_prefixed(dep, prefix, loaded)]
    moved.ins = {name: _in_prefixed(i, prefix, loaded) for name, i in a.ins.items()}
    moved.check_specs = [replace(c, asset=c.asset_key.with_prefix(prefix)) for c in a.check_specs]
    return moved


def _dep_prefixed(dep: Any, prefix: str | Sequence[str], loaded: set[AssetKey]) -> list[Any]:
    if isinstance(getattr(dep, "graph_node_id", None), str):
        return [dep]  # a DAG task
    if isinstance(dep, AssetDep):
        return [replace(dep, asset=_key_prefixed(dep.asset_key, prefix, loaded))]
    keys = dep.keys if isinstance(dep, AssetsDefinition) else [AssetKey.coerce(dep)]
    return [_key_prefixed(k, prefix, loaded) for k in keys]


def _in_prefixed(i: AssetIn, prefix: str | Sequence[str], loaded: set[AssetKey]) -> AssetIn:
    return i if i.key is None else replace(i, key=_key_prefixed(AssetKey.coerce(i.key), prefix, loaded))


def _key_prefixed(key: AssetKey, prefix: str | Sequence[str], loaded: set[AssetKey]) -> AssetKey:
    return key.with_prefix(prefix) if key in loaded else key  # keys from elsewhere stay as they are


def _check_prefixed(c: Checks, prefix: str | Sequence[str]) -> Checks:
    moved = copy.copy(c)
    if isinstance(c, MultiAssetChecksDefinition):
        assert isinstance(moved, MultiAssetChecksDefinition)
        moved.specs = [replace(s, asset=s.asset_key.with_prefix(prefix)) for s in c.specs]
    else:
        assert isinstance(moved, AssetChecksDefinition)
        moved.asset_key = c.asset_key.with_prefix(prefix)
    return moved
