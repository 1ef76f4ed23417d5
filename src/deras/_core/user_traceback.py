"""A node's failure as its author needs to read it: from the first frame of their code.

A step's traceback starts in deras's run loop and step machinery (``_exec/step.py``, the
executor, the debugger's wrapper); those frames are the same for every failure and push the
user's lines down the page. They are left out when the user's code is on the stack at all;
a failure raised inside deras alone (no user frame) keeps every frame, since then they are
where the problem is.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from types import TracebackType

_DERAS_DIR = str(Path(__file__).parents[1]) + os.sep


def _is_deras(tb: TracebackType) -> bool:
    return tb.tb_frame.f_code.co_filename.startswith(_DERAS_DIR)


def format_user_traceback(err: BaseException) -> str:
    """``traceback.format_exception(err)``, starting at the first frame outside deras."""
    tb = err.__traceback__
    while tb is not None and _is_deras(tb):
        tb = tb.tb_next
    if tb is None:  # deras's own failure: all of it
        return "".join(traceback.format_exception(err))
    return "".join(traceback.format_exception(type(err), err, tb))
