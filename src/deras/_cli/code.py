"""Options shared by commands that load code: ``-f FILE`` / ``-m MODULE`` / ``-d FOLDER`` /
``deras.yaml``, ``--verbose`` and ``--compat``."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .._compat.modes import COMPAT_MODES, ENV_VAR, parse_compat
from .._core.errors import ConfigError
from .._defs.load_error import describe_load_error
from .._defs.loader import LoadedCode, configured_location, load_definitions

_VERBOSE = "deras.verbose"
_DAGS_FOLDER = "deras.dags_folder"


def code_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = verbose_option(fn)
    fn = compat_option(fn)
    fn = dags_folder_option(fn)
    fn = click.option("-m", "--module", "module", help="Python module holding the definitions.")(fn)
    return click.option(
        "-f", "--file", "file", type=click.Path(dir_okay=False), help="Python file holding the definitions."
    )(fn)


def dags_folder_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``-d/--dags-folder``: a folder of DAG files as the code location, kept in the click
    context (``load_code`` reads it) so the commands' signatures stay ``file, module``."""

    def remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            ctx.meta[_DAGS_FOLDER] = value

    return click.option(
        "-d",
        "--dags-folder",
        type=click.Path(file_okay=False),
        expose_value=False,
        callback=remember,
        help="A folder of DAG files (every *.py in it) holding the definitions.",
    )(fn)


def given_dags_folder() -> str | None:
    """The ``-d`` of the current command, if given."""
    ctx = click.get_current_context(silent=True)
    return None if ctx is None else ctx.meta.get(_DAGS_FOLDER)


def code_location(file: str | None, module: str | None) -> dict[str, str]:
    """The code location named by ``-f``, ``-m`` or ``-d`` (exactly one), else by deras.yaml;
    exit 1 when there is none, or several."""
    folder = given_dags_folder()
    given = {k: v for k, v in (("file", file), ("module", module), ("dags_folder", folder)) if v}
    if len(given) > 1:
        flags = {"file": "-f", "module": "-m", "dags_folder": "-d"}
        both = " and ".join(flags[k] for k in given)
        fail(f"give one code location, not {both}: -f FILE, -m MODULE or -d FOLDER")
    location = given or _location_from_yaml()
    if not location:
        fail("no code to load: pass -f FILE, -m MODULE or -d FOLDER (or set code_location in deras.yaml)")
    return location


def verbose_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``-v/--verbose``, kept in the click context (every command that loads code has it)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.meta[_VERBOSE] = True

    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        callback=remember,
        help="Show whole tracebacks, deras's own frames included (and, for the daemon, debug logs).",
    )(fn)


def compat_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--compat airflow|dagster``: the code's Airflow or Dagster imports are served by deras.

    Given, else ``DERAS_COMPAT``, else ``compat:`` in deras.yaml. The choice goes into
    ``DERAS_COMPAT``, where the loader reads it, in this process and in every process it starts
    (run workers, the code server, step processes).
    """

    def apply(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        from_env = ctx.get_parameter_source(str(param.name)) is click.core.ParameterSource.ENVIRONMENT
        if value is not None:
            try:
                modes = parse_compat(value, where=ENV_VAR if from_env else "--compat")
            except ConfigError as err:
                raise click.UsageError(str(err)) from None
        else:
            try:
                modes = _compat_from_yaml()
            except ConfigError as err:  # a bad deras.yaml is a settings error, as for every command
                fail(str(err))
                return
        if modes:
            os.environ[ENV_VAR] = ",".join(sorted(modes))
        else:
            os.environ.pop(ENV_VAR, None)

    return click.option(
        "--compat",
        metavar="|".join(COMPAT_MODES),
        default=None,
        envvar=ENV_VAR,
        show_envvar=True,
        expose_value=False,
        callback=apply,
        help="Serve Airflow or Dagster imports from deras, so their files load unchanged: airflow, "
        "dagster, airflow,dagster or none (default: compat: in deras.yaml).",
    )(fn)


def is_verbose() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(_VERBOSE))


def load_code(file: str | None, module: str | None) -> LoadedCode:
    """Load the code location named on the command line, or by deras.yaml; exit 1 on error."""
    return load_location(code_location(file, module))


def load_location(location: dict[str, str]) -> LoadedCode:
    """Load a code location (as stored on a run); exit 1 on error. A folder's files that do not
    import are logged as warnings, once, and left out."""
    _route_loader_logs()
    source = {k: location[k] for k in ("file", "module", "dags_folder") if k in location}
    try:
        loaded = load_definitions(**source)
    except Exception as err:  # the user's code: a syntax error, an import error, anything it raises
        what = Path(source["file"]).name if "file" in source else str(next(iter(source.values()), "?"))
        click.echo(describe_load_error(err, what, verbose=is_verbose()), err=True)
        sys.exit(1)
    for path, error in loaded.load_errors.items():
        logging.getLogger("deras.loader").warning(
            "%s did not load, its DAGs are left out:\n%s", path, error.rstrip("\n")
        )
    return loaded


def _compat_from_yaml() -> frozenset[str]:
    """``compat:`` of the deras.yaml here, else of $DERAS_HOME's (as for ``code_location``)."""
    from .._instance.settings import read_config

    for folder in (Path.cwd(), Path(os.environ.get("DERAS_HOME", ".deras"))):
        value = read_config(folder / "deras.yaml").get("compat")
        if value is not None:
            return parse_compat(value, where=f"{folder / 'deras.yaml'}: compat")
    return frozenset()


def _location_from_yaml() -> dict[str, str]:
    from .._instance.settings import read_config

    for folder in (Path.cwd(), Path(os.environ.get("DERAS_HOME", ".deras"))):
        loc = read_config(folder / "deras.yaml").get("code_location")
        if isinstance(loc, dict):
            return configured_location(loc, folder)  # relative to the deras.yaml that names it
    return {}


def _route_loader_logs() -> None:
    if logging.getLogger("deras").handlers:
        return  # the command set up its own log (the daemon): the loader's lines go there
    logger = logging.getLogger("deras.loader")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("deras: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
