"""The packages of deras form layers: a lower layer never imports an upper one.

Every import counts, lazy ones inside functions and ``TYPE_CHECKING`` ones included, so an
upward call cannot hide in a function body. The order, lowest first (packages of one rank may
use each other; only imports that go up are refused):

    _core, _compat < _graph, _storage < _defs < _dags, _io < _plan < _exec < _celery < _snapshot
    < _instance < _daemon < _code_server, _web, _cli, deras/__init__.py, __main__, celery.py,
    duckdb.py

See docs/internals.md ("Layers").
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "deras"

RANKS: dict[str, int] = {
    "_core": 0,
    "_compat": 0,  # serves Airflow/Dagster imports; deras's names looked up on `deras` when asked
    "_graph": 1,
    "_storage": 1,
    "_defs": 2,
    "_dags": 3,
    "_io": 3,
    "_plan": 4,
    "_exec": 5,
    "_celery": 6,
    "_snapshot": 7,
    "_instance": 8,
    "_daemon": 9,
}
TOP = 10  # _code_server, _web, _cli, deras/__init__.py, __main__, celery.py, duckdb.py

# (importing module, imported unit) -> why this one upward import is allowed.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    ("deras._dags.dag", "_instance"): (
        "DAG.test() is a convenience facade (_instance/dag_test.py): it runs the DAG on an "
        "in-memory DerasInstance, imported lazily so that defining a DAG never loads execution"
    ),
    ("deras._defs.op_job", "_instance"): (
        "job.execute_in_process() is the same kind of facade as DAG.test() (Dagster's API has it "
        "on the job): _instance/job_execution.py, imported lazily when it is called"
    ),
}


def _unit(dotted: str) -> str | None:
    """The layer unit of a `deras...` module name, or None for modules outside deras."""
    parts = dotted.split(".")
    if parts[0] != "deras":
        return None
    if len(parts) == 1:
        return "deras"
    return parts[1]


def _rank(unit: str) -> int:
    return RANKS.get(unit, TOP)


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, module: str | None = None) -> list[tuple[str, int]]:
    """Every module this file imports (absolute names) with its line, lazy imports included."""
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from deras import _exec` names a unit through the package itself.
            if target == "deras":
                found.extend((f"deras.{alias.name}", node.lineno) for alias in node.names)
    return found


def upward_imports() -> list[str]:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        own = _unit(module)
        assert own is not None
        for target, line in _imports(path):
            unit = _unit(target)
            if unit is None or unit in (own, "deras"):
                continue
            if _rank(unit) > _rank(own) and (module, unit) not in ALLOWED_UPWARD:
                problems.append(f"{path.relative_to(SRC.parent)}:{line} {own} -> {target}")
    return problems


def test_no_module_imports_a_higher_layer() -> None:
    problems = upward_imports()
    assert not problems, "imports that go up the layers:\n" + "\n".join(problems)


def test_the_scan_sees_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    source = tmp_path / "step.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from .event_writer import EventWriter\n"
        "if TYPE_CHECKING:\n"
        "    from .._instance.instance import DerasInstance\n"
        "def run():\n"
        "    from .._daemon import launcher\n"
        "    import deras._cli.main\n"
        "    from deras import _web\n"
    )
    found = {name for name, _ in _imports(source, "deras._exec.step")}
    assert {
        "deras._exec.event_writer",
        "deras._instance.instance",
        "deras._daemon",
        "deras._cli.main",
        "deras._web",
    } <= found


def test_every_allowed_upward_import_still_exists() -> None:
    # An allow-list entry whose import is gone would silently allow a later one.
    used = set()
    for path in SRC.rglob("*.py"):
        module = _module_name(path)
        for target, _ in _imports(path):
            unit = _unit(target)
            if unit is not None and (module, unit) in ALLOWED_UPWARD:
                used.add((module, unit))
    assert used == set(ALLOWED_UPWARD)


def test_every_package_has_a_place_in_the_order() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and p.name.startswith("_")}
    top = {"_cli", "_code_server", "_web", "__pycache__"}
    assert packages - top <= set(RANKS), "add the new package to RANKS"
