"""What a code location defines, as plain data: JSON-safe, no user code, no store access.

The web server and the read model work from a ``CodeSnapshot`` that the code server (another
process) built from the ``Definitions``; they never import the user's module. Every class
round-trips through ``to_json()`` / ``from_json()``; ``from_json`` ignores keys it does not
know and fills fields it does not find with their defaults, so a snapshot written by a newer
or older deras still reads.

>>> ref = LocationRef(file="/code/defs.py", module=None, working_dir=None)
>>> LocationRef.from_json(ref.to_json()) == ref, ref.to_json()
(True, {'file': '/code/defs.py'})
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self


class _Snap:
    """``to_json``/``from_json`` for the frozen dataclasses below.

    ``_nested`` names the fields holding other snaps (a list of them or one, maybe None);
    ``_pairs`` the fields holding lists of 2-tuples (JSON has only lists).
    """

    __slots__ = ()
    _nested: ClassVar[dict[str, type[_Snap]]] = {}
    _pairs: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        return {f.name: _dump(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            nested = cls._nested.get(name)
            if nested is not None and value is not None:
                is_list = isinstance(value, list)
                kwargs[name] = [nested.from_json(v) for v in value] if is_list else nested.from_json(value)
            elif name in cls._pairs:
                kwargs[name] = [tuple(v) for v in value]
            else:
                kwargs[name] = value
        return cls(**kwargs)


def _dump(value: Any) -> Any:
    if isinstance(value, _Snap):
        return value.to_json()
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class LocationRef(_Snap):
    """How to load a code location again; ``to_json()`` is the run's ``code_location`` dict."""

    file: str | None = None
    module: str | None = None
    working_dir: str | None = None
    dags_folder: str | None = None

    def to_json(self) -> dict[str, Any]:
        fields = (
            ("file", self.file),
            ("module", self.module),
            ("working_dir", self.working_dir),
            ("dags_folder", self.dags_folder),
        )
        return {k: v for k, v in fields if v is not None}

    @property
    def label(self) -> str:
        """What the UI calls it: the file's path, the module's name or the DAG folder's path."""
        return self.file or self.module or self.dags_folder or "<unknown>"


@dataclass(frozen=True, slots=True)
class PartitionsSnap(_Snap):
    """A partitions definition, summarised: never the whole key list when it is large.

    ``keys`` is the key list of a static definition of at most ``MAX_LISTED_KEYS`` keys (for a
    launch form's dropdown), else None. ``count`` of a dynamic definition is what the store held
    when the snapshot was built (0 without a store). ``dimensions`` (multi only) are the two
    dimensions, each with its ``name``. ``index_ranges`` are the current keys as ``[start, end)``
    ranges of the index space, where partition status indices fall (a daily definition's first
    index is its start day's ordinal, not 0); None when unknown or more than ``MAX_INDEX_RANGES``.
    """

    MAX_LISTED_KEYS: ClassVar[int] = 1000
    MAX_INDEX_RANGES: ClassVar[int] = 1000
    _nested: ClassVar[dict[str, type[_Snap]]] = {}  # dimensions: set below (self-reference)

    kind: str  # "time" | "static" | "dynamic" | "multi"
    count: int = 0
    first_key: str | None = None
    last_key: str | None = None
    cron: str | None = None
    timezone: str | None = None
    dimensions: list[PartitionsSnap] = field(default_factory=list)
    name: str | None = None  # the dimension's name (multi), or the dynamic definition's name
    fmt: str | None = None  # time: the key format
    start: str | None = None  # time: ISO start
    end: str | None = None  # time: ISO end, None when open-ended
    keys: list[str] | None = None
    index_space_id: str | None = None
    description: str = ""  # the definition's repr, for people
    index_ranges: list[list[int]] | None = None


PartitionsSnap._nested = {"dimensions": PartitionsSnap}


@dataclass(frozen=True, slots=True)
class AssetSnap(_Snap):
    """One asset. ``deps`` are the asset keys it reads or waits for (``AssetKey`` user strings);
    ``metadata`` values are strings (the definition's metadata, shown, never interpreted)."""

    _nested: ClassVar[dict[str, type[_Snap]]] = {"partitions": PartitionsSnap}

    key: str
    group: str = "default"
    deps: list[str] = field(default_factory=list)
    description: str | None = None
    kinds: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    partitions: PartitionsSnap | None = None
    is_source: bool = False  # an AssetSpec: produced outside deras
    is_observable: bool = False
    has_checks: bool = False
    code_version: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    node_id: str = ""  # the graph node (step) that produces it; shared by a multi-asset's keys
    check_names: list[str] = field(default_factory=list)
    automation: str | None = None  # "eager" / "on_cron(...)" when it has an automation condition
    source_file: str | None = None
    source_line: int | None = None


@dataclass(frozen=True, slots=True)
class CheckSnap(_Snap):
    name: str
    asset_key: str
    blocking: bool = False
    description: str | None = None
    node_id: str = ""  # "<asset>:<name>", the step's id in runs


