"""Serving Airflow's and Dagster's module paths: deras's names under theirs, and one clear line
for what deras does not provide."""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import sysconfig
from pathlib import Path

import pytest

import deras as dg
from deras._compat.airflow_modules import AIRFLOW_MODULES
from deras._compat.dagster_modules import DAGSTER_MODULES
from deras._compat.finder import _is_installed, compat_modes, use_compat
from deras._compat.unsupported import UnsupportedImport

BOTH = frozenset({"airflow", "dagster"})
TABLE = [
    (module, name, deras_name)
    for modules in (AIRFLOW_MODULES, DAGSTER_MODULES)
    for module, names in modules.items()
    for name, deras_name in names.items()
]


@pytest.mark.parametrize(("module", "name", "deras_name"), TABLE, ids=str)
def test_each_served_name_is_derass_own_object_or_a_clear_import_error(
    module: str, name: str, deras_name: str
) -> None:
    use_compat(BOTH)
    served = importlib.import_module(module)
    if deras_name in dg.__all__:
        assert getattr(served, name) is getattr(dg, deras_name)
    else:  # a name deras does not have yet
        with pytest.raises(
            UnsupportedImport, match=rf"^deras --compat \w+: {module}\.{name} is not supported$"
        ):
            exec(f"from {module} import {name}")


def test_import_dagster_as_dg_offers_every_public_name_of_deras() -> None:
    use_compat(frozenset({"dagster"}))
    import dagster  # type: ignore[import-not-found]

    assert dagster.asset is dg.asset and dagster.Definitions is dg.Definitions
    assert dagster.DagsterInstance is dg.DerasInstance  # renamed, served under Dagster's name
    assert {"asset", "materialize", "DagsterInstance"} <= set(dir(dagster))


def test_airflow_2_and_3_paths_of_one_operator_are_the_same_class() -> None:
    use_compat(frozenset({"airflow"}))
    from airflow.operators.bash import BashOperator  # type: ignore[import-not-found]
    from airflow.providers.standard.operators.bash import (  # type: ignore[import-not-found]
        BashOperator as StandardBashOperator,
    )
    from airflow.sdk import dag, task  # type: ignore[import-not-found]

    assert BashOperator is StandardBashOperator is dg.BashOperator
    assert (dag, task) == (dg.dag, dg.task)


def test_a_submodule_can_be_imported_from_its_package() -> None:
    use_compat(frozenset({"airflow"}))
    from airflow.operators import bash  # type: ignore[import-not-found]

    assert bash.BashOperator is dg.BashOperator


def test_airflow_skip_exception_is_derass_skip_task() -> None:
    use_compat(frozenset({"airflow"}))
    from airflow.exceptions import AirflowSkipException  # type: ignore[import-not-found]

    assert AirflowSkipException is dg.SkipTask


def test_a_module_deras_does_not_serve_fails_naming_the_whole_path() -> None:
    use_compat(frozenset({"airflow"}))
    with pytest.raises(UnsupportedImport) as err:
        from airflow.providers.cncf.kubernetes.operators.pod import (  # type: ignore[import-not-found] # noqa: F401
            KubernetesPodOperator,
        )
    assert str(err.value) == (
        "deras --compat airflow: module 'airflow.providers.cncf.kubernetes.operators.pod' is not supported"
    )


def test_an_integration_package_deras_does_not_serve_fails_naming_it() -> None:
    use_compat(frozenset({"dagster"}))
    with pytest.raises(
        UnsupportedImport, match=r"^deras --compat dagster: module 'dagster_aws.s3' is not supported$"
    ):
        importlib.import_module("dagster_aws.s3")


def test_a_name_deras_lacks_fails_naming_module_and_name() -> None:
    use_compat(frozenset({"dagster"}))
    with pytest.raises(
        UnsupportedImport, match=r"^deras --compat dagster: dagster.no_such_thing is not supported$"
    ):
        from dagster import no_such_thing  # type: ignore[import-not-found] # noqa: F401


def test_a_missing_attribute_is_an_attribute_error_so_getattr_with_a_default_works() -> None:
    use_compat(frozenset({"dagster"}))
    import dagster  # type: ignore[import-not-found]

    assert getattr(dagster, "graph_nodes", None) is None
    with pytest.raises(
        AttributeError, match=r"^deras --compat dagster: dagster.no_such_thing is not supported$"
    ):
        dagster.no_such_thing  # noqa: B018


def test_an_unsupported_import_can_be_caught_as_an_import_error() -> None:
    use_compat(frozenset({"airflow"}))
    try:
        import airflow.providers.amazon  # type: ignore[import-not-found] # noqa: F401

        has_amazon = True
    except ImportError:
        has_amazon = False
    assert not has_amazon


def test_only_the_modes_turned_on_are_served() -> None:
    use_compat(frozenset({"airflow"}))
    importlib.import_module("airflow")
    with pytest.raises(ModuleNotFoundError, match="No module named 'dagster'"):
        importlib.import_module("dagster")


def test_turning_compat_off_forgets_the_served_modules() -> None:
    use_compat(frozenset({"airflow"}))
    importlib.import_module("airflow.operators.bash")
    use_compat(frozenset())
    assert compat_modes() == frozenset()
    assert not any(name == "airflow" or name.startswith("airflow.") for name in sys.modules)
    with pytest.raises(ModuleNotFoundError, match="No module named 'airflow'"):
        importlib.import_module("airflow")


def test_derass_names_win_over_an_installed_package_only_under_compat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "airflow").mkdir()
    (tmp_path / "airflow" / "__init__.py").write_text("DAG = 'the real one'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    use_compat(frozenset({"airflow"}))
    assert importlib.import_module("airflow").DAG is dg.DAG
    use_compat(frozenset())
    assert importlib.import_module("airflow").DAG == "the real one"
    del sys.modules["airflow"]


def test_a_project_package_named_dagster_something_is_the_users_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dagster_university").mkdir()
    (tmp_path / "dagster_university" / "__init__.py").write_text("")
    (tmp_path / "dagster_university" / "assets.py").write_text("import dagster as dg\nasset = dg.asset\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    use_compat(frozenset({"dagster"}))
    try:
        assert importlib.import_module("dagster_university.assets").asset is dg.asset
    finally:
        for name in ("dagster_university.assets", "dagster_university"):
            sys.modules.pop(name, None)


def test_only_packages_installed_in_site_packages_count_as_integrations(tmp_path: Path) -> None:
    installed = Path(sysconfig.get_paths()["purelib"]) / "dagster_aws" / "__init__.py"
    project = tmp_path / "dagster_aws" / "__init__.py"
    assert _is_installed(importlib.machinery.ModuleSpec("dagster_aws", None, origin=str(installed)))
    assert not _is_installed(importlib.machinery.ModuleSpec("dagster_aws", None, origin=str(project)))
