"""``Label``: a name on the edges between tasks (``check >> Label("valid") >> load``)."""

from __future__ import annotations

from typing import Any


class Label:
    """A label for the edges it sits on; wiring passes through it as if it were not there.

    ``a >> Label("x") >> b`` links ``a`` to ``b`` and records ``"x"`` on that edge, readable as
    ``dag.get_edge_info("a", "b")``. Lists and task groups work on either side.

    >>> from deras._dags.dag import DAG
    >>> from deras._dags.operators import EmptyOperator
    >>> with DAG("labels") as d:
    ...     a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
    ...     _ = a >> Label("when valid") >> b
    >>> d.get_edge_info("a", "b")
    {'label': 'when valid'}
    """

    def __init__(self, label: str) -> None:
        if not isinstance(label, str):
            raise TypeError(f"Label takes the label's text, not {type(label).__name__}")
        self.label = label
        self._upstream: list[Any] = []  # tasks wired into the label so far
        self._downstream: list[Any] = []

    def add_upstream(self, tasks: list[Any]) -> None:
        self._upstream.extend(tasks)
        for down in self._downstream:
            for up in tasks:
                _link(up, down, self.label)

    def add_downstream(self, tasks: list[Any]) -> None:
        self._downstream.extend(tasks)
        for up in self._upstream:
            for down in tasks:
                _link(up, down, self.label)

    def __rshift__(self, other: Any) -> Any:  # Label(...) >> b
        from .operator import _tasks

        self.add_downstream(_tasks(other, "roots"))
        return other

    def __lshift__(self, other: Any) -> Any:  # Label(...) << a
        from .operator import _tasks

        self.add_upstream(_tasks(other, "leaves"))
        return other

    def __rrshift__(self, other: Any) -> Label:  # [a, b] >> Label(...)
        from .operator import _tasks

        self.add_upstream(_tasks(other, "leaves"))
        return self

    def __rlshift__(self, other: Any) -> Label:  # [a, b] << Label(...)
        from .operator import _tasks

        self.add_downstream(_tasks(other, "roots"))
        return self

    def __repr__(self) -> str:
        return f"Label({self.label!r})"


def _link(up: Any, down: Any, label: str) -> None:
    from .operator import BaseOperator

    BaseOperator._link(up, down)
    up.edge_labels[down.task_id] = label
