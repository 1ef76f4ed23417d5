"""Which executor a run uses: given as an object, a name or a dict, checked where it is written.

In order, the first that is set wins: ``executor=`` of the call (``materialize``, ``dag.test``)
or ``--executor`` of the command; the job's or DAG's ``executor=``; ``Definitions(executor=)``;
``executor:`` in deras.yaml; else in process. An unknown name is an error, never ignored.

The executors themselves live above authoring (``_exec``, ``deras.celery``): names are built
through ``_core/executor_builder.py``, which ``deras/__init__.py`` fills.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.errors import ConfigError
from .._core.executor_builder import build_executor

EXECUTOR_NAMES = ("in_process", "multiprocess", "celery")


def executor_from(value: Any, *, where: str) -> Any:
    """The executor ``value`` names (None stays None): an executor object, a name such as
    ``"multiprocess"``, or a dict ``{"type": "multiprocess", "max_concurrent": 8}``.

    >>> executor_from("multiprocess", where="test").name
    'multiprocess'
    >>> executor_from({"type": "in_process"}, where="test").name
    'in_process'
    """
    if value is None:
        return None
    if callable(getattr(value, "start", None)) and isinstance(getattr(value, "name", None), str):
        return value
    if isinstance(value, str):
        return _build(value, {}, where)
    if isinstance(value, ExecutorDefinition):
        return _build(value.name, value.config, where)
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        options = {k: v for k, v in value.items() if k != "type"}
        return _build(value["type"], options, where)
    raise ConfigError(
        f"{where}: executor {value!r} is not an executor. Fix: use dg.InProcessExecutor(), "
        "dg.MultiprocessExecutor(max_concurrent=N), deras.celery.CeleryExecutor(...), a name "
        f"({', '.join(EXECUTOR_NAMES)}) or {{'type': name, ...options}}"
    )


def _build(name: str, options: dict[str, Any], where: str) -> Any:
    if name not in EXECUTOR_NAMES:
        raise ConfigError(f"{where}: unknown executor {name!r}. Fix: use one of {', '.join(EXECUTOR_NAMES)}")
    try:
        return build_executor(name, options)
    except TypeError as err:
        raise ConfigError(f"{where}: executor {name!r}: {err}") from None


def choose_executor(*candidates: Any, instance: Any = None, where: str = "run") -> Any:
    """The first executor set among ``candidates``, then deras.yaml's; None: in process."""
    for candidate in candidates:
        chosen = executor_from(candidate, where=where)
        if chosen is not None:
            return chosen
    settings = getattr(instance, "settings", None)
    configured = settings.config.get("executor") if settings is not None else None
    return executor_from(configured, where=f"{settings.home / 'deras.yaml'}" if settings else where)


class ExecutorDefinition:
    """An executor by name with its config, Dagster's ``multiprocess_executor`` style:
    ``Definitions(executor=dg.multiprocess_executor.configured({"max_concurrent": 4}))``.

    >>> multiprocess_executor.configured({"max_concurrent": 4}).config
    {'max_concurrent': 4}
    >>> executor_from(in_process_executor, where="test").name
    'in_process'
    """

    def __init__(self, name: str, config: Mapping[str, Any] | None = None) -> None:
        if name not in EXECUTOR_NAMES:
            raise ConfigError(f"unknown executor {name!r}. Fix: use one of {', '.join(EXECUTOR_NAMES)}")
        self.name = name
        self.config: dict[str, Any] = dict(config or {})

    def configured(self, config: Mapping[str, Any]) -> ExecutorDefinition:
        """A copy with ``config`` merged in; options the executor does not take are an error
        when it is built (where the definitions are)."""
        if not isinstance(config, Mapping):
            raise ConfigError(f"{self.name}_executor.configured() takes a dict, got {config!r}")
        return ExecutorDefinition(self.name, {**self.config, **config})

    def __repr__(self) -> str:
        return f"{self.name}_executor" + (f".configured({self.config!r})" if self.config else "")


in_process_executor = ExecutorDefinition("in_process")
multiprocess_executor = ExecutorDefinition("multiprocess")
