"""The exceptions deras raises. Every message says what is wrong and how to fix it."""

from __future__ import annotations

from typing import Any


class DerasError(Exception):
    """Base class of every error deras raises on purpose."""


class DefinitionError(DerasError):
    """Definitions that cannot form a valid graph (cycle, unknown dependency, ...).

    ``problems`` lists every problem found, so one run of ``deras check`` shows them all.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            msg = self.problems[0]
        else:
            msg = f"{len(self.problems)} problems in the definitions:\n" + "\n".join(
                f"  {i}. {p}" for i, p in enumerate(self.problems, 1)
            )
        super().__init__(msg)


class PartitionKeyError(DerasError, KeyError):
    """A partition key that the partitions definition does not contain."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(DerasError):
    """Bad configuration: a resource's fields, deras.yaml, a run config."""

    validation_errors: list[Any] | None = None  # pydantic's, when it found them


class RetryRequested(DerasError):
    """Raise inside an op or asset to run it again: up to ``max_retries`` attempts after the first,
    ``seconds_to_wait`` apart, whatever its retry policy says.

    ``raise dg.RetryRequested(max_retries=3, seconds_to_wait=10) from err``
    """

    def __init__(self, max_retries: int = 1, seconds_to_wait: float = 0) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"RetryRequested(max_retries=) takes an int >= 0, got {max_retries!r}")
        number = isinstance(seconds_to_wait, int | float) and not isinstance(seconds_to_wait, bool)
        if not number or seconds_to_wait < 0:
            raise ValueError(f"RetryRequested(seconds_to_wait=) takes a number >= 0, got {seconds_to_wait!r}")
        super().__init__(f"retry requested (at most {max_retries} retries, {seconds_to_wait:g} s apart)")
        self.max_retries = max_retries
        self.seconds_to_wait = seconds_to_wait


class TypeCheckError(DerasError):
    """A value that failed the ``dg.DagsterType`` check of an op's input or output."""

    _deras_no_retry = True  # the same value fails the same check again


class RunFailedError(DerasError):
    """Raised by ``materialize(raise_on_error=True)`` after a failed run was recorded."""

    def __init__(self, message: str, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id


class StepTimeoutError(DerasError):
    """An attempt ran past its ``timeout=``."""


class ValueNotStoredError(DerasError):
    """An output's IO manager failed: the attempt fails, as its value is not durable."""


class SelectionError(DerasError):
    """A selection string or AssetSelection that names nothing known."""


class SkipTask(Exception):
    """Raise inside a task to end it ``skipped`` instead of failed.

    ``raise dg.SkipTask("no new files today")``
    """


class FailTask(Exception):
    """Raise inside a task to fail it at once, without the retries it has left (Airflow's
    ``AirflowFailException``).

    ``raise dg.FailTask("the input file is corrupt: retrying will not help")``
    """

    _deras_no_retry = True
