"""TaskFlow: ``@task`` functions whose calls wire the DAG and whose return values flow on."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._core.errors import DefinitionError
from .context import current_dag
from .operator import BaseOperator
from .operators import context_kwargs, run_bash, skip_codes


class XComArg:
    """The future return value of a task, passed to other tasks' calls.

    At run time it becomes the value the task returned (for a mapped task: the list of
    every mapped instance's value, in order).
    """

    __slots__ = ("key", "operator")

    def __init__(self, operator: BaseOperator, key: str = "return_value") -> None:
        self.operator = operator
        self.key = key

    def __getitem__(self, key: str) -> XComArg:
        """``summary["total"]``: the task's XCom under ``key`` (pushed by ``multiple_outputs``)."""
        if not isinstance(key, str):
            raise DefinitionError(
                f"{self!r}[{key!r}]: an XCom key is a string (a task's output is subscripted by key, "
                "as with multiple_outputs=True)"
            )
        return XComArg(self.operator, key)

    def __iter__(self) -> Any:
        # Without this, Python would iterate by calling __getitem__(0), __getitem__(1)...
        raise TypeError(
            f"{self!r} is a future value, it cannot be unpacked or iterated when the DAG is built: "
            "return a dict with multiple_outputs=True and subscript it, or map over it with .expand()"
        )

    def __rshift__(self, other: Any) -> Any:
        return self.operator >> other

    def __lshift__(self, other: Any) -> Any:
        return self.operator << other

    def __rrshift__(self, other: Any) -> Any:
        return other >> self.operator if not isinstance(other, list) else self.operator.__rrshift__(other)

    def __rlshift__(self, other: Any) -> Any:
        return self.operator.__rlshift__(other)

    def __repr__(self) -> str:
        key = "" if self.key == "return_value" else f", {self.key!r}"
        return f"XComArg({self.operator.task_id!r}{key})"


def find_xcom_args(value: Any) -> list[XComArg]:
    if isinstance(value, XComArg):
        return [value]
    if isinstance(value, list | tuple | set):
        return [x for v in value for x in find_xcom_args(v)]
    if isinstance(value, Mapping):
        return [x for v in value.values() for x in find_xcom_args(v)]
    return []


def resolve_xcom_args(value: Any, pull: Callable[[XComArg], Any]) -> Any:
    if isinstance(value, XComArg):
        return pull(value)
    if isinstance(value, list):
        return [resolve_xcom_args(v, pull) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_xcom_args(v, pull) for v in value)
    if isinstance(value, Mapping):
        return {k: resolve_xcom_args(v, pull) for k, v in value.items()}
    return value


class DecoratedOperator(BaseOperator):
    """The operator a ``@task`` call creates: calls the function with resolved arguments."""

    def __init__(
        self,
        *,
        task_id: str,
        python_callable: Callable[..., Any],
        op_args: tuple[Any, ...] = (),
        op_kwargs: Mapping[str, Any] | None = None,
        expand_kwargs: Mapping[str, Any] | None = None,
        is_branch: bool = False,
        multiple_outputs: bool | None = None,
        **kwargs: Any,
    ) -> None:
        self.python_callable = python_callable
        self.multiple_outputs = (
            returns_dict(python_callable) if multiple_outputs is None else bool(multiple_outputs)
        )
        self.op_args = tuple(op_args)
        self.op_kwargs = dict(op_kwargs or {})
        self.expand_kwargs = dict(expand_kwargs) if expand_kwargs is not None else None
        self.is_branch = is_branch
        super().__init__(task_id=task_id, **kwargs)
        for arg in find_xcom_args([self.op_args, self.op_kwargs, self.expand_kwargs or {}]):
            arg.operator >> self

    @property
    def is_mapped(self) -> bool:
        return self.expand_kwargs is not None

    def execute(self, context: dict[str, Any]) -> Any:
        kwargs = dict(context.get("_resolved_kwargs", self.op_kwargs))
        args = context.get("_resolved_args", self.op_args)
        wanted = context_kwargs(self.python_callable, context, kwargs, positional=len(args))
        public = {k: v for k, v in wanted.items() if not k.startswith("_")}
        return self.python_callable(*args, **kwargs, **public)


def returns_dict(fn: Callable[..., Any]) -> bool:
    """Whether ``fn``'s return annotation is a dict (``-> dict[str, int]``, a TypedDict): Airflow
    then pushes each key as its own XCom, as if ``multiple_outputs=True`` were given."""
    import typing

    try:
        annotation = typing.get_type_hints(fn).get("return")
    except Exception:  # a name only the type checker sees: no inference, as when unannotated
        return False
    if annotation is None:
        return False
    origin = typing.get_origin(annotation) or annotation
    return (isinstance(origin, type) and issubclass(origin, Mapping)) or typing.is_typeddict(annotation)


class DecoratedShortCircuitOperator(DecoratedOperator):
    """``@task.short_circuit``: a falsy return value skips what comes after the task."""

    is_short_circuit = True

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules
        super().__init__(**kwargs)


class DecoratedBashOperator(DecoratedOperator):
    """``@task.bash``: the function returns a bash command, which is templated, then run."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        append_env: bool = False,
        cwd: str | None = None,
        skip_on_exit_code: int | Sequence[int] | None = 99,
        **kwargs: Any,
    ) -> None:
        self.env = dict(env) if env is not None else None
        self.append_env = append_env
        self.cwd = cwd
        self.skip_on_exit_code = skip_codes(skip_on_exit_code)
        super().__init__(**kwargs)

    def execute(self, context: dict[str, Any]) -> Any:
        command = super().execute(context)
        if not isinstance(command, str) or not command.strip():
            raise TypeError(
                f"@task.bash {self.task_id} must return the bash command as a non-empty string, "
                f"not {command!r}"
            )
        # Rendered like BashOperator's bash_command: {{ ds }}, {{ params.x }}... (set by the runner).
        command = context["_render"](command)
        return run_bash(command, self.env, self.append_env, self.cwd, self.skip_on_exit_code)


class _TaskFactory:
    """What ``@task`` returns: call it inside a DAG to add a task (and get its XComArg)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        options: dict[str, Any],
        *,
        operator_class: type[DecoratedOperator] = DecoratedOperator,
        partial_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.options = options
        self.operator_class = operator_class
        self.partial_kwargs = dict(partial_kwargs or {})
        functools.update_wrapper(self, fn)

    def _task_id(self) -> str:
        base = self.options.get("task_id") or self.fn.__name__
        dag = current_dag.get()
        if dag is None:
            raise DefinitionError(
                f"@task {base} was called outside a DAG. Fix: call it inside a @dg.dag function or "
                "`with dg.DAG(...)` block (call the function directly with .function(...) to test it)."
            )
        group = _group_prefix()
        task_id, n = base, 1
        while f"{group}{task_id}" in dag.task_dict:  # calling a task twice gives load, load__1...
            task_id = f"{base}__{n}"
            n += 1
        return task_id

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        options = {k: v for k, v in self.options.items() if k != "task_id"}
        op = self.operator_class(
            task_id=self._task_id(),
            python_callable=self.fn,
            op_args=args,
            op_kwargs={**self.partial_kwargs, **kwargs},
            **options,
        )
        return XComArg(op)

    def partial(self, **kwargs: Any) -> _TaskFactory:
        """Fix some arguments for every mapped instance: ``add.partial(x=1).expand(y=[1, 2])``."""
        return _TaskFactory(
            self.fn,
            self.options,
            operator_class=self.operator_class,
            partial_kwargs={**self.partial_kwargs, **kwargs},
        )

    def expand(self, **kwargs: Any) -> XComArg:
        """One task instance per element (a literal list or an upstream task's list result)."""
        if not kwargs:
            raise DefinitionError(
                f"{self.fn.__name__}.expand() needs at least one keyword argument to map over"
            )
        for name, value in kwargs.items():
            if not isinstance(value, XComArg | list | tuple):
                raise DefinitionError(
                    f"{self.fn.__name__}.expand({name}=...) needs a list or a task's result, not "
                    f"{type(value).__name__}"
                )
        options = {k: v for k, v in self.options.items() if k != "task_id"}
        op = self.operator_class(
            task_id=self._task_id(),
            python_callable=self.fn,
            op_kwargs=self.partial_kwargs,
            expand_kwargs=kwargs,
            **options,
        )
        return XComArg(op)

    @property
    def function(self) -> Callable[..., Any]:
        """The undecorated function, for unit tests."""
        return self.fn


def _group_prefix() -> str:
    from .context import current_group

    group = current_group.get()
    return group.prefix if group is not None else ""


def _decorate(
    fn: Callable[..., Any] | None, options: dict[str, Any], operator_class: type[DecoratedOperator]
) -> Any:
    if fn is not None and callable(fn):
        return _TaskFactory(fn, options, operator_class=operator_class)
    if fn is not None:
        raise TypeError("use @task or @task(option=...), with keyword options only")
    return lambda f: _TaskFactory(f, options, operator_class=operator_class)


class _TaskDecorator:
    """``@task``, ``@task(...)``, ``@task.branch``, ``@task.short_circuit`` and ``@task.bash``."""

    def __call__(self, fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        return _decorate(fn, options, DecoratedOperator)

    def branch(self, fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        """A task returning the task id(s) to follow; the other direct downstream tasks skip."""
        return _decorate(fn, {**options, "is_branch": True}, DecoratedOperator)

    def short_circuit(self, fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        """A task whose falsy return value skips the tasks after it (see ``ShortCircuitOperator``).

        >>> @task.short_circuit(ignore_downstream_trigger_rules=False)
        ... def is_weekday(logical_date) -> bool:
        ...     return logical_date.weekday() < 5
        """
        return _decorate(fn, options, DecoratedShortCircuitOperator)

    def bash(self, fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        """A task whose function returns a bash command; the command is templated, then run.

        >>> @task.bash(env={"MODE": "full"})
        ... def export(table: str) -> str:
        ...     return f"echo exporting {table} for {{{{ ds }}}} in $MODE"
        """
        return _decorate(fn, options, DecoratedBashOperator)


task = _TaskDecorator()
