"""``@asset``, ``@multi_asset`` and ``AssetSpec``: the data a pipeline declares."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from .._core.keys import AssetKey
from .asset_in import AssetIn
from .check_spec import AssetCheckSpec, check_specs_of
from .retry import RetryPolicy
from .signature import Params, read_params
from .source import SourceInfo

DEFAULT_GROUP = "default"


@dataclass(slots=True)
class AssetOutSpec:
    """One asset a definition produces."""

    output_name: str
    key: AssetKey
    group_name: str = DEFAULT_GROUP
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    owners: tuple[str, ...] = ()
    io_manager_key: str = "io_manager"
    code_version: str | None = None
    skippable: bool = False  # a step may end without a result for it (Dagster's optional output)
    deps: tuple[Any, ...] | None = None  # its own upstreams, in a multi_asset(specs=...); for lineage


class AssetsDefinition:
    """One executable step producing one or more assets (what ``@asset`` returns).

    Calling it calls the user function directly, which makes unit tests easy:
    ``assert my_asset(context=None, upstream=1) == 2``.
    """

    def __init__(
        self,
        *,
        fn: Callable[..., Any] | None,
        op_name: str,
        specs: list[AssetOutSpec],
        ins: Mapping[str, AssetIn] | None = None,
        deps: Sequence[Any] = (),
        partitions_def: Any = None,
        backfill_policy: Any = None,
        retry_policy: RetryPolicy | None = None,
        timeout: float | None = None,
        pool: str | None = None,
        automation_condition: Any = None,
        source: SourceInfo | None = None,
        params: Params | None = None,
        check_specs: Sequence[AssetCheckSpec] = (),
        can_subset: bool = False,
    ) -> None:
        self.fn = fn
        self.op_name = op_name
        self.specs = specs
        self.ins: dict[str, AssetIn] = dict(ins or {})
        self.deps = list(deps)
        self.partitions_def = partitions_def
        self.backfill_policy = backfill_policy
        self.retry_policy = retry_policy
        self.timeout = timeout
        self.pool = pool
        if automation_condition is not None:
            from .automation_condition import check_automation_condition

            check_automation_condition(automation_condition, f"asset '{op_name}'")
        self.automation_condition = automation_condition
        self._source = source  # found on first use: only error messages and listings read it
        self.params = params or (read_params(fn) if fn else Params((), None, False, False))
        self.check_specs = list(check_specs)  # checks this step evaluates itself
        self.can_subset = can_subset

    @property
    def source(self) -> SourceInfo:
        """Where the definition was written (its function's file and line)."""
        if self._source is None:
            self._source = SourceInfo.of(self.fn) if self.fn else SourceInfo("<spec>", 0, self.op_name)
        return self._source

    @property
    def is_external(self) -> bool:
        """An ``AssetSpec``: known to the graph, produced outside deras."""
        return self.fn is None

    @property
    def key(self) -> AssetKey:
        if len(self.specs) != 1:
            raise TypeError(f"{self.op_name} produces {len(self.specs)} assets; use .keys")
        return self.specs[0].key

    @property
    def keys(self) -> list[AssetKey]:
        return [s.key for s in self.specs]

    @property
    def node_id(self) -> str:
        return self.specs[0].key.to_user_string() if len(self.specs) == 1 else self.op_name

    @property
    def group_name(self) -> str:
        return self.specs[0].group_name

    @property
    def description(self) -> str | None:
        return self.specs[0].description

    # What a Dagster ``AssetSpec`` reads like; for several assets, the first one's.
    metadata = property(lambda self: self.specs[0].metadata)
    tags = property(lambda self: self.specs[0].tags)
    owners = property(lambda self: list(self.specs[0].owners))
    skippable = property(lambda self: self.specs[0].skippable)
    code_version = property(lambda self: self.specs[0].code_version)

    @property
    def kinds(self) -> set[str]:
        return {k.split("/", 2)[2] for k in self.specs[0].tags if k.startswith("dagster/kind/")}

    def replace_attributes(self, **changes: Any) -> AssetsDefinition:
        """A copy of an ``AssetSpec`` with some fields replaced (Dagster's spelling).

        >>> AssetSpec("a", group_name="x").replace_attributes(group_name="y").group_name
        'y'
        """
        return _respecced(self, changes, merge=False)

    def merge_attributes(self, **additions: Any) -> AssetsDefinition:
        """A copy of an ``AssetSpec`` with ``metadata``/``tags`` merged and ``owners``/``deps``/``kinds``
        added to."""
        return _respecced(self, additions, merge=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fn is None:
            raise TypeError(f"AssetSpec {self.op_name} has no function to call")
        context = kwargs.get(self.params.context) if self.params.context else None
        if context is None and args and self.params.context:
            context = args[0]
        keys = getattr(context, "resource_keys", None)
        if isinstance(keys, frozenset):  # ``dg.build_asset_context(resources=...)``: fill them in
            given = set(self.params.names[: max(len(args) - 1, 0)]) | set(kwargs)
            for name in self.params.names:
                if name in keys and name not in given:
                    kwargs[name] = context.resource(name)  # type: ignore[union-attr]
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<AssetsDefinition {', '.join(map(str, self.keys))}>"


def AssetSpec(
    key: AssetKey | str | Sequence[str],
    *,
    deps: Sequence[Any] = (),
    description: str | None = None,
    group_name: str | None = None,
    metadata: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    owners: Sequence[str] = (),
    partitions_def: Any = None,
    io_manager_key: str = "io_manager",
    kinds: Iterable[str] | None = None,
    skippable: bool = False,
    code_version: str | None = None,
    automation_condition: Any = None,
) -> AssetsDefinition:
    """An asset's description without its function.

    Alone in ``Definitions(assets=[...])`` it is an asset produced outside deras (a vendor
    file, a table another team owns) that other assets may name in ``deps=``. In
    ``@multi_asset(specs=[...])`` it is one of the assets the function produces; its
    ``deps`` become the step's upstreams. ``kinds`` are recorded as ``dagster/kind/<kind>``
    tags; ``skippable=True`` lets the step end without a result for it.

    >>> AssetSpec("vendor/raw_prices", kinds={"s3"}).specs[0].tags
    {'dagster/kind/s3': ''}
    """
    asset_key = AssetKey.coerce(key)
    spec = AssetOutSpec(
        "__".join(asset_key.path),  # its output name in a multi_asset, as Dagster names it
        asset_key,
        group_name or DEFAULT_GROUP,
        description,
        dict(metadata or {}),
        _with_kinds(tags, kinds),
        tuple(owners),
        io_manager_key,
        code_version,
        skippable,
    )
    return AssetsDefinition(
        fn=None,
        op_name=asset_key.to_user_string(),
        specs=[spec],
        deps=deps,
        partitions_def=partitions_def,
        automation_condition=automation_condition,
    )


def _with_kinds(tags: Mapping[str, str] | None, kinds: Iterable[str] | None) -> dict[str, str]:
    """Kinds are tags in Dagster's spelling, which the snapshot already reads as kinds."""
    out = dict(tags or {})
    if isinstance(kinds, str):
        raise TypeError(f"kinds= takes a set of strings, got the string {kinds!r}")
    for kind in kinds or ():
        out[f"dagster/kind/{kind}"] = ""
    return out


@overload
def asset(fn: Callable[..., Any], /) -> AssetsDefinition: ...
@overload
def asset(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    key: AssetKey | str | Sequence[str] | None = None,
    deps: Sequence[Any] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    partitions_def: Any = None,
    group_name: str | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    owners: Sequence[str] | None = None,
    code_version: str | None = None,
    retry_policy: RetryPolicy | None = None,
    io_manager_key: str = "io_manager",
    pool: str | None = None,
    timeout: float | None = None,
    backfill_policy: Any = None,
    automation_condition: Any = None,
    check_specs: Sequence[AssetCheckSpec] | None = None,
    kinds: Iterable[str] | None = None,
) -> Callable[[Callable[..., Any]], AssetsDefinition]: ...


def asset(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    key: AssetKey | str | Sequence[str] | None = None,
    deps: Sequence[Any] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    partitions_def: Any = None,
    group_name: str | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    owners: Sequence[str] | None = None,
    code_version: str | None = None,
    retry_policy: RetryPolicy | None = None,
    io_manager_key: str = "io_manager",
    pool: str | None = None,
    timeout: float | None = None,
    backfill_policy: Any = None,
    automation_condition: Any = None,
    check_specs: Sequence[AssetCheckSpec] | None = None,
    kinds: Iterable[str] | None = None,
) -> AssetsDefinition | Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare a software-defined asset: a function whose return value is the asset's data.

    Parameters named like other assets receive their values; parameters named like a
    resource receive the resource; ``context`` receives an ``AssetExecutionContext``. With
    ``check_specs=`` the function also yields an ``AssetCheckResult`` per spec (next to
    ``Output(value)``); a spec without a result fails the step.

    >>> @asset
    ... def numbers():
    ...     return [1, 2, 3]
    >>> @asset(group_name="demo")
    ... def total(numbers):
    ...     return sum(numbers)
    >>> total.key.to_user_string()
    'total'
    """

    def decorate(f: Callable[..., Any]) -> AssetsDefinition:
        asset_key = _key_for(f, name, key, key_prefix)
        spec = AssetOutSpec(
            "result",
            asset_key,
            group_name or DEFAULT_GROUP,
            description if description is not None else _first_doc_line(f),
            dict(metadata or {}),
            _with_kinds(tags, kinds),
            tuple(owners or ()),
            io_manager_key,
            code_version,
        )
        return AssetsDefinition(
            fn=f,
            op_name=name or f.__name__,
            specs=[spec],
            ins=ins,
            deps=deps or (),
            partitions_def=partitions_def,
            backfill_policy=backfill_policy,
            retry_policy=retry_policy,
            timeout=timeout,
            pool=pool,
            automation_condition=automation_condition,
            check_specs=check_specs_of(check_specs, f"@asset on {f.__name__}"),
        )

    return decorate(fn) if fn is not None else decorate


def _key_for(
    f: Callable[..., Any],
    name: str | None,
    key: AssetKey | str | Sequence[str] | None,
    key_prefix: str | Sequence[str] | None,
) -> AssetKey:
    if key is not None:
        if name or key_prefix:
            raise ValueError(f"@asset on {f.__name__}: give either key= or name=/key_prefix=, not both")
        return AssetKey.coerce(key)
    asset_key = AssetKey(name or f.__name__)
    return asset_key.with_prefix(key_prefix) if key_prefix else asset_key


def _first_doc_line(f: Callable[..., Any]) -> str | None:
    doc = f.__doc__
    if not doc:
        return None
    return doc.strip().split("\n\n")[0].strip() or None


def flatten(items: Iterable[Any]) -> list[Any]:
    """Lists of definitions may nest (``assets=[*load_assets(), [a, b]]``)."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, list | tuple):
            out.extend(flatten(item))
        else:
            out.append(item)
    return out


_SPEC_FIELDS = ("description", "group_name", "metadata", "owners", "code_version", "skippable")
_KIND_TAG = "dagster/kind/"


def _respecced(a: AssetsDefinition, changes: dict[str, Any], *, merge: bool) -> AssetsDefinition:
    """A new AssetSpec from ``a``'s fields with ``changes`` replacing (or, ``merge``, added to) them."""
    if not a.is_external:
        raise TypeError(f"{a.op_name}: replace_attributes/merge_attributes apply to dg.AssetSpec(...) only")
    spec = a.specs[0]
    fields: dict[str, Any] = {f: getattr(spec, f) for f in _SPEC_FIELDS}
    fields.update(deps=list(a.deps), partitions_def=a.partitions_def, io_manager_key=spec.io_manager_key)
    fields.update(automation_condition=a.automation_condition)
    fields["tags"] = {k: v for k, v in spec.tags.items() if not k.startswith(_KIND_TAG)}
    kinds = a.kinds
    key = spec.key
    for name, value in changes.items():
        if merge and name in ("metadata", "tags"):
            fields[name] = {**fields[name], **value}
        elif merge and name in ("owners", "deps"):
            fields[name] = [*fields[name], *value]
        elif name == "kinds":
            kinds = kinds | set(value) if merge else set(value)
        elif merge:
            raise TypeError(f"merge_attributes adds to metadata, tags, owners, deps and kinds, not '{name}'")
        elif name == "key":
            key = AssetKey.coerce(value)
        elif name in fields:
            fields[name] = value
        else:
            raise TypeError(f"AssetSpec has no field '{name}'")
    return AssetSpec(key, kinds=sorted(kinds), **fields)