@dataclass(frozen=True, slots=True)
class JobSnap(_Snap):
    name: str
    selection: list[str] = field(default_factory=list)  # asset keys
    partitioned: bool = False
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TaskSnap(_Snap):
    task_id: str
    operator: str = "BaseOperator"
    group: str | None = None  # the TaskGroup's id
    trigger_rule: str = "all_success"
    retries: int = 0
    pool: str | None = None
    outlets: list[str] = field(default_factory=list)  # asset keys the task produces
    doc: str | None = None


@dataclass(frozen=True, slots=True)
class DagSnap(_Snap):
    """A DAG. ``edges`` are ``(upstream task_id, downstream task_id)``; dates are ISO strings."""

    _nested: ClassVar[dict[str, type[_Snap]]] = {"tasks": TaskSnap}
    _pairs: ClassVar[tuple[str, ...]] = ("edges",)

    dag_id: str
    tasks: list[TaskSnap] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    schedule: str = "None"  # one line: '@daily', '30 2 * * *', 'every 1:00:00', 'on a, b'
    timezone: str = "UTC"
    start_date: str | None = None
    end_date: str | None = None
    catchup: bool = False
    max_active_runs: int = 16
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    file: str | None = None
    schedule_kind: str = "none"  # cron | timedelta | once | none | assets
    params: dict[str, Any] = field(default_factory=dict)  # name -> JSON-safe default (or None)
    edge_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # up -> {down: Label text}


@dataclass(frozen=True, slots=True)
class ScheduleSnap(_Snap):
    name: str
    cron: str
    timezone: str = "UTC"
    target: str | None = None  # the job's or DAG's name
    default_status: str = "stopped"
    description: str | None = None
    target_kind: str = "job"  # "job" | "dag"


@dataclass(frozen=True, slots=True)
class SensorSnap(_Snap):
    name: str
    kind: str = "sensor"  # "sensor" | "asset_sensor" | "run_status" | "automation"
    minimum_interval: float = 30
    target: str | None = None  # a job/DAG name, an asset selection, or None
    default_status: str = "stopped"
    description: str | None = None
    asset_key: str | None = None  # asset sensors: the asset watched


@dataclass(frozen=True, slots=True)
class CodeSnapshot(_Snap):
    """Everything a code location defines. ``version`` hashes the nodes and edges only (see
    ``graph_version``): equal versions can share one computed lineage layout."""

    _nested: ClassVar[dict[str, type[_Snap]]] = {
        "location": LocationRef,
        "assets": AssetSnap,
        "checks": CheckSnap,
        "jobs": JobSnap,
        "dags": DagSnap,
        "schedules": ScheduleSnap,
        "sensors": SensorSnap,
    }

    location: LocationRef
    version: str
    assets: list[AssetSnap] = field(default_factory=list)
    checks: list[CheckSnap] = field(default_factory=list)
    jobs: list[JobSnap] = field(default_factory=list)
    dags: list[DagSnap] = field(default_factory=list)
    schedules: list[ScheduleSnap] = field(default_factory=list)
    sensors: list[SensorSnap] = field(default_factory=list)
    loaded_at: float = 0.0
    # a DAG folder's files that did not import -> the traceback of their code (the rest loaded)
    load_errors: dict[str, str] = field(default_factory=dict)

    def asset(self, key: str) -> AssetSnap | None:
        return next((a for a in self.assets if a.key == key), None)

    def dag(self, dag_id: str) -> DagSnap | None:
        return next((d for d in self.dags if d.dag_id == dag_id), None)

    def job(self, name: str) -> JobSnap | None:
        return next((j for j in self.jobs if j.name == name), None)


@dataclass(frozen=True, slots=True)
class LoadErrorSnap(_Snap):
    """Why a code location did not load: the message, the user's traceback, and where (the
    user's file and line of the innermost frame of their code, or of a syntax error)."""

    _nested: ClassVar[dict[str, type[_Snap]]] = {"location": LocationRef}

    location: LocationRef
    message: str
    traceback: str = ""
    file: str | None = None
    line: int | None = None
    failed_at: float = 0.0


def graph_version(assets: list[AssetSnap], checks: list[CheckSnap], dags: list[DagSnap]) -> str:
    """sha256 of the canonical JSON of the nodes (with their groups) and edges.

    >>> graph_version([AssetSnap("a"), AssetSnap("b", deps=["a"])], [], []) == graph_version(
    ...     [AssetSnap("b", deps=["a"]), AssetSnap("a")], [], [])
    True
    """
    canon = {
        "assets": sorted([a.key, a.group, sorted(a.deps)] for a in assets),
        "checks": sorted([c.asset_key, c.name] for c in checks),
        "dags": sorted(
            [d.dag_id, sorted([t.task_id, t.group or ""] for t in d.tasks), sorted(map(list, d.edges))]
            for d in dags
        ),
    }
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def snapshot_from_json(data: dict[str, Any]) -> CodeSnapshot | LoadErrorSnap:
    """A code server's ``snapshot`` answer: a snapshot, or ``{"error": LoadErrorSnap}``."""
    if "error" in data:
        return LoadErrorSnap.from_json(data["error"])
    return CodeSnapshot.from_json(data)
