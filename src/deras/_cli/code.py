"""Options shared by commands that load code: ``-f FILE`` / ``-m MODULE`` / ``deras.yaml``."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .._core.errors import DerasError
from .._defs.loader import LoadedCode, load_definitions


def code_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("-m", "--module", "module", help="Python module holding the definitions.")(fn)
    return click.option(
        "-f", "--file", "file", type=click.Path(dir_okay=False), help="Python file holding the definitions."
    )(fn)


def load_code(file: str | None, module: str | None) -> LoadedCode:
    """Load the code location named on the command line, or by deras.yaml; exit 1 on error."""
    _route_loader_logs()
    if not file and not module:
        location = _location_from_yaml()
        file, module = location.get("file"), location.get("module")
    if not file and not module:
        fail("no code to load: pass -f FILE or -m MODULE (or set code_location in deras.yaml)")
    try:
        return load_definitions(file=file, module=module)
    except DerasError as err:
        fail(str(err))
    except Exception:
        click.echo(traceback.format_exc(), err=True)
        fail(f"importing {file or module} raised an error (traceback above)")
    raise AssertionError("unreachable")


def _location_from_yaml() -> dict[str, str]:
    from .._instance.settings import read_config

    for folder in (Path.cwd(), Path(os.environ.get("DERAS_HOME", ".deras"))):
        loc = read_config(folder / "deras.yaml").get("code_location")
        if isinstance(loc, dict):
            out = {k: str(v) for k, v in loc.items()}
            if "file" in out:  # relative to the deras.yaml that names it
                out["file"] = str((folder / out["file"]).resolve())
            return out
    return {}


def _route_loader_logs() -> None:
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
