"""``BaseOperator``: one task of a DAG, its settings, and the ``>>`` / ``<<`` wiring."""

from __future__ import annotations

import difflib
import functools
import itertools
import warnings
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from .._core.errors import DefinitionError
from .._core.keys import AssetKey
from .._defs.source import SourceInfo
from .context import current_dag, current_group
from .edge_label import Label


class BaseOperator:
    """A task: subclass and implement ``execute(context)``.

    Created inside ``with DAG(...)`` (or a ``@dag`` function), it joins that DAG. ``a >> b``
    makes ``b`` run after ``a``; lists work on either side.

    >>> from deras._dags.dag import DAG
    >>> from deras._dags.operators import EmptyOperator
    >>> with DAG("demo") as d:
    ...     a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
    ...     _ = a >> b
    >>> sorted(d.get_task("b").upstream_task_ids)
    ['a']
    """

    template_fields: Sequence[str] = ()
    # Set in __init__ from the arguments, else the DAG's default_args, else these defaults.
    retries: int
    retry_delay: timedelta | float
    retry_exponential_backoff: bool
    max_retry_delay: timedelta | float | None
    execution_timeout: timedelta | float | None
    trigger_rule: Any
    on_failure_callback: Callable[..., Any] | None
    on_success_callback: Callable[..., Any] | None
    on_retry_callback: Callable[..., Any] | None
    pool: str | None
    owner: str | None
    depends_on_past: bool
    wait_for_downstream: bool
    do_xcom_push: bool
    doc_md: str | None
    sla: timedelta | None

    def __init__(
        self,
        *,
        task_id: str,
        outlets: Iterable[Any] = (),
        params: dict[str, Any] | None = None,
        doc: str | None = None,
        dag: Any = None,
        **settings: Any,
    ) -> None:
        from .trigger_rules import parse_trigger_rule

        self.dag = dag if dag is not None else current_dag.get()
        if self.dag is None:
            raise DefinitionError(
                f"task '{task_id}' was created outside a DAG. Fix: create it inside `with dg.DAG(...):` "
                "or a @dg.dag function, or pass dag=."
            )
        group = current_group.get()
        self.task_group = group
        self.task_id = f"{group.prefix}{task_id}" if group is not None else task_id
        where = f"task '{self.task_id}' of DAG '{self.dag.dag_id}'"
        unknown = sorted(set(settings) - set(_SETTINGS))
        if unknown:  # as Airflow: a typo on the operator is an error; in default_args it is ignored
            raise DefinitionError(
                f"{where}: invalid argument(s) {', '.join(map(repr, unknown))} for {type(self).__name__}"
                + _suggestion(unknown[0])
            )
        # default_args may hold anything (Airflow ignores what an operator does not take).
        default_args = self.dag.default_args
        for name, default in _SETTINGS.items():
            value = settings.get(name, default_args.get(name, default))
            setattr(self, name, value)
        self.trigger_rule = parse_trigger_rule(self.trigger_rule, where=where)
        if not isinstance(self.retries, int) or self.retries < 0:
            raise DefinitionError(f"{where}: retries must be a whole number ≥ 0, not {self.retries!r}")
        if self.wait_for_downstream:
            self.depends_on_past = True  # as in Airflow: waiting for downstream implies it
        if self.sla is not None:
            warnings.warn(
                f"{where}: sla={self.sla!r} is accepted but not enforced (deras has no SLA misses)",
                UserWarning,
                stacklevel=3,
            )
        self.outlets = [AssetKey.coerce(o) for o in outlets]
        self.params = dict(params or {})
        self.doc = doc
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        self.edge_labels: dict[str, str] = {}  # downstream task id -> label (``a >> Label("x") >> b``)
        self.source = self._source()
        self.dag.add_task(self)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass's own arguments come from the DAG's ``default_args`` too, as in Airflow
        (``default_args={"bash_command": ...}``), when the call does not give them."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            cls.__init__ = _filling_default_args(init)  # type: ignore[method-assign]

    def _source(self) -> SourceInfo:
        import sys

        frame = sys._getframe(1)
        # The first frame outside deras is where the user created the task.
        while frame is not None and frame.f_globals.get("__name__", "").startswith("deras."):
            frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return SourceInfo("<unknown>", 0, self.task_id)
        return SourceInfo(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)

    def execute(self, context: dict[str, Any]) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.execute")

    # -- identity in the shared graph --------------------------------------------------------
    @property
    def graph_node_id(self) -> str:
        """This task's node id in the graph assets and tasks share (``deps=[task]`` uses it)."""
        return f"{self.dag.dag_id}.{self.task_id}"

    @property
    def is_mapped(self) -> bool:
        return False

    # -- wiring -----------------------------------------------------------------------------
    def set_downstream(self, other: Any) -> None:
        if isinstance(other, Label):  # a >> Label("x"): the label links a to what follows it
            other.add_upstream([self])
            return
        for task in _tasks(other, side="roots"):
            self._link(self, task)

    def set_upstream(self, other: Any) -> None:
        if isinstance(other, Label):
            other.add_downstream([self])
            return
        for task in _tasks(other, side="leaves"):
            self._link(task, self)

    @staticmethod
    def _link(up: BaseOperator, down: BaseOperator) -> None:
        if up.dag is not down.dag:
            raise DefinitionError(
                f"cannot link task '{up.task_id}' of DAG '{up.dag.dag_id}' to '{down.task_id}' of DAG "
                f"'{down.dag.dag_id}': tasks depend on tasks of their own DAG (across DAGs, use assets)"
            )
        up.downstream_task_ids.add(down.task_id)
        down.upstream_task_ids.add(up.task_id)
        up.dag.invalidate()

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> BaseOperator:  # [a, b] >> self
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> BaseOperator:  # [a, b] << self
        self.set_downstream(other)
        return self

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"


