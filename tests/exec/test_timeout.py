"""Timeouts stop attempts in the main thread and in worker threads alike."""

from __future__ import annotations

import threading
import time

import pytest

from deras._core.errors import StepTimeoutError
from deras._exec.timeout import deadline


def test_deadline_interrupts_sleep_in_main_thread(no_hang) -> None:
    with (
        no_hang(20),
        pytest.raises(StepTimeoutError, match=r"timed out after 0\.1 s"),
        deadline(0.1, "asset a"),
    ):
        time.sleep(30)


def test_deadline_interrupts_python_loop_in_other_thread() -> None:
    outcome: list[str] = []

    def work() -> None:
        try:
            with deadline(0.1, "asset b"):
                while True:
                    sum(range(100))
        except StepTimeoutError as err:
            outcome.append(str(err))

    t = threading.Thread(target=work)
    t.start()
    t.join(10)
    assert outcome == ["asset b timed out after 0.1 s (timeout=0.1)"]


def test_no_deadline_leaves_the_block_alone() -> None:
    with deadline(None, "asset c"):
        time.sleep(0.01)
