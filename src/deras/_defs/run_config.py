"""Run config: what a run passes to the ``config`` of its ops and assets, checked before it starts.

The recorded form is Dagster's dict, ``{"ops": {"name": {"config": {...}}}}`` (a nested graph's
ops under ``{"ops": {"graph": {"ops": {"inner": {"config": ...}}}}}``); ``RunConfig(ops={...})``
with ``dg.Config`` objects is turned into it. Only the ``ops`` entry is checked: other top-level
keys (a DAG run's ``conf``, anything a user function reads from ``context.run_config``) pass
as they are. No pydantic here: a schema is whatever ``model_validate`` checks.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Where a node's config sits in the run config and what it must be.

    ``path`` is the node's name in its job (``("add_one",)``, ``("outer", "inner")`` for an op of
    a nested graph, the op name of an asset); ``schema`` a ``dg.Config`` class (None: the node
    takes no config); ``param`` the function parameter that receives the ``Config`` object.
    """

    path: tuple[str, ...]
    label: str
    schema: Any = None
    param: str | None = None


@dataclass(slots=True)
class RunConfig:
    """Config for one run, by op (or asset) name.

    >>> import deras as dg
    >>> class Rows(dg.Config):
    ...     limit: int = 10
    >>> dg.RunConfig(ops={"load": Rows(limit=3)}).to_dict()
    {'ops': {'load': {'config': {'limit': 3}}}}
    """

    ops: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ops:
            out["ops"] = {name: _op_entry(value) for name, value in self.ops.items()}
        if self.resources:
            out["resources"] = {name: _op_entry(value) for name, value in self.resources.items()}
        return out


def _op_entry(value: Any) -> Any:
    """``Config(...)`` or its dict of fields -> ``{"config": {...}}``; an entry already so, as is."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return {"config": dump(mode="json")}
    if isinstance(value, Mapping) and set(value) <= {"config", "ops", "inputs", "outputs"} and value:
        return {k: _plain(v) for k, v in value.items()}
    return {"config": _plain(value)}


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def normalize_run_config(run_config: Any, where: str = "run_config") -> dict[str, Any]:
    """A ``RunConfig`` or dict as the plain dict that is recorded with the run.

    >>> normalize_run_config({"ops": {"a": {"config": {"n": 1}}}})
    {'ops': {'a': {'config': {'n': 1}}}}
    """
    if run_config is None:
        return {}
    if isinstance(run_config, RunConfig):
        return run_config.to_dict()
    if not isinstance(run_config, Mapping):
        raise ConfigError(
            f"{where}={run_config!r} is not a run config: pass a dict like "
            "{'ops': {'name': {'config': {...}}}} or dg.RunConfig(ops={'name': MyConfig(...)})"
        )
    out = dict(run_config)
    ops = out.get("ops")
    if isinstance(ops, Mapping):
        out["ops"] = {name: _op_entry(value) for name, value in ops.items()}
    return out


def merge_run_config(base: Mapping[str, Any] | None, override: Mapping[str, Any] | None) -> dict[str, Any]:
    """``override`` deep-merged over ``base`` (a job's default config under the run's own).

    >>> merge_run_config({"ops": {"a": {"config": {"n": 1, "m": 2}}}}, {"ops": {"a": {"config": {"n": 5}}}})
    {'ops': {'a': {'config': {'n': 5, 'm': 2}}}}
    """
    out: dict[str, Any] = dict(base or {})
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_run_config(out[key], value)
        else:
            out[key] = value
    return out


def entry_for(run_config: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any] | None:
    """The ``{"config": ...}`` entry of the node at ``path``, or None."""
    level: Any = run_config
    for name in path:
        ops = level.get("ops") if isinstance(level, Mapping) else None
        if not isinstance(ops, Mapping) or name not in ops:
            return None
        level = ops[name]
    return level if isinstance(level, Mapping) else None


def config_value(spec: NodeConfig, run_config: Mapping[str, Any]) -> Any:
    """The node's validated ``Config`` object (or None without a schema); raises ``ConfigError``."""
    if spec.schema is None:
        return None
    entry = entry_for(run_config, spec.path) or {}
    raw = entry.get("config", {})
    if raw is None:
        raw = {}
    try:
        return spec.schema.model_validate(raw)
    except Exception as err:  # pydantic's ValidationError, without importing pydantic here
        raise ConfigError(_describe(spec, raw, err)) from None


