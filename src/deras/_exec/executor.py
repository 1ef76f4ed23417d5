"""The executor interface: where steps run. The run loop decides what runs and when.

An :class:`Executor` is what users choose (``executor=dg.MultiprocessExecutor(4)``): a
description, safe to share between runs. ``start(setup)`` gives a :class:`StepExecutor` that
serves one run with these few methods: the run loop (``run_loop.py``) calls ``submit`` while
``has_room``, and ``poll`` to learn how submitted steps ended; ``shutdown`` always follows.
In-process, the pool and Celery all implement them; none decides readiness, retries, skips or
run status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .step_scope import StepScope
from .step_types import StepOutcome, StepSpec


@dataclass(slots=True)
class RunSetup:
    """What an executor needs to serve one run: the coordinator's scope, the run's declared
    resources (other processes open their own) and the code location they can load."""

    scope: StepScope
    resources: Mapping[str, Any] = field(default_factory=dict)
    code_location: Mapping[str, str] | None = None


@runtime_checkable
class Executor(Protocol):
    """Where the steps of a run execute."""

    name: str

    def start(self, setup: RunSetup) -> StepExecutor:
        """Get ready to run steps of ``setup``'s run (start workers, open connections)."""


class StepExecutor(Protocol):
    """Runs the submitted steps of one run and reports their outcomes."""

    def has_room(self) -> bool:
        """Whether a step submitted now would start at once."""

    def submit(self, spec: StepSpec) -> None:
        """Start ``spec``; its outcome comes back from ``poll``."""

    def poll(self, timeout: float | None) -> list[StepOutcome]:
        """Outcomes of submitted steps that ended, waiting up to ``timeout`` seconds (None: until
        one ends) when none has. An outcome with ``lost`` set is an attempt whose process died."""

    def shutdown(self) -> None:
        """Stop: called once after the run, also when it was interrupted."""
