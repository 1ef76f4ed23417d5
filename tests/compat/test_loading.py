"""The loader applies DERAS_COMPAT before importing user code; an unsupported import is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

import deras as dg
from deras._core.errors import ConfigError
from deras._dags.folder import load_dag_folder
from deras._defs.load_error import describe_load_error
from deras._defs.loader import load_definitions

BASH_DAG = """
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("hello", start_date=datetime(2025, 1, 1), schedule="@daily") as dag:
    BashOperator(task_id="say", bash_command="echo hello")
"""
K8S_DAG = """
from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
"""
ASSETS = """
import dagster as dg

@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]
"""


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "hello.py").write_text(BASH_DAG)
    (folder / "k8s.py").write_text(K8S_DAG)
    return folder


def test_a_folder_under_compat_loads_airflow_dags_and_one_line_per_unsupported_import(
    dags: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DERAS_COMPAT", "airflow")
    bag = load_dag_folder(dags)
    assert list(bag.dags) == ["hello"] and isinstance(bag.dags["hello"], dg.DAG)
    assert bag.import_errors == {
        str(dags / "k8s.py"): f"{dags / 'k8s.py'}:3: deras --compat airflow: module "
        "'airflow.providers.cncf.kubernetes.operators.pod' is not supported\n"
    }


def test_without_compat_the_same_files_fail_as_plain_python(dags: Path) -> None:
    bag = load_dag_folder(dags)
    assert not bag.dags
    for text in bag.import_errors.values():
        assert "Traceback" in text and "ModuleNotFoundError: No module named 'airflow'" in text


def test_a_definitions_file_importing_dagster_loads_under_compat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "assets.py"
    code.write_text(ASSETS)
    monkeypatch.setenv("DERAS_COMPAT", "dagster")
    [asset] = load_definitions(file=code).definitions.assets
    assert asset.key == dg.AssetKey("numbers")


def test_the_load_error_of_an_unsupported_name_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "ops.py"
    code.write_text("import deras\nfrom dagster import no_such_thing\n")
    monkeypatch.setenv("DERAS_COMPAT", "dagster")
    with pytest.raises(ImportError) as err:
        load_definitions(file=code)
    assert describe_load_error(err.value, "ops.py") == (
        f"error: {code}:2: deras --compat dagster: dagster.no_such_thing is not supported"
    )


def test_a_bad_deras_compat_is_an_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "assets.py"
    code.write_text(ASSETS)
    monkeypatch.setenv("DERAS_COMPAT", "prefect")
    with pytest.raises(ConfigError, match="DERAS_COMPAT: unknown compat mode 'prefect'"):
        load_definitions(file=code)


TASKFLOW_DAG = """
from datetime import datetime

from {source} import dag, task


@dag(schedule=None, start_date=datetime(2025, 1, 1))
def sums():
    @task
    def numbers():
        return [1, 2, 3]

    @task
    def total(xs):
        return sum(xs)

    total(numbers())


sums()  # never assigned: Airflow registers it all the same
"""


def test_under_compat_airflow_a_dag_built_but_never_named_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "sums.py"
    code.write_text(TASKFLOW_DAG.format(source="airflow.sdk"))
    monkeypatch.setenv("DERAS_COMPAT", "airflow")
    assert [d.dag_id for d in load_definitions(file=code).definitions.dags] == ["sums"]
    assert list(load_dag_folder(tmp_path).dags) == ["sums"]


def test_without_compat_a_dag_built_by_a_dag_call_is_found_too(tmp_path: Path) -> None:
    """Airflow >= 2.4 registers DAGs built in a `with` block or by a @dag call; so does deras."""
    code = tmp_path / "sums.py"
    code.write_text(TASKFLOW_DAG.format(source="deras"))
    assert [d.dag_id for d in load_definitions(file=code).definitions.dags] == ["sums"]
    assert list(load_dag_folder(tmp_path).dags) == ["sums"]


def test_without_compat_a_dag_neither_named_nor_entered_is_not_found(tmp_path: Path) -> None:
    code = tmp_path / "bare.py"
    code.write_text("import deras as dg\ndg.DAG('bare', schedule=None)\n")
    assert load_definitions(file=code).definitions.dags == []
    assert not load_dag_folder(tmp_path).dags
