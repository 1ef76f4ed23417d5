"""Every definition error names the file, the function and the name, and says how to fix it."""

from __future__ import annotations

import pytest

import deras as dg

THIS_FILE = "test_definition_errors.py"


def test_unknown_parameter_names_asset_parameter_file_and_fix() -> None:
    @dg.asset
    def prices() -> int:
        return 1

    @dg.asset
    def report(prcies: int) -> int:
        return prcies

    with pytest.raises(dg.DefinitionError) as err:
        dg.Definitions(assets=[prices, report])
    msg = str(err.value)
    assert "asset 'report'" in msg and "parameter 'prcies'" in msg
    assert THIS_FILE in msg and "function report" in msg
    assert "Did you mean 'prices'" in msg and "Fix:" in msg


def test_unknown_dep_names_the_key_and_suggests_asset_spec() -> None:
    @dg.asset(deps=["vendor/raw"])
    def cleaned() -> None: ...

    with pytest.raises(dg.DefinitionError) as err:
        dg.Definitions(assets=[cleaned])
    msg = str(err.value)
    assert "deps=['vendor/raw']" in msg and "dg.AssetSpec('vendor/raw')" in msg and THIS_FILE in msg


def test_external_asset_spec_satisfies_deps() -> None:
    @dg.asset(deps=["vendor/raw"])
    def cleaned() -> None: ...

    defs = dg.Definitions(assets=[dg.AssetSpec("vendor/raw"), cleaned])
    assert defs.asset_graph.order == ["cleaned"]


def test_duplicate_key_names_both_definitions() -> None:
    def make() -> dg.AssetsDefinition:
        @dg.asset(name="twin")
        def first() -> int:
            return 1

        return first

    @dg.asset(name="twin")
    def second() -> int:
        return 2

    with pytest.raises(dg.DefinitionError) as err:
        dg.Definitions(assets=[make(), second])
    msg = str(err.value)
    assert "'twin' is defined twice" in msg and "function first" in msg and "function second" in msg
    assert len(err.value.problems) == 1  # reported once, not again as a clashing node id


def test_cycle_error_shows_the_path() -> None:
    @dg.asset(deps=["c"])
    def a() -> None: ...

    @dg.asset(deps=[a])
    def b() -> None: ...

    @dg.asset(deps=[b])
    def c() -> None: ...

    with pytest.raises(dg.DefinitionError, match="a → b → c → a"):
        dg.Definitions(assets=[a, b, c])


def test_missing_resource_names_the_resource_and_fix() -> None:
    from deras.duckdb import DuckDBResource

    @dg.asset
    def table(database: DuckDBResource) -> None: ...

    with pytest.raises(dg.DefinitionError) as err:
        dg.Definitions(assets=[table])
    msg = str(err.value)
    assert "needs resource 'database'" in msg and "resources={'database': ...}" in msg and THIS_FILE in msg


def test_missing_io_manager_resource_is_reported() -> None:
    @dg.asset(io_manager_key="warehouse")
    def table() -> int:
        return 1

    with pytest.raises(dg.DefinitionError, match="io_manager_key='warehouse'"):
        dg.Definitions(assets=[table])


def test_check_on_unknown_asset_is_reported() -> None:
    @dg.asset_check(asset="ghost")
    def ghost_ok() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    with pytest.raises(dg.DefinitionError, match="targets asset 'ghost'"):
        dg.Definitions(assets=[], asset_checks=[ghost_ok])


def test_all_problems_are_listed_at_once() -> None:
    @dg.asset
    def x(nope: int) -> int:
        return nope

    @dg.asset(deps=["missing"])
    def y() -> None: ...

    with pytest.raises(dg.DefinitionError) as err:
        dg.Definitions(assets=[x, y])
    assert len(err.value.problems) == 2
    assert str(err.value).startswith("2 problems in the definitions")


def test_not_an_asset_in_assets_list_is_reported() -> None:
    def plain() -> int:
        return 1

    with pytest.raises(dg.DefinitionError, match="not an asset"):
        dg.Definitions(assets=[plain])


def test_job_with_unknown_selection_is_a_definition_error() -> None:
    @dg.asset
    def a() -> int:
        return 1

    with pytest.raises(dg.DefinitionError, match=r"job 'nightly'.*no asset named 'b'"):
        dg.Definitions(assets=[a], jobs=[dg.define_asset_job("nightly", selection="b")])


def test_definitions_decorator_requires_definitions_return() -> None:
    @dg.definitions
    def defs() -> dg.Definitions:
        return 42  # type: ignore[return-value]

    with pytest.raises(dg.DefinitionError, match="returned int"):
        defs()


@pytest.mark.parametrize("enabled", [True, False])
def test_building_definitions_leaves_garbage_collection_as_it_found_it(enabled: bool) -> None:
    import gc

    @dg.asset
    def good() -> int:
        return 1

    @dg.asset
    def bad(missing: int) -> int:
        return missing

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        dg.Definitions(assets=[good])
        assert gc.isenabled() is enabled
        with pytest.raises(dg.DefinitionError):
            dg.Definitions(assets=[good, bad])
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
