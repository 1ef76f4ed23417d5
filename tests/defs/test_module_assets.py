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


def test_loads_each_asset_and_spec_once_across_modules(modules: tuple[ModuleType, ModuleType]) -> None:
    first, second = modules
    assets = dg.load_assets_from_modules([first, second])
    keys = sorted(k.to_user_string() for a in assets for k in a.keys)
    assert keys == ["doubled", "grouped", "raw", "vendor"]  # raw is imported into second too


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
    result = dg.materialize([*dg.load_assets_from_modules([first, second]), *checks])
    assert result.asset_value("doubled") == 2
    assert {c.check_name: c.passed for c in result.check_results()} == {"raw_positive": True, "even": True}


def test_a_module_instead_of_a_list_is_an_error(modules: tuple[ModuleType, ModuleType]) -> None:
    first, _ = modules
    with pytest.raises(TypeError, match="pass a list of modules"):
        dg.load_assets_from_modules(first)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes modules"):
        dg.load_assets_from_modules(["first"])  # type: ignore[list-item]
