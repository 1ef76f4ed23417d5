"""A folder of DAG files as a code location: every file's DAGs; a file that does not import is
left out, with its error, and does not stop the others."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from deras._core.errors import DerasError
from deras._defs.code_cache import CodeCache
from deras._defs.loader import load_definitions

CONTEXT_BLOCK = """
    import deras as dg

    with dg.DAG("first", schedule=None):
        dg.EmptyOperator(task_id="a")
"""
IN_DEFINITIONS = """
    import deras as dg

    def _build():
        with dg.DAG("second", schedule=None, auto_register=False) as dag:
            dg.EmptyOperator(task_id="b")
        return dag

    defs = dg.Definitions(dags=[_build()])
"""
BROKEN = """
    import deras as dg

    raise RuntimeError("this file is broken")
"""


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture
def dags(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    write(folder, "first.py", CONTEXT_BLOCK)
    write(folder, "nested/second.py", IN_DEFINITIONS)
    write(folder, "broken.py", BROKEN)
    write(folder, "_helpers.py", BROKEN)  # not a DAG file: never imported
    return folder


def test_a_folder_gives_the_dags_of_every_file_but_the_broken_one(dags: Path) -> None:
    loaded = load_definitions(dags_folder=dags)
    assert sorted(d.dag_id for d in loaded.definitions.dags) == ["first", "second"]
    assert list(loaded.load_errors) == [str((dags / "broken.py").resolve())]
    assert "RuntimeError: this file is broken" in loaded.load_errors[str((dags / "broken.py").resolve())]


def test_a_folders_location_is_its_absolute_path(dags: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(dags.parent)
    loaded = load_definitions(dags_folder="dags")
    assert loaded.location == {"dags_folder": str(dags.resolve())}
    assert load_definitions(**loaded.location).definitions.dags  # the location loads it again


def test_a_file_and_a_folder_together_are_an_error(dags: Path) -> None:
    with pytest.raises(DerasError, match=r"exactly one of a file .* or a DAG folder"):
        load_definitions(file=dags / "first.py", dags_folder=dags)


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DerasError, match="no such folder"):
        load_definitions(dags_folder=tmp_path / "nowhere")


def test_a_worker_sees_a_dag_file_added_to_the_folder(dags: Path) -> None:
    code = CodeCache()
    location = {"dags_folder": str(dags)}
    assert sorted(d.dag_id for d in code.definitions(location).dags) == ["first", "second"]
    added = write(dags, "third.py", CONTEXT_BLOCK.replace('"first"', '"third"'))
    later = max(p.stat().st_mtime for p in dags.rglob("*.py")) + 10
    os.utime(added, (later, later))  # a newer file, whatever the clock's resolution
    assert sorted(d.dag_id for d in code.definitions(location).dags) == ["first", "second", "third"]
