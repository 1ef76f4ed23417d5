"""Calling user code (schedule and sensor functions) from the daemon, with a time limit.

A Python thread cannot be killed: a function that hangs past its limit is abandoned (its
thread keeps running, the tick fails with "did not return within") and later calls run on
threads of their own, so one stuck sensor cannot starve the others. Each call runs on a new
daemon thread: an abandoned one must not keep the daemon's process alive when it stops (a
thread pool's threads are joined at interpreter exit). Evaluations are short by design; work
that may take long belongs in a run, which executes in a worker process.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from .._core.errors import DerasError


class UserCodeTimeout(DerasError):
    """A schedule or sensor function did not return within its time limit."""


class UserCodeExit(DerasError):
    """A schedule or sensor function raised SystemExit or KeyboardInterrupt (not the daemon's to obey)."""


class UserCodeRunner:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds

    def call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on a thread of its own; raises what it raised, or UserCodeTimeout."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                result = fn(*args)
            except Exception as err:
                future.set_exception(err)
            except BaseException as err:  # sys.exit() in a sensor must not stop the daemon
                future.set_exception(UserCodeExit(f"{what} raised {type(err).__name__}: {err}"))
            else:
                future.set_result(result)

        threading.Thread(target=run, name=f"deras-eval {what}", daemon=True).start()
        try:
            return future.result(timeout=self.timeout)
        except TimeoutError:
            if future.done():
                raise  # the function's own TimeoutError (a network call's, say)
            raise UserCodeTimeout(f"{what} did not return within {self.timeout:g} s") from None

    def shutdown(self) -> None:
        """Nothing to stop: abandoned calls end with the process."""
