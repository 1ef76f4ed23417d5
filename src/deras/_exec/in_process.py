"""The in-process executor: each step runs in this process, one at a time, in plan order."""

from __future__ import annotations

import time

from .executor import RunSetup
from .step import execute_step
from .step_scope import StepScope
from .step_types import StepOutcome, StepSpec


class InProcessExecutor:
    """Run every step in this process, one after another (the default executor).

    >>> InProcessExecutor().name
    'in_process'
    """

    name = "in_process"

    def start(self, setup: RunSetup) -> InProcessSteps:
        return InProcessSteps(setup.scope)

    def __repr__(self) -> str:
        return "InProcessExecutor()"


class InProcessSteps:
    """Steps of one run executed as they are submitted: the loop learns each outcome before
    it submits the next, so nodes run in the plan's order."""

    def __init__(self, scope: StepScope) -> None:
        self._scope = scope
        self._done: list[StepOutcome] = []

    def has_room(self) -> bool:
        return not self._done

    def submit(self, spec: StepSpec) -> None:
        self._done.append(execute_step(self._scope, spec))

    def poll(self, timeout: float | None) -> list[StepOutcome]:
        if self._done:
            done, self._done = self._done, []
            return done
        if timeout:  # nothing runs: the loop waits for a retry's delay or a pool slot
            time.sleep(timeout)
        return []

    def shutdown(self) -> None:
        self._done.clear()
