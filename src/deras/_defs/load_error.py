"""A load error as the user needs to see it: the frames of their code, not deras's or importlib's.

Importing a definitions file goes through the loader and importlib before it reaches the
user's first line; those frames say nothing about the mistake, so they are left out unless
asked for (``--verbose`` on the command line).
"""

from __future__ import annotations

import importlib
import os
import traceback
from pathlib import Path

from .._compat.unsupported import UnsupportedImport
from .._core.errors import DerasError

# deras's package and importlib's: frames there are how the file was loaded, not what it did.
_INTERNAL_DIRS = (str(Path(__file__).parents[1]) + os.sep, str(Path(importlib.__file__).parent) + os.sep)


def _is_internal(filename: str) -> bool:
    return filename.startswith(_INTERNAL_DIRS) or filename.startswith("<frozen ")


def _strip(te: traceback.TracebackException, seen: set[int]) -> bool:
    """Drop internal frames from ``te`` and the exceptions chained to it; True if any went."""
    if id(te) in seen:
        return False
    seen.add(id(te))
    kept = [frame for frame in te.stack if not _is_internal(frame.filename)]
    dropped = len(kept) != len(te.stack)
    te.stack = traceback.StackSummary.from_list(kept)
    for chained in (te.__cause__, te.__context__):
        if chained is not None:
            dropped = _strip(chained, seen) or dropped
    return dropped


def user_traceback(err: BaseException) -> str:
    """``err``'s traceback without deras's and importlib's frames; for a deras error, the user's
    lines that raised it and its message (the message says what is wrong, and how to fix it)."""
    te, _ = _without_internals(err)
    if isinstance(err, UnsupportedImport):
        return _one_line(te, err) + "\n"
    if isinstance(err, DerasError):
        return "".join(te.stack.format()) + f"{err}\n"
    return "".join(te.format())


def describe_load_error(err: BaseException, what: str, *, verbose: bool = False) -> str:
    """The text to show when importing ``what`` (a file or module) raised ``err``.

    The traceback of the user's code (every frame with ``verbose``), then one ``error:`` line.
    A deras error (a definition error, a missing file) is its message, after the lines of the
    user's code that raised it, if any.
    """
    if verbose:
        shown = "".join(traceback.format_exception(err))
        return f"{shown}error: could not load {what}: {_summary(err)}"
    te, dropped = _without_internals(err)
    if isinstance(err, UnsupportedImport):
        return f"error: {_one_line(te, err)}"
    if isinstance(err, DerasError):
        return "".join(te.stack.format()) + f"error: {err}"
    hint = " (deras's own frames are hidden: --verbose shows them)" if dropped else ""
    return f"{''.join(te.format())}error: could not load {what}: {_summary(err)}{hint}"


def _one_line(te: traceback.TracebackException, err: UnsupportedImport) -> str:
    """``FILE:LINE: message`` for an import ``--compat`` does not serve: the message says it all,
    and the line that imports it is where to look."""
    if not te.stack:
        return str(err)
    frame = te.stack[-1]
    return f"{frame.filename}:{frame.lineno}: {err}"


def _without_internals(err: BaseException) -> tuple[traceback.TracebackException, bool]:
    te = traceback.TracebackException.from_exception(err)
    return te, _strip(te, set())


def _summary(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
