"""Stopping an attempt that runs past its ``timeout=``."""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .._core.errors import StepTimeoutError


@contextmanager
def deadline(seconds: float | None, what: str) -> Iterator[None]:
    """Raise ``StepTimeoutError`` inside the block once ``seconds`` have passed.

    In the main thread a real-time interval timer interrupts even ``time.sleep``; in other
    threads an asynchronous exception is raised at the next bytecode boundary.
    """
    if not seconds:
        yield
        return
    message = f"{what} timed out after {seconds:g} s (timeout={seconds:g})"
    if threading.current_thread() is threading.main_thread():

        def on_alarm(signum: int, frame: Any) -> None:
            raise StepTimeoutError(message)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    target = threading.get_ident()
    done = threading.Event()

    def fire() -> None:
        if not done.is_set():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(target), ctypes.py_object(StepTimeoutError)
            )

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except StepTimeoutError:
        raise StepTimeoutError(message) from None
    finally:
        done.set()
        timer.cancel()
