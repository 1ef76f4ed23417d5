"""``@graph``: ops wired together by calling them, composed into jobs with ``.to_job()``.

A graph's body runs once, at composition: each op call inside it records an invocation and
returns handles to its outputs, which later calls take as inputs. Nothing executes here.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from .._core.errors import DefinitionError
from .op import OpDefinition
from .op_types import is_nothing

_composing: list[Composition] = []


def current_composition() -> Composition | None:
    return _composing[-1] if _composing else None


@dataclass(frozen=True, slots=True)
class OutputHandle:
    """One output of one invocation, as a graph body passes it to the next op."""

    handle: str
    output_name: str

    def __iter__(self) -> Any:
        raise DefinitionError(
            f"the output of '{self.handle}' is one value: to unpack several outputs, give the op "
            "out={'a': dg.Out(), 'b': dg.Out()}"
        )


@dataclass(slots=True)
class Invocation:
    """One op in a composed graph: its name there (``handle``) and where its inputs come from."""

    handle: str
    op: OpDefinition
    inputs: dict[str, list[OutputHandle]] = field(default_factory=dict)
    fan_in: set[str] = field(default_factory=set)  # inputs given a list of outputs


class Composition:
    """The invocations recorded while graph bodies run (nested graphs share one)."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []
        self.prefix: tuple[str, ...] = ()
        self._used: dict[str, int] = {}

    def _handle(self, name: str) -> str:
        full = ".".join((*self.prefix, name))
        count = self._used.get(full, 0) + 1
        self._used[full] = count
        return full if count == 1 else f"{full}_{count}"

    def invoke(
        self, op: OpDefinition, alias: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        handle = self._handle(alias or op.name)
        names = op.input_names
        if len(args) > len(names):
            raise DefinitionError(f"op '{handle}' takes {len(names)} inputs ({names}), got {len(args)}")
        given = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in op.ins:
                raise DefinitionError(f"op '{handle}' has no input '{key}' (inputs: {names})")
            given[key] = value
        call = Invocation(handle, op)
        for name, value in given.items():
            fan_in = isinstance(value, list | tuple) and not _is_outputs(value)
            items = list(value) if fan_in else [value]
            if fan_in:
                call.fan_in.add(name)
            for item in items:
                if not isinstance(item, OutputHandle):
                    raise DefinitionError(
                        f"op '{handle}' input '{name}' got {item!r}: inside a @graph or @job body, "
                        "pass the outputs of other ops (constants belong in config)"
                    )
            call.inputs[name] = items
        for name, spec in op.ins.items():
            if name not in given and not is_nothing(spec.dagster_type) and spec.default_value is None:
                raise DefinitionError(
                    f"op '{handle}' input '{name}' is not connected. Fix: pass another op's output, "
                    f"e.g. {op.name}({name}=upstream()), or give it dg.In(default_value=...)"
                )
        self.invocations.append(call)
        outs = [OutputHandle(handle, name) for name in op.outs]
        if len(outs) == 1:  # one output, whatever its name: the handle itself
            return outs[0]
        if not outs:
            return None
        return namedtuple("Outputs", list(op.outs))(*outs)  # a, b = split(); split().a


def _is_outputs(value: Any) -> bool:
    return hasattr(value, "_fields")


class GraphDefinition:
    """What ``@graph`` returns; ``.to_job()`` makes a runnable job of it."""

    def __init__(
        self, fn: Callable[..., Any], name: str | None = None, description: str | None = None
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.description = description
        self.__name__ = self.name
        self.__doc__ = fn.__doc__

    def compose(self) -> list[Invocation]:
        """The graph's invocations, its body run once now."""
        composition = Composition()
        _composing.append(composition)
        try:
            self.fn()
        finally:
            _composing.pop()
        if not composition.invocations:
            raise DefinitionError(f"graph '{self.name}' calls no op")
        return composition.invocations

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        composition = current_composition()
        if composition is None:
            raise DefinitionError(
                f"graph '{self.name}' is called outside a @graph or @job body: use "
                f"{self.name}.to_job().execute_in_process() to run it"
            )
        composition.prefix = (*composition.prefix, composition._handle(self.name).split(".")[-1])
        try:
            return self.fn(*args, **kwargs)
        finally:
            composition.prefix = composition.prefix[:-1]

    def to_job(
        self,
        name: str | None = None,
        *,
        config: Any = None,
        resource_defs: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        executor_def: Any = None,
        run_retry_policy: Any = None,
    ) -> Any:
        """A job running this graph; ``config`` is its default run config, ``resource_defs`` its resources."""
        from .op_job import JobDefinition

        return JobDefinition.from_graph(
            self,
            name=name or self.name,
            config=config,
            resource_defs=resource_defs,
            tags=tags,
            description=description or self.description,
            executor=executor_def,
            run_retry_policy=run_retry_policy,
        )

    def execute_in_process(self, **kwargs: Any) -> Any:
        """``self.to_job().execute_in_process(...)``."""
        return self.to_job().execute_in_process(**kwargs)

    def __repr__(self) -> str:
        return f"<GraphDefinition {self.name}>"


@overload
def graph(fn: Callable[..., Any], /) -> GraphDefinition: ...
@overload
def graph(
    fn: None = None, /, *, name: str | None = None, description: str | None = None
) -> Callable[[Callable[..., Any]], GraphDefinition]: ...


def graph(
    fn: Callable[..., Any] | None = None, /, *, name: str | None = None, description: str | None = None
) -> GraphDefinition | Callable[[Callable[..., Any]], GraphDefinition]:
    """Wire ops (and other graphs) together by calling them; run it with ``.to_job()``.

    >>> import deras as dg
    >>> @dg.op
    ... def one() -> int:
    ...     return 1
    >>> @dg.op
    ... def double(x: int) -> int:
    ...     return 2 * x
    >>> @dg.graph
    ... def twice():
    ...     double(double(one()))
    >>> twice.to_job(name="twice_job").execute_in_process().output_for_node("double_2")
    4
    """

    def decorate(f: Callable[..., Any]) -> GraphDefinition:
        return GraphDefinition(f, name=name, description=description)

    return decorate(fn) if fn is not None else decorate