def _describe(spec: NodeConfig, raw: Any, err: Exception) -> str:
    where = f"{spec.label}: config"
    found = getattr(err, "validation_errors", None)
    if found is None and callable(getattr(err, "errors", None)):
        found = err.errors()  # type: ignore[attr-defined]
    if not found:
        return f"{where}: {err}"
    lines = []
    for e in found:
        loc = ".".join(str(p) for p in e.get("loc", ())) or "(root)"
        kind = e.get("type", "")
        if kind == "missing":
            lines.append(f"{where}: missing required field '{loc}'")
        elif kind == "extra_forbidden":
            known = ", ".join(getattr(spec.schema, "model_fields", {})) or "none"
            lines.append(f"{where}: unknown field '{loc}' (fields: {known})")
        else:
            lines.append(f"{where}: field '{loc}': {e.get('msg')} (got {e.get('input')!r})")
    return "; ".join(lines)


def check_run_config(
    config_nodes: Iterable[NodeConfig | None],
    run_config: Any,
    known: Iterable[NodeConfig | None] | None = None,
) -> dict[str, Any]:
    """Validate ``run_config`` for a run of the nodes behind ``config_nodes``; its recorded form.

    Raises one ``ConfigError`` naming every node and field that is wrong: an op name that none
    of ``known`` (default: the run's nodes) has, config for a node that takes none, a missing or
    mistyped field. ``known`` is wider than the run when the config may name nodes it does not
    run: a re-execution from failure keeps the config of the steps that succeeded.
    """
    config = normalize_run_config(run_config)
    ops = config.get("ops")
    specs = [s for s in config_nodes if s is not None]
    if not ops and all(s.schema is None for s in specs):
        return config  # nothing configured, nothing that needs config: the common case, kept cheap
    problems: list[str] = []
    if ops is not None and not isinstance(ops, Mapping):
        raise ConfigError(f"run config 'ops' must be a dict of op name -> {{'config': ...}}, not {ops!r}")
    names = specs if known is None else [s for s in known if s is not None]
    problems.extend(_unknown_names(names, ops or {}, ()))
    for spec in specs:
        entry = entry_for(config, spec.path)
        if spec.schema is None:
            if entry is not None and entry.get("config") not in (None, {}):
                problems.append(
                    f"{spec.label} takes no config, but the run config gives it {entry['config']!r}"
                )
            continue
        try:
            config_value(spec, config)
        except ConfigError as err:
            problems.append(str(err))
    if problems:
        if len(problems) == 1:
            raise ConfigError(f"invalid run config: {problems[0]}")
        raise ConfigError("invalid run config:\n" + "\n".join(f"  - {p}" for p in problems))
    return config


def _unknown_names(specs: list[NodeConfig], ops: Mapping[str, Any], prefix: tuple[str, ...]) -> list[str]:
    depth = len(prefix)
    known = sorted({s.path[depth] for s in specs if len(s.path) > depth and s.path[:depth] == prefix})
    problems = []
    for name, entry in ops.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            inside = f"graph '{'.'.join(prefix)}' has no op" if prefix else "there is no op or asset"
            problems.append(f"run config names op '{name}', but {inside} of that name (ops: {known}).{hint}")
        elif isinstance(entry, Mapping) and isinstance(entry.get("ops"), Mapping):
            problems.extend(_unknown_names(specs, entry["ops"], (*prefix, name)))
    return problems


def find_config_param(fn: Any, names: Iterable[str]) -> tuple[str, Any] | None:
    """The parameter annotated with a ``dg.Config`` class, and that class (strings resolved).

    Called for every asset when definitions are built: a class annotation costs one getattr.
    """
    annotations: dict[str, Any] | None = getattr(fn, "__annotations__", None)
    if not annotations:
        return None
    for name in names:
        annotation = annotations.get(name)
        if annotation is None:
            continue
        if isinstance(annotation, str):
            annotation = resolve_annotation(fn, annotation)
        if isinstance(annotation, type) and getattr(annotation, "_deras_config", False):
            return name, annotation
    return None


def resolve_annotation(fn: Any, annotation: Any) -> Any:
    """A string annotation (``from __future__ import annotations``) looked up in the function's module."""
    if not isinstance(annotation, str):
        return annotation
    obj: Any = getattr(fn, "__globals__", {})
    for i, part in enumerate(annotation.strip().split(".")):
        obj = obj.get(part) if i == 0 else getattr(obj, part, None)
        if obj is None:
            return None
    return obj
