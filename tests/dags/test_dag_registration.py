"""A DAG built at module level is found without a variable holding it, as in Airflow >= 2.4."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from deras._dags.folder import load_dag_folder
from deras._defs.loader import load_definitions

UNASSIGNED = """
    from datetime import datetime
    import deras as dg

    with dg.DAG("context_block", schedule=None):
        dg.EmptyOperator(task_id="a")

    @dg.dag(schedule=None)
    def decorated():
        @dg.task
        def b():
            return 1
        b()

    decorated()

    def factory(name):
        with dg.DAG(name, schedule=None):
            dg.EmptyOperator(task_id="c")

    for name in ("made_1", "made_2"):
        factory(name)

    with dg.DAG("opted_out", schedule=None, auto_register=False):
        dg.EmptyOperator(task_id="d")

    kept = dg.DAG("assigned", schedule=None)
    dg.EmptyOperator(task_id="e", dag=kept)
"""

def one_dag(dag_id: str) -> str:
    return f'import deras as dg\nwith dg.DAG("{dag_id}", schedule=None):\n    pass\n'


FOUND = ["assigned", "context_block", "decorated", "made_1", "made_2"]


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def test_a_folder_finds_dags_created_without_assignment(tmp_path: Path) -> None:
    write(tmp_path, "unassigned.py", UNASSIGNED)
    bag = load_dag_folder(tmp_path)
    assert bag.import_errors == {}
    assert sorted(bag.dags) == FOUND
    assert bag.get_dag("decorated").get_task("b") is not None


def test_a_code_location_finds_dags_created_without_assignment(tmp_path: Path) -> None:
    path = write(tmp_path, "unassigned_location.py", UNASSIGNED)
    dags = load_definitions(file=path).definitions.dags
    assert sorted(d.dag_id for d in dags) == FOUND


def test_a_dag_file_records_where_the_dag_was_created(tmp_path: Path) -> None:
    path = write(tmp_path, "where.py", UNASSIGNED)
    bag = load_dag_folder(tmp_path)
    assert bag.get_dag("decorated").fileloc == str(path.resolve())


def test_a_dag_built_in_another_module_is_not_this_files(tmp_path: Path) -> None:
    write(tmp_path, "_shared_dags.py", one_dag("shared"))
    write(tmp_path, "user.py", "import _shared_dags  # noqa: F401\n")
    assert sorted(load_dag_folder(tmp_path).dags) == []


def test_a_dag_file_changed_and_loaded_again_has_only_its_new_dags(tmp_path: Path) -> None:
    path = write(tmp_path, "changing.py", one_dag("first"))
    assert [d.dag_id for d in load_definitions(file=path).definitions.dags] == ["first"]
    for name in [n for n in sys.modules if n.startswith("deras_code_changing")]:
        del sys.modules[name]  # as a code reload does
    write(tmp_path, "changing.py", one_dag("second"))
    assert [d.dag_id for d in load_definitions(file=path).definitions.dags] == ["second"]
