"""How an executor named in the definitions (``executor="multiprocess"``) gets built.

The definitions check names where they are written (``_defs/executor_choice.py``), but the
executors live above them (``_exec``, ``deras.celery``), so ``deras/__init__.py`` registers
the builder here when deras is imported: before any definition can name one, since every
``deras.*`` import runs the package first. It sits in ``_core`` so that ``import deras`` loads
no definition layer (a process that only talks to code servers never does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (name, options) -> the executor; raises TypeError for options it does not take.
ExecutorBuilder = Callable[[str, dict[str, Any]], Any]
_builder: list[ExecutorBuilder] = []


def set_executor_builder(builder: ExecutorBuilder) -> None:
    """Register what builds the named executors (``deras/__init__.py`` does)."""
    _builder[:] = [builder]


def build_executor(name: str, options: dict[str, Any]) -> Any:
    if not _builder:
        raise RuntimeError("no executor builder registered: import deras first")
    return _builder[0](name, options)
