"""``OpExecutionContext``: what an op knows about its run; ``build_op_context`` for unit tests."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .context import Resources


class OpExecutionContext:
    """The context an op receives: ``log``, ``run_id``, ``op_config``, ``resources``, ``retry_number``.

    ``log`` records into the run's event log; ``op_config`` is the op's config as a dict (its
    ``config: MyConfig`` parameter has the same values as an object).
    """

    def __init__(
        self,
        *,
        run_id: str,
        op_name: str,
        job_name: str | None,
        log: logging.Logger,
        resources: Resources,
        op_config: Any,
        retry_number: int = 0,
        instance: Any = None,
        run_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.run_id = run_id
        self.op_name = op_name
        self.job_name = job_name
        self.log = log
        self.resources = resources
        self.op_config = op_config
        self.retry_number = retry_number
        self.instance = instance
        self.run_config: dict[str, Any] = dict(run_config or {})
        self.logged_events: list[Any] = []  # what ``log_event`` got, recorded after the function

    def log_event(self, event: Any) -> None:
        """Record an ``AssetMaterialization`` when the op ends (Dagster's ``context.log_event``)."""
        from .._defs.results import AssetMaterialization  # built per step: import late

        if not isinstance(event, AssetMaterialization):
            raise TypeError(f"context.log_event takes a dg.AssetMaterialization, got {type(event).__name__}")
        self.logged_events.append(event)

    @property
    def op_handle(self) -> str:
        return self.op_name

    def __repr__(self) -> str:
        return f"<OpExecutionContext run={self.run_id} op={self.op_name}>"


def build_op_context(
    resources: Mapping[str, Any] | None = None,
    op_config: Any = None,
    *,
    config: Any = None,
    instance: Any = None,
    run_id: str = "EPHEMERAL",
    op_name: str = "op",
) -> OpExecutionContext:
    """A context for calling an op's function directly, e.g. in a unit test.

    >>> import deras as dg
    >>> class Greeting(dg.Config):
    ...     name: str
    >>> @dg.op
    ... def greet(context: dg.OpExecutionContext, config: Greeting) -> str:
    ...     return f"hello {config.name}"
    >>> greet(dg.build_op_context(op_config={"name": "ana"}))
    'hello ana'
    """
    if op_config is not None and config is not None:
        raise TypeError("build_op_context: give op_config= or config=, not both")
    raw = op_config if op_config is not None else config
    dump = getattr(raw, "model_dump", None)
    if callable(dump):
        raw = dump()
    bound = dict(resources or {})

    def lookup(key: str) -> Any:
        if key not in bound:
            raise AttributeError(f"build_op_context has no resource '{key}' (resources: {sorted(bound)})")
        return bound[key]

    return OpExecutionContext(
        run_id=run_id,
        op_name=op_name,
        job_name=None,
        log=logging.getLogger(f"deras.op.{op_name}"),
        resources=Resources(lookup),
        op_config=raw,
        instance=instance,
    )