# Every BaseOperator setting a DAG file may pass, with its default. The first group is honoured;
# the rest are Airflow settings deras accepts (so DAG files load) and keeps on the task without
# acting on them: where to send email, worker queues, priorities, executor hints.
_SETTINGS: dict[str, Any] = {
    "retries": 0,
    "retry_delay": timedelta(seconds=300),
    "retry_exponential_backoff": False,
    "max_retry_delay": None,
    "execution_timeout": None,
    "trigger_rule": "all_success",
    "on_failure_callback": None,
    "on_success_callback": None,
    "on_retry_callback": None,
    "on_execute_callback": None,  # called with the context just before the task's code
    "on_skipped_callback": None,  # called when the task raises SkipTask
    "pool": None,
    "owner": None,
    "depends_on_past": False,
    "wait_for_downstream": False,
    "do_xcom_push": True,
    "doc_md": None,
    # accepted, kept, not acted on
    "sla": None,
    "email": None,
    "email_on_failure": True,
    "email_on_retry": True,
    "doc_rst": None,
    "doc_json": None,
    "doc_yaml": None,
    "queue": "default",
    "pool_slots": 1,
    "priority_weight": 1,
    "weight_rule": "downstream",
    "max_active_tis_per_dag": None,
    "max_active_tis_per_dagrun": None,
    "task_concurrency": None,
    "executor_config": None,
    "executor": None,
    "start_date": None,
    "end_date": None,
    "inlets": (),
    "run_as_user": None,
    "resources": None,
    "ignore_first_depends_on_past": True,
    "wait_for_past_depends_before_skipping": False,
    "task_display_name": None,
    "map_index_template": None,
    "provide_context": True,  # Airflow 1's flag: the context is always offered
}


def _filling_default_args(init: Callable[..., None]) -> Callable[..., None]:
    """``init`` taking the arguments it names, and does not get, from the DAG's default_args."""
    import inspect

    params = list(inspect.signature(init).parameters.values())[1:]  # after self
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = [p.name for p in params if p.kind in kinds and p.name not in ("task_id", "dag")]
    positional = [p.name for p in params if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD]

    @functools.wraps(init)
    def fill(self: Any, *args: Any, **kwargs: Any) -> None:
        dag = kwargs.get("dag") or current_dag.get()
        default_args = getattr(dag, "default_args", None)
        if default_args:
            given = set(kwargs) | set(positional[: len(args)])
            for name in names:
                if name not in given and name in default_args:
                    kwargs[name] = default_args[name]
        init(self, *args, **kwargs)

    return fill


def _suggestion(name: str) -> str:
    close = difflib.get_close_matches(name, list(_SETTINGS), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _tasks(other: Any, side: str = "roots") -> list[BaseOperator]:
    """Operators out of an operator, an XComArg (a TaskFlow call's result), a group or a list.

    A task group stands for its ``roots`` when it is downstream, its ``leaves`` when upstream.
    """
    if isinstance(other, list | tuple | set):
        return [t for item in other for t in _tasks(item, side)]
    operator = getattr(other, "operator", None)
    if isinstance(operator, BaseOperator):
        return [operator]
    if isinstance(other, BaseOperator):
        return [other]
    group_side = getattr(other, side, None) if hasattr(other, "group_id") else None
    if callable(group_side):
        return list(group_side())
    raise DefinitionError(f"cannot wire {other!r} with >> or <<: expected a task, a list of tasks or a group")


def chain(*items: Any) -> None:
    """``chain(a, b, c)`` is ``a >> b >> c``; a list in the chain fans out and in.

    >>> # chain(extract, [clean_a, clean_b], load)
    """
    for up, down in itertools.pairwise(items):
        if isinstance(down, Label):  # chain(a, Label("x"), b): the label links a to b
            down.add_upstream(_tasks(up, "leaves"))
            continue
        if isinstance(up, Label):
            up.add_downstream(_tasks(down, "roots"))
            continue
        ups, downs = _tasks(up, "leaves"), _tasks(down, "roots")
        if isinstance(up, list) and isinstance(down, list):
            if len(ups) != len(downs):
                raise DefinitionError(f"chain: lists of different lengths ({len(ups)} and {len(downs)})")
            for a, b in zip(ups, downs, strict=True):
                a >> b
        else:
            for a in ups:
                for b in downs:
                    a >> b


def cross_downstream(from_tasks: Any, to_tasks: Any) -> None:
    """Every task of ``from_tasks`` before every task of ``to_tasks``.

    >>> # cross_downstream([extract_a, extract_b], [load_x, load_y])  # four edges
    """
    downs = _tasks(to_tasks, "roots")
    for up in _tasks(from_tasks, "leaves"):
        for down in downs:
            up >> down
