"""Loading a code location (a file or a module) into ``Definitions``."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .._compat.built_dags import collecting_built_dags
from .._compat.finder import apply_environment as apply_compat
from .._core.errors import DefinitionError, DerasError
from .asset import AssetsDefinition
from .check import AssetChecksDefinition
from .check_spec import MultiAssetChecksDefinition
from .dag_registry import forget_module, registered_dags
from .definitions import Definitions, LazyDefinitions
from .job import AssetJob
from .schedule import ScheduleDefinition
from .sensor import SensorDefinition

log = logging.getLogger("deras.loader")
_BUILT_DAGS = "__deras_built_dags__"  # on a user module: the DAGs it built, named or not


@dataclass(slots=True)
class LoadedCode:
    definitions: Definitions
    location: dict[str, str]  # how to load it again: {"file": abs path} or {"module": name}
    module: ModuleType


def load_definitions(
    file: str | os.PathLike[str] | None = None, module: str | None = None, working_dir: str | None = None
) -> LoadedCode:
    """Import a file or module and find its definitions.

    In order: the ``@definitions`` function, else a module-level ``Definitions`` object, else
    every asset, check, job, schedule, sensor and DAG defined at module level. Module-level
    checks whose asset is loaded are added even when ``Definitions`` does not list them (a log
    line says so).
    """
    if (file is None) == (module is None):
        raise DerasError("give exactly one of a file (-f) or a module (-m)")
    if working_dir and working_dir not in sys.path:
        sys.path.insert(0, working_dir)
    if file is not None:
        mod = import_file(Path(file))
        location = {"file": str(Path(file).resolve())}
    else:
        assert module is not None
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        mod = import_module(module)
        location = {"module": module, "working_dir": os.getcwd()}
    return LoadedCode(definitions_from_module(mod), location, mod)


def module_values(mod: ModuleType) -> list[Any]:
    """The module's variables, then the DAGs it created without keeping them: those built in a
    ``with DAG(...):`` block or by a ``@dag`` call (as Airflow >= 2.4 finds them), and under
    ``--compat airflow`` every DAG its import built (see _compat/built_dags.py)."""
    values = list(vars(mod).values())
    held = {id(v) for v in values}
    for dag in [*registered_dags(mod.__name__), *getattr(mod, _BUILT_DAGS, ())]:
        if id(dag) not in held:
            held.add(id(dag))
            values.append(dag)
    return values


def definitions_from_module(mod: ModuleType) -> Definitions:
    values = module_values(mod)
    lazy = [v for v in values if isinstance(v, LazyDefinitions)]
    built = [v for v in values if isinstance(v, Definitions)]
    if len(lazy) > 1 or (not lazy and len(built) > 1):
        raise DefinitionError(
            f"{mod.__file__} holds several definitions objects; keep one (@dg.definitions or dg.Definitions)"
        )
    if lazy:
        defs = lazy[0]()
    elif built:
        defs = built[0]
    else:
        return Definitions(
            assets=[v for v in values if isinstance(v, AssetsDefinition)],
            asset_checks=[
                v for v in values if isinstance(v, AssetChecksDefinition | MultiAssetChecksDefinition)
            ],
            jobs=[v for v in values if isinstance(v, AssetJob)],
            schedules=[v for v in values if isinstance(v, ScheduleDefinition)],
            sensors=[v for v in values if isinstance(v, SensorDefinition)],
            dags=[v for v in values if callable(getattr(v, "graph_nodes", None)) and not isinstance(v, type)],
        )
    return _with_module_checks(defs, values)


def _with_module_checks(defs: Definitions, values: list[Any]) -> Definitions:
    loaded_keys = {k for a in defs.assets for k in a.keys}
    present = {c.node_id for c in defs.asset_checks}
    extra = [
        v
        for v in values
        if isinstance(v, AssetChecksDefinition) and v.asset_key in loaded_keys and v.node_id not in present
    ]
    if not extra:
        return defs
    for check in extra:
        log.info(
            "including check %s on %s (defined at module level, not listed in Definitions)",
            check.name,
            check.asset_key,
        )
    return Definitions(
        assets=defs.assets,
        asset_checks=[*defs.asset_checks, *extra],
        resources=defs.resources,
        jobs=defs.jobs,
        schedules=defs.schedules,
        sensors=defs.sensors,
        dags=defs.dags,
        executor=defs.executor,
    )


def import_module(name: str) -> ModuleType:
    """``importlib.import_module``, with a clear error when the module itself is not found
    (a module it imports that is missing stays the user's error, with its traceback)."""
    apply_compat()
    try:
        with collecting_built_dags() as built:
            mod = importlib.import_module(name)
        if built:
            setattr(mod, _BUILT_DAGS, built)
        return mod
    except ModuleNotFoundError as err:
        if err.name is None or not (name == err.name or name.startswith(err.name + ".")):
            raise
        raise DerasError(
            f"no module named {name!r} (the import path has the current directory, {os.getcwd()}): "
            "run deras from the folder that holds it, or pass -f FILE"
        ) from None


def import_file(path: Path) -> ModuleType:
    path = path.resolve()
    if not path.is_file():
        raise DerasError(f"no such file: {path}")
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    apply_compat()  # DERAS_COMPAT: Airflow/Dagster imports served by deras (set by --compat)
    name = f"deras_code_{path.stem}_{abs(hash(str(path))) % 10**8}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DerasError(f"cannot import {path}: not a Python file")
    mod = importlib.util.module_from_spec(spec)
    forget_module(name)
    sys.modules[name] = mod
    try:
        with collecting_built_dags() as built:
            spec.loader.exec_module(mod)
        if built:
            setattr(mod, _BUILT_DAGS, built)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return mod
