"""``@op``: one computation of a job, wired to others by a ``@graph`` or ``@job``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, overload

from .._core.errors import DefinitionError
from .op_types import In, Out, is_nothing
from .resource_refs import is_resource_annotation
from .retry import RetryPolicy
from .run_config import resolve_annotation
from .signature import read_params


class OpDefinition:
    """What ``@op`` returns: the function, its inputs, outputs, config and resources.

    Inside a ``@graph``/``@job`` body, calling it wires it into the graph; anywhere else it calls
    the function (give a context from ``dg.build_op_context`` when the op takes one).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        ins: Mapping[str, In] | None = None,
        out: Out | Mapping[str, Out] | None = None,
        config_schema: Any = None,
        required_resource_keys: set[str] | frozenset[str] | None = None,
        retry_policy: RetryPolicy | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        where = f"op '{self.name}'"
        params = read_params(fn)
        self.context_param = params.context
        annotations: dict[str, Any] = getattr(fn, "__annotations__", None) or {}
        self.config_param: str | None = None
        config_class = None
        self.resource_params: dict[str, str] = {}
        inputs: list[str] = []
        for param in params.names:
            annotation = annotations.get(param)
            resolved = resolve_annotation(fn, annotation)
            if getattr(resolved, "_deras_config", False) and isinstance(resolved, type):
                self.config_param, config_class = param, resolved
            elif param == "config" and param not in (ins or {}):
                self.config_param = param
            elif param not in (ins or {}) and is_resource_annotation(fn, annotation):
                self.resource_params[param] = param
            else:
                inputs.append(param)
        if config_class is not None and config_schema is not None:
            raise DefinitionError(f"{where}: give config_schema= or a `config: MyConfig` parameter, not both")
        self.config_schema = config_class if config_class is not None else config_schema
        if self.config_param is not None and self.config_schema is None:
            raise DefinitionError(
                f"{where}: parameter '{self.config_param}' has no dg.Config annotation. Fix: annotate it "
                f"with a dg.Config subclass (def {fn.__name__}({self.config_param}: MyConfig))"
            )
        given_ins = dict(ins or {})
        for param, spec in given_ins.items():
            if not isinstance(spec, In):
                raise DefinitionError(f"{where}: ins['{param}'] is {spec!r}, not dg.In(...)")
            if param not in inputs and not is_nothing(spec.dagster_type) and not params.var_keyword:
                raise DefinitionError(
                    f"{where} declares ins['{param}'] but the function has no parameter '{param}'. "
                    "Fix: add the parameter, or make it an ordering-only input with dg.In(dg.Nothing)."
                )
        self.ins: dict[str, In] = {p: given_ins.get(p, In()) for p in inputs}
        self.ins.update({p: s for p, s in given_ins.items() if p not in self.ins})
        if out is None:
            outs: dict[str, Out] = {"result": Out()}
        elif isinstance(out, Out):
            outs = {"result": out}
        elif isinstance(out, Mapping):
            outs = dict(out)
            bad = [k for k, v in outs.items() if not isinstance(v, Out)]
            if bad:
                raise DefinitionError(f"{where}: out['{bad[0]}'] is not dg.Out(...)")
        else:
            raise DefinitionError(f"{where}: out={out!r} is neither dg.Out(...) nor a dict of them")
        self.outs = outs
        self.required_resource_keys = frozenset(required_resource_keys or ())
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise DefinitionError(f"{where}: retry_policy={retry_policy!r} is not a dg.RetryPolicy")
        self.retry_policy = retry_policy
        self.tags = dict(tags or {})
        self.description = description if description is not None else _first_line(fn.__doc__)
        self.__doc__ = fn.__doc__
        self.__name__ = self.name

    @property
    def input_names(self) -> list[str]:
        """Inputs in call order: the function's parameters, then ordering-only ones."""
        return list(self.ins)

    @property
    def value_inputs(self) -> list[str]:
        return [p for p, spec in self.ins.items() if not is_nothing(spec.dagster_type)]

    @property
    def resource_keys(self) -> frozenset[str]:
        return self.required_resource_keys | frozenset(self.resource_params.values())

    def alias(self, name: str) -> _Named:
        """This op under another name in a graph (to use it twice: ``add.alias("add_again")(x)``)."""
        return _Named(self, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .graph import current_composition

        composition = current_composition()
        if composition is not None:
            return composition.invoke(self, None, args, kwargs)
        return self._invoke_directly(args, kwargs)

    def _invoke_directly(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``my_op(context, x)`` in a unit test: the function, with config and resources filled in."""
        call: dict[str, Any] = {}
        rest = list(args)
        context = kwargs.pop(self.context_param, None) if self.context_param else None
        if self.context_param is not None:
            if context is None and rest and _looks_like_context(rest[0]):
                context = rest.pop(0)
            if context is None:
                raise TypeError(
                    f"op '{self.name}' takes a context: call it as {self.name}(dg.build_op_context(...), ...)"
                )
            call[self.context_param] = context
        elif rest and _looks_like_context(rest[0]):
            context = rest.pop(0)
        for param, value in zip(self.value_inputs, rest, strict=False):
            call[param] = value
        if len(rest) > len(self.value_inputs):
            raise TypeError(f"op '{self.name}' takes {len(self.value_inputs)} inputs, got {len(rest)}")
        call.update(kwargs)
        if self.config_param is not None and self.config_param not in call:
            from .config import schema_from

            schema = schema_from(self.config_schema, f"op '{self.name}'")
            assert schema is not None  # a config parameter always has a schema
            call[self.config_param] = schema.model_validate(getattr(context, "op_config", None) or {})
        for param, key in self.resource_params.items():
            if param not in call:
                resources = getattr(context, "resources", None)
                call[param] = getattr(resources, key) if resources is not None else None
        return self.fn(**call)

    def __repr__(self) -> str:
        return f"<OpDefinition {self.name}>"


class _Named:
    """An op under an alias, waiting to be called inside a graph."""

    def __init__(self, op: OpDefinition, name: str) -> None:
        self.op, self.name = op, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .graph import current_composition

        composition = current_composition()
        if composition is None:
            raise DefinitionError(
                f"{self.op.name}.alias('{self.name}') is called outside a @graph or @job body"
            )
        return composition.invoke(self.op, self.name, args, kwargs)


@overload
def op(fn: Callable[..., Any], /) -> OpDefinition: ...
@overload
def op(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
    config_schema: Any = None,
    required_resource_keys: set[str] | None = None,
    retry_policy: RetryPolicy | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], OpDefinition]: ...


def op(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
    config_schema: Any = None,
    required_resource_keys: set[str] | None = None,
    retry_policy: RetryPolicy | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
) -> OpDefinition | Callable[[Callable[..., Any]], OpDefinition]:
    """Declare an op: a function whose parameters are its inputs (plus ``context``, a
    ``config: MyConfig`` and resources) and whose return value is its output(s).

    Several outputs: ``out={"a": dg.Out(), "b": dg.Out()}`` and return a tuple in that order, or
    yield ``dg.Output(value, output_name="a")``.

    >>> import deras as dg
    >>> @dg.op
    ... def one() -> int:
    ...     return 1
    >>> @dg.op
    ... def plus_one(x: int) -> int:
    ...     return x + 1
    >>> @dg.job
    ... def count():
    ...     plus_one(one())
    >>> count.execute_in_process().output_for_node("plus_one")
    2
    """

    def decorate(f: Callable[..., Any]) -> OpDefinition:
        return OpDefinition(
            f,
            name=name,
            ins=ins,
            out=out,
            config_schema=config_schema,
            required_resource_keys=required_resource_keys,
            retry_policy=retry_policy,
            tags=tags,
            description=description,
        )

    return decorate(fn) if fn is not None else decorate


def _looks_like_context(value: Any) -> bool:
    return type(value).__name__.endswith("ExecutionContext")


def _first_line(doc: str | None) -> str | None:
    return doc.strip().split("\n\n")[0].strip() or None if doc else None
