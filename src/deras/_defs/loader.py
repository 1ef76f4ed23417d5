"""Loading a code location (a file, a module or a folder of DAG files) into ``Definitions``."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .._compat.built_dags import collecting_built_dags
from .._compat.finder import apply_environment as apply_compat
from .._core.errors import DefinitionError, DerasError
from .asset import AssetsDefinition
from .check import AssetChecksDefinition
from .check_spec import MultiAssetChecksDefinition
from .dag_folder import is_dag
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
    # how to load it again: {"file": abs path}, {"module": name} or {"dags_folder": abs path}
    location: dict[str, str]
    module: ModuleType | None  # None for a folder: each file is a module of its own
    load_errors: dict[str, str] = field(default_factory=dict)  # a folder's file -> why it did not load


def load_definitions(
    file: str | os.PathLike[str] | None = None,
    module: str | None = None,
    working_dir: str | None = None,
    dags_folder: str | os.PathLike[str] | None = None,
) -> LoadedCode:
    """Import a file, a module or a folder of DAG files and find its definitions.

    A file or module gives, in order: the ``@definitions`` function, else a module-level
    ``Definitions`` object, else every asset, check, job, schedule, sensor and DAG defined at
    module level. Module-level checks whose asset is loaded are added even when ``Definitions``
    does not list them (a log line says so).

    A folder gives the DAGs of every file in it (see ``dag_folder.dag_files``); a file that does
    not import is left out, with its error in ``load_errors``, and the others still load.
    """
    if sum(x is not None for x in (file, module, dags_folder)) != 1:
        raise DerasError("give exactly one of a file (-f), a module (-m) or a DAG folder (-d)")
    if working_dir and working_dir not in sys.path:
        sys.path.insert(0, working_dir)
    if dags_folder is not None:
        from .dag_folder import load_dag_folder

        folder = Path(dags_folder).resolve()
        bag = load_dag_folder(folder)
        return LoadedCode(
            Definitions(dags=list(bag.dags.values())), {"dags_folder": str(folder)}, None, bag.import_errors
        )
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


def configured_location(location: dict[str, Any], folder: Path) -> dict[str, str]:
    """deras.yaml's ``code_location``, with its ``file`` or ``dags_folder`` taken relative to
    ``folder``, the deras.yaml's own."""
    out = {k: str(v) for k, v in location.items()}
    for key in ("file", "dags_folder"):
        if key in out:
            out[key] = str((folder / out[key]).resolve())
    return out


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
            dags=[v for v in values if is_dag(v)],
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
