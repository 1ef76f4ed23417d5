"""Every docstring example in deras runs and shows what it says it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import deras

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(deras.__path__, "deras.")
    if ".migrations" not in m.name  # alembic's env.py runs only under alembic
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
