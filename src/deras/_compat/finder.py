"""Serving Airflow's and Dagster's module paths to user code, as modules of deras's names.

A finder first on ``sys.meta_path`` claims the namespaces of the projects turned on
(``airflow``; ``dagster`` and ``dagster_*``), so deras's names win over an installed Airflow or
Dagster, and only while compat is on. Each module it serves looks a name up on the public
package ``deras`` the first time the code asks for it, so names deras adds later are served
without a change here.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import site
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from .airflow_modules import AIRFLOW_MODULES
from .dagster_modules import DAGSTER_MODULES, EVERY_DERAS_NAME
from .modes import ENV_VAR, parse_compat
from .unsupported import UnsupportedImport


def apply_environment() -> None:
    """Serve what ``DERAS_COMPAT`` names (nothing when it is unset) to the code imported next."""
    use_compat(parse_compat(os.environ.get(ENV_VAR), where=ENV_VAR))


def use_compat(modes: frozenset[str]) -> None:
    """Serve the namespaces of ``modes`` from now on; an empty set turns compat off."""
    current = next((f for f in sys.meta_path if isinstance(f, CompatFinder)), None)
    if current is not None and current.modes == modes:
        return
    if current is not None:
        sys.meta_path.remove(current)
        # Served modules stay cached in sys.modules otherwise: `import airflow` would still
        # find deras's after compat is off, or a namespace just turned off.
        for name, module in list(sys.modules.items()):
            if isinstance(module, ForeignModule):
                del sys.modules[name]
    if modes:
        sys.meta_path.insert(0, CompatFinder(modes))


def compat_modes() -> frozenset[str]:
    """The modes served in this process now (empty: compat is off)."""
    current = next((f for f in sys.meta_path if isinstance(f, CompatFinder)), None)
    return current.modes if current is not None else frozenset()


class ForeignModule(ModuleType):
    """A module of Airflow or Dagster as deras serves it: its names resolve on first use."""

    def __init__(self, name: str, finder: CompatFinder) -> None:
        super().__init__(name, f"Served by deras --compat {finder.mode_of(name)}.")
        self.__path__: list[str] = []  # a package: `import airflow.operators.bash` goes on from here
        self.__deras_finder__ = finder

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)  # introspection (`__file__`, `__wrapped__`) finds nothing here
        finder: CompatFinder = self.__deras_finder__
        deras_name = finder.deras_name(self.__name__, attr)
        if deras_name is not None:
            value = _deras_value(deras_name)
            if value is not None:
                setattr(self, attr, value)  # later lookups skip __getattr__
                return value
        # An AttributeError, so that `getattr(module, name, None)` works as on any module. At
        # `from module import name` the import system then asks for a submodule `module.name`,
        # which the finder refuses with an UnsupportedImport naming it.
        raise AttributeError(
            f"deras --compat {finder.mode_of(self.__name__)}: {self.__name__}.{attr} is not supported"
        )

    def __dir__(self) -> list[str]:
        finder: CompatFinder = self.__deras_finder__
        return sorted(set(super().__dir__()) | set(finder.names_of(self.__name__)))


class CompatFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads the served modules; refuses every other module of a served namespace."""

    def __init__(self, modes: frozenset[str]) -> None:
        self.modes = modes
        tables = [AIRFLOW_MODULES] if "airflow" in modes else []
        tables += [DAGSTER_MODULES] if "dagster" in modes else []
        self._modules: dict[str, Mapping[str, str]] = {k: v for table in tables for k, v in table.items()}
        # Parents of served modules (`airflow.providers.standard`) are served, empty.
        self._parents = {
            ".".join(parts[:i])
            for path in self._modules
            for parts in [path.split(".")]
            for i in range(1, len(parts))
        }

    def __repr__(self) -> str:  # what a served module's repr shows as its loader
        return f"deras --compat {','.join(sorted(self.modes))}"

    def mode_of(self, fullname: str) -> str | None:
        """The mode whose namespace ``fullname`` is in, if it is turned on."""
        top = fullname.partition(".")[0]
        if top == "airflow" and "airflow" in self.modes:
            return "airflow"
        if (top == "dagster" or top.startswith("dagster_")) and "dagster" in self.modes:
            return "dagster"
        return None

    def serves(self, fullname: str) -> bool:
        return fullname in self._modules or fullname in self._parents

    def deras_name(self, module: str, name: str) -> str | None:
        """The deras name behind ``module.name``, or None if the module does not offer it."""
        found = self._modules.get(module, {}).get(name)
        if found is None and module in EVERY_DERAS_NAME and name in _deras_public_names():
            return name
        return found

    def names_of(self, module: str) -> list[str]:
        names = list(self._modules.get(module, {}))
        return names + (_deras_public_names() if module in EVERY_DERAS_NAME else [])

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        mode = self.mode_of(fullname)
        if mode is None:
            return None
        if self.serves(fullname):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if fullname.partition(".")[0] not in {"airflow", "dagster"} and self._users_own(fullname):
            return None
        if _in_from_import():  # `from parent import name`: a name or a submodule, either way missing
            raise UnsupportedImport(f"deras --compat {mode}: {fullname} is not supported", name=fullname)
        requested = _requested_module(fullname)
        raise UnsupportedImport(
            f"deras --compat {mode}: module {requested!r} is not supported", name=requested
        )

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return ForeignModule(spec.name, self)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: names resolve when asked for."""

    def _users_own(self, fullname: str) -> bool:
        """Whether ``fullname`` (in ``dagster_*``) is the user's own package, such as a project
        named ``dagster_university``: found by another finder outside the installed packages."""
        top = fullname.partition(".")[0]
        if "." in fullname:
            loaded = sys.modules.get(top)
            return loaded is not None and not isinstance(loaded, ForeignModule)
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, None)
            if spec is not None:
                return not _is_installed(spec)
        return False


def _deras_value(name: str) -> Any:
    """deras's public ``name``, or None when deras has no such name (yet)."""
    return getattr(importlib.import_module("deras"), name, None)


def _deras_public_names() -> list[str]:
    return list(importlib.import_module("deras").__all__)


def _is_installed(spec: importlib.machinery.ModuleSpec) -> bool:
    """Whether the module was installed into site-packages (an integration library), as opposed
    to code in the user's project folder (editable installs included)."""
    places = list(spec.submodule_search_locations or []) + ([spec.origin] if spec.origin else [])
    paths = sysconfig.get_paths()
    roots = {paths["purelib"], paths["platlib"], *site.getsitepackages(), site.getusersitepackages()}
    roots_sep = tuple(os.path.join(root, "") for root in roots)
    return any(os.path.abspath(place).startswith(roots_sep) for place in places)


def _in_from_import() -> bool:
    """Whether the import system is looking for ``name`` of ``from package import name`` as a
    submodule of the package (it does when the package has no attribute ``name``)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_handle_fromlist":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _requested_module(fullname: str) -> str:
    """The module the import statement names: importing ``a.b.c`` asks for ``a.b`` first, and
    the message should name ``a.b.c``, what the user wrote. The import system's own frames
    still hold it."""
    frame = sys._getframe(1)
    requested = fullname
    while frame is not None:
        if frame.f_code.co_name == "_find_and_load":
            name = frame.f_locals.get("name")
            if isinstance(name, str) and name.startswith(fullname + ".") and len(name) > len(requested):
                requested = name
        frame = frame.f_back  # type: ignore[assignment]
    return requested
