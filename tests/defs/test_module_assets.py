"""``load_assets_from_modules`` and ``load_asset_checks_from_modules``."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

import deras as dg

FIRST = """
import deras as dg

vendor = dg.AssetSpec("vendor")


@dg.asset(deps=[vendor])
def raw() -> int:
    return 1


@dg.asset_check(asset=raw)
def raw_positive(raw: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=raw > 0)


not_an_asset = 42
"""

SECOND = """
import deras as dg

from .first import raw  # imported here too: loaded once


@dg.asset
def doubled(raw: int) -> int:
    return raw * 2


@dg.asset(group_name="reports")
def grouped() -> int:
    return 0


@dg.multi_asset_check(specs=[dg.AssetCheckSpec("even", asset="doubled")])
def doubled_even(doubled: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=doubled % 2 == 0)
"""


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, ModuleType]:
    pkg = tmp_path / "assets_pkg_for_loading"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "first.py").write_text(textwrap.dedent(FIRST))
    (pkg / "second.py").write_text(textwrap.dedent(SECOND))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("assets_pkg_for_loading", "assets_pkg_for_loading.first", "assets_pkg_for_loading.second"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    first = importlib.import_module("assets_pkg_for_loading.first")
    second = importlib.import_module("assets_pkg_for_loading.second")
    return first, second


def _keys(assets: list[dg.AssetsDefinition]) -> list[str]:
    return sorted(k.to_user_string() for a in assets for k in a.keys)


def test_loads_each_asset_once_across_modules(modules: tuple[ModuleType, ModuleType]) -> None:
    first, second = modules
    assets = dg.load_assets_from_modules([first, second])
    assert _keys(assets) == ["doubled", "grouped", "raw"]  # raw is imported into second too


def test_asset_specs_only_with_include_specs(modules: tuple[ModuleType, ModuleType]) -> None:
    first, _ = modules
    assert _keys(dg.load_assets_from_modules([first], include_specs=True)) == ["raw", "vendor"]


def test_group_name_puts_copies_in_that_group(modules: tuple[ModuleType, ModuleType]) -> None:
    first, _ = modules
    assets = dg.load_assets_from_modules([first])
    copies = dg.load_assets_from_modules([first], group_name="ingest")
    assert {a.group_name for a in copies} == {"ingest"}
    assert {a.group_name for a in assets} == {"default"}  # the originals are untouched
    assert first.raw.group_name == "default"


def test_group_name_over_another_group_is_an_error(modules: tuple[ModuleType, ModuleType]) -> None:
    _, second = modules
    with pytest.raises(dg.DefinitionError, match=r"asset 'grouped' .* is in group 'reports' already"):
        dg.load_assets_from_modules([second], group_name="other")


def test_loaded_assets_and_checks_run_together(modules: tuple[ModuleType, ModuleType]) -> None:
    first, second = modules
    checks = dg.load_asset_checks_from_modules([first, second])
    assert sorted(repr(c) for c in checks) == [
        "<AssetChecksDefinition raw:raw_positive>",
        "<MultiAssetChecksDefinition doubled_even: doubled:even>",
    ]
    assets = dg.load_assets_from_modules([first, second], include_specs=True)
    result = dg.materialize([*assets, *checks])
    assert result.asset_value("doubled") == 2
    assert {c.check_name: c.passed for c in result.check_results()} == {"raw_positive": True, "even": True}


def test_a_module_instead_of_a_list_is_an_error(modules: tuple[ModuleType, ModuleType]) -> None:
    first, _ = modules
    with pytest.raises(TypeError, match="pass a list of modules"):
        dg.load_assets_from_modules(first)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes modules"):
        dg.load_assets_from_modules(["first"])  # type: ignore[list-item]


def test_key_prefix_prefixes_keys_and_the_deps_among_them(modules: tuple[ModuleType, ModuleType]) -> None:
    first, second = modules
    assets = dg.load_assets_from_modules([first, second], key_prefix="shop", include_specs=True)
    assert _keys(assets) == ["shop/doubled", "shop/grouped", "shop/raw", "shop/vendor"]
    checks = dg.load_asset_checks_from_modules([first, second], asset_key_prefix="shop")
    graph = dg.Definitions(assets=assets, asset_checks=checks).asset_graph
    assert graph.upstream["shop/raw"] == []  # its dep is an external spec: no step
    assert graph.upstream["shop/doubled"] == ["shop/raw"]
    result = dg.materialize([*assets, *checks])
    assert result.asset_value("shop/doubled") == 2
    assert {str(c.asset_key) for c in result.check_results()} == {"shop/raw", "shop/doubled"}
    assert first.raw.key == dg.AssetKey("raw")  # the originals are untouched


def test_package_module_loads_every_module_below_it(modules: tuple[ModuleType, ModuleType]) -> None:
    package = importlib.import_module("assets_pkg_for_loading")
    assert _keys(dg.load_assets_from_package_module(package)) == ["doubled", "grouped", "raw"]
    assert len(dg.load_asset_checks_from_package_module(package)) == 2


def test_current_module_loads_the_callers_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "self_loading.py").write_text(
        "import deras as dg\n\n"
        "@dg.asset\ndef here() -> int:\n    return 1\n\n"
        "loaded = dg.load_assets_from_current_module(group_name='mine')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "self_loading", raising=False)
    mod = importlib.import_module("self_loading")
    assert [(a.key.to_user_string(), a.group_name) for a in mod.loaded] == [("here", "mine")]
