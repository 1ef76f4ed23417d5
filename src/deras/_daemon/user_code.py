"""Calling user code (schedule and sensor functions) from the daemon, with a time limit.

A Python thread cannot be killed: a function that hangs past its limit is abandoned (its
thread keeps running, the tick fails with "timed out") and later calls get a fresh thread
pool, so one stuck sensor cannot starve the others. Evaluations are short by design; work that
may take long belongs in a run, which executes in a worker process.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from .._core.errors import DerasError


class UserCodeTimeout(DerasError):
    """A schedule or sensor function did not return within its time limit."""


class UserCodeRunner:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self._pool = self._new_pool()

    @staticmethod
    def _new_pool() -> concurrent.futures.ThreadPoolExecutor:
        return concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="deras-eval")

    def call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on a worker thread; raises what it raised, or UserCodeTimeout."""
        future = self._pool.submit(fn, *args)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            raise UserCodeTimeout(f"{what} did not return within {self.timeout:g} s") from None

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
