"""``TaskGroup``: a named group of tasks (ids prefixed ``group.``; shown as a group in the UI)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .._core.errors import DefinitionError
from .context import current_dag, current_group


class TaskGroup:
    """Group the tasks created inside ``with TaskGroup("name"):``.

    Their ids become ``name.task_id``; ``group >> other`` wires every task of the group that
    has no upstream (or downstream) inside the group.

    >>> from deras._dags.dag import DAG
    >>> from deras._dags.operators import EmptyOperator
    >>> with DAG("g") as d, TaskGroup("load") as tg:
    ...     _ = EmptyOperator(task_id="a")
    >>> d.task_ids
    ['load.a']
    """

    def __init__(
        self,
        group_id: str,
        *,
        tooltip: str = "",
        ui_color: str | None = None,
        ui_fgcolor: str | None = None,
    ) -> None:
        self.dag = current_dag.get()
        if self.dag is None:
            raise DefinitionError(f"TaskGroup '{group_id}' must be created inside a DAG")
        parent = current_group.get()
        self.group_id = f"{parent.prefix}{group_id}" if parent is not None else group_id
        self.tooltip = tooltip
        self.ui_color, self.ui_fgcolor = ui_color, ui_fgcolor  # Airflow's UI colours: kept, not shown
        self._token: Any = None

    @property
    def prefix(self) -> str:
        return f"{self.group_id}."

    def __enter__(self) -> TaskGroup:
        self._token = current_group.set(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        current_group.reset(self._token)

    def members(self) -> list[Any]:
        return [t for tid, t in self.dag.task_dict.items() if tid.startswith(self.prefix)]

    def roots(self) -> list[Any]:
        ids = {t.task_id for t in self.members()}
        return [t for t in self.members() if not (t.upstream_task_ids & ids)]

    def leaves(self) -> list[Any]:
        ids = {t.task_id for t in self.members()}
        return [t for t in self.members() if not (t.downstream_task_ids & ids)]

    def __rshift__(self, other: Any) -> Any:
        for leaf in self.leaves():
            leaf >> other
        return other

    def __lshift__(self, other: Any) -> Any:
        for root in self.roots():
            root << other
        return other

    def __rrshift__(self, other: Any) -> TaskGroup:
        for root in self.roots():
            root << other
        return self


def task_group(
    fn: Callable[..., Any] | None = None, /, *, group_id: str | None = None, **options: Any
) -> Any:
    """Turn a function into a task group factory: calling it inside a DAG builds the tasks it
    calls inside ``TaskGroup(group_id or the function's name)``.

    The call returns what the function returned if that is a task or a task's output (so
    ``load(extract())`` chains on), else the group.

    >>> # @dg.task_group
    >>> # def load(rows):
    >>> #     return publish(clean(rows))
    """

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def build(*args: Any, **kwargs: Any) -> Any:
            with TaskGroup(group_id or f.__name__, **options) as group:
                result = f(*args, **kwargs)
            if hasattr(result, "task_id") or hasattr(result, "operator"):  # a task or an XComArg
                return result
            return group

        return build

    return decorate(fn) if fn is not None else decorate
