"""``--json`` commands that run user code: stdout carries the JSON and nothing else."""

from __future__ import annotations

import os
import sys
from typing import TextIO

import click


def reserve_stdout_for_json() -> TextIO:
    """The stream to print the command's JSON to; until the command ends, all else goes to stderr.

    User code may print at import, in resource teardown, or from a child process: whatever it
    writes to fd 1 or ``sys.stdout`` now reaches stderr, so a script can ``json.loads`` stdout.
    """
    sys.stdout.flush()
    json_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    saved_stream = sys.stdout
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def restore() -> None:
        sys.stdout.flush()
        sys.stdout = saved_stream
        json_out.flush()
        os.dup2(json_out.fileno(), 1)
        json_out.close()

    click.get_current_context().call_on_close(restore)
    return json_out
