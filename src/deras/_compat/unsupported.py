"""The error of an import that ``--compat`` does not serve: one line naming what is missing."""

from __future__ import annotations


class UnsupportedImport(ImportError):
    """A module of Airflow or Dagster, or a name in one, that deras does not provide.

    An ``ImportError`` so that ``try: import x / except ImportError`` in user code behaves as
    with a package that is not installed. Not a ``ModuleNotFoundError``: the import system
    silently drops those when ``from package import name`` tries ``name`` as a submodule, and
    the message would be lost.
    """
