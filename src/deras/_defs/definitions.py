"""``Definitions``: everything a code location holds, validated once when built."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from .._core.errors import DefinitionError, SelectionError
from .._core.keys import AssetKey
from .._graph.graph import Graph
from .._graph.node import Node
from .._graph.selection import resolve_selection
from .asset import AssetsDefinition, flatten
from .asset_lowering import AssetLowering
from .check import AssetChecksDefinition
from .check_spec import MultiAssetChecksDefinition
from .job import AssetJob
from .op_job import JobDefinition, missing_resources


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: building allocates many objects and frees none, so
    the collector's repeated full passes over a growing heap would be a third of the build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Definitions:
    """The assets, checks, resources, jobs, schedules, sensors and DAGs of one code location.

    Building it validates the whole graph and raises one ``DefinitionError`` listing every
    problem (unknown parameter or dependency, duplicate key, missing resource, cycle, ...).

    >>> from deras._defs.asset import asset
    >>> @asset
    ... def a():
    ...     return 1
    >>> @asset
    ... def b(a):
    ...     return a + 1
    >>> Definitions(assets=[a, b]).graph.order
    ['a', 'b']
    """

    def __init__(
        self,
        assets: Iterable[Any] = (),
        asset_checks: Iterable[AssetChecksDefinition | MultiAssetChecksDefinition] = (),
        resources: Mapping[str, Any] | None = None,
        jobs: Iterable[Any] = (),
        schedules: Iterable[Any] = (),
        sensors: Iterable[Any] = (),
        dags: Iterable[Any] = (),
        executor: Any = None,
    ) -> None:
        self.resources: dict[str, Any] = dict(resources or {})
        self.assets: list[AssetsDefinition] = []
        self.asset_checks: list[AssetChecksDefinition | MultiAssetChecksDefinition] = []
        problems: list[str] = []
        for item in flatten(list(assets)) + flatten(list(asset_checks)):
            if isinstance(item, AssetsDefinition):
                self.assets.append(item)
            elif isinstance(item, AssetChecksDefinition | MultiAssetChecksDefinition):
                self.asset_checks.append(item)
            else:
                problems.append(
                    f"Definitions(assets=[...]) got {item!r}, which is not an asset, AssetSpec or "
                    "asset check. "
                    "Fix: decorate the function with @dg.asset, or remove it."
                )
        self.jobs: list[Any] = flatten(list(jobs))
        self.schedules: list[Any] = flatten(list(schedules))
        self.sensors: list[Any] = flatten(list(sensors))
        self.dags: list[Any] = flatten(list(dags))
        from .executor_choice import executor_from

        self.executor = executor_from(executor, where="Definitions(executor=...)")
        problems.extend(self._check_schedules_and_sensors())
        problems.extend(self._add_job_resources())

        self.graph: Graph | None = None
        with gc_paused():
            problems.extend(self._build_graph())
        if problems:
            raise DefinitionError(problems)
        self._assets_by_key = {k: a for a in self.assets for k in a.keys}

    def _build_graph(self) -> list[str]:
        """Lower assets, checks and DAG tasks to one graph, validate it, resolve jobs."""
        task_nodes: list[Node] = [n for dag in self.dags for n in dag.graph_nodes()]  # the same nodes
        # An asset may depend on what a DAG task produces (its outlets): one lineage graph.
        outlets = {key: n.id for n in task_nodes for key in n.asset_keys}
        lowering = AssetLowering(self.assets, self.asset_checks, self.resources, outlets)
        op_nodes = [n for job in self.jobs if isinstance(job, JobDefinition) for n in job.op_nodes()]
        nodes: list[Node] = lowering.lower() + task_nodes + op_nodes
        problems = list(lowering.problems)
        try:
            self.graph = Graph(nodes)
        except DefinitionError as err:
            problems.extend(err.problems)
        if self.graph is not None:
            problems.extend(self._resolve_jobs())
            problems.extend(self._check_targets())
        return problems

    @property
    def asset_graph(self) -> Graph:
        assert self.graph is not None
        return self.graph

    def _resolve_jobs(self) -> list[str]:
        problems = []
        names: set[str] = set()
        for job in self.jobs:
            if not isinstance(job, AssetJob):
                continue
            if job.name in names:
                problems.append(f"two jobs are named '{job.name}'. Fix: rename one.")
            names.add(job.name)
            if isinstance(job, JobDefinition):
                continue  # its nodes are its ops: nothing to select
            try:
                job.node_ids = frozenset(resolve_selection(self.asset_graph, job.selection))
            except SelectionError as err:
                problems.append(f"job '{job.name}': {err}")
            if job.run_retry_policy is not None:
                from .run_retry_policy import check_run_retry_policy

                try:
                    check_run_retry_policy(job.run_retry_policy, f"job '{job.name}'")
                except DefinitionError as err:
                    problems.extend(err.problems)
        return problems

    def _add_job_resources(self) -> list[str]:
        """Op jobs' ``resource_defs`` join the resources (those of Definitions win); every resource
        an op needs must be there."""
        problems = []
        for job in self.jobs:
            if not isinstance(job, JobDefinition):
                continue
            for key, value in job.resource_defs.items():
                self.resources.setdefault(key, value)
        for job in self.jobs:
            if isinstance(job, JobDefinition):
                problems.extend(missing_resources(job, self.resources))
        return problems

    # -- schedules and sensors ------------------------------------------------------------------
    def _check_schedules_and_sensors(self) -> list[str]:
        """Types and unique names; the job objects they run join ``jobs``/``dags`` (as in Dagster)."""
        if not self.schedules and not self.sensors:
            return []
        from .schedule import ScheduleDefinition
        from .sensor import SensorDefinition

        problems: list[str] = []
        kinds: dict[str, str] = {}
        for kind, cls, items in (
            ("schedule", ScheduleDefinition, self.schedules),
            ("sensor", SensorDefinition, self.sensors),
        ):
            for item in items:
                if not isinstance(item, cls):
                    problems.append(_not_a(kind, cls.__name__, item))
                    continue
                if item.name in kinds:
                    problems.append(
                        f"two schedules or sensors are named '{item.name}' (a {kinds[item.name]} and a "
                        f"{kind}): names are unique across both. Fix: give one of them another name=."
                    )
                kinds[item.name] = kind
                if item.job is not None:
                    problems.extend(self._add_target(item.job, f"{kind} '{item.name}'"))
        return problems

    def _add_target(self, job: Any, owner: str) -> list[str]:
        if isinstance(job, AssetJob):
            same = [j for j in self.jobs if isinstance(j, AssetJob) and j.name == job.name]
            if not same:
                self.jobs.append(job)
            elif all(j is not job and not _same_job(j, job) for j in same):
                return [
                    f"{owner} runs job '{job.name}', which differs from the job of that name in "
                    "jobs=[...]. Fix: pass the same job object to both."
                ]
        elif not any(d.dag_id == job.dag_id for d in self.dags):
            self.dags.append(job)
        return []

    def _check_targets(self) -> list[str]:
        """Every ``job_name`` names a job or DAG; every sensor's ``asset_selection`` resolves."""
        if not self.schedules and not self.sensors:
            return []
        known = [j.name for j in self.jobs if isinstance(j, AssetJob)] + [d.dag_id for d in self.dags]
        problems = []
        for kind, items in (("schedule", self.schedules), ("sensor", self.sensors)):
            for item in items:
                if getattr(item, "kind", None) != kind:
                    continue  # reported already
                job_name = item.job_name
                if job_name is not None and job_name not in known:
                    import difflib

                    close = difflib.get_close_matches(job_name, known, n=1)
                    hint = f" Did you mean '{close[0]}'?" if close else ""
                    problems.append(
                        f"{kind} '{item.name}' runs job_name='{job_name}', but no job or DAG has that "
                        f"name (jobs and DAGs: {sorted(known)}).{hint} Fix: add it to "
                        "Definitions(jobs=[...]) or dags=[...], or pass job=<the job object>."
                    )
                selection = getattr(item, "asset_selection", None)  # sensors only
                if selection is not None:
                    try:
                        resolve_selection(self.asset_graph, selection)
                    except SelectionError as err:
                        problems.append(f"{kind} '{item.name}': asset_selection: {err}")
        return problems

    def get_job(self, name: str) -> AssetJob:
        for job in self.jobs:
            if getattr(job, "name", None) == name:
                return job
        known = [getattr(j, "name", "?") for j in self.jobs]
        raise DefinitionError(f"no job named '{name}' (jobs: {known})")

    get_job_def = get_job  # Dagster's name: ``defs.get_job_def("nightly").execute_in_process()``

    def get_schedule(self, name: str) -> Any:
        """The ``ScheduleDefinition`` called ``name``."""
        for s in self.schedules:
            if s.name == name:
                return s
        raise DefinitionError(
            f"no schedule named '{name}' (schedules: {sorted(s.name for s in self.schedules)})"
        )

    def get_sensor(self, name: str) -> Any:
        """The ``SensorDefinition`` called ``name`` (asset and run status sensors included)."""
        for s in self.sensors:
            if s.name == name:
                return s
        raise DefinitionError(f"no sensor named '{name}' (sensors: {sorted(s.name for s in self.sensors)})")

    def get_asset(self, key: AssetKey | str) -> AssetsDefinition:
        return self._assets_by_key[AssetKey.coerce(key)]

    def get_partitions_def(self, key: AssetKey | str) -> Any:
        return self.get_asset(key).partitions_def

    @staticmethod
    def merge(*defs: Definitions) -> Definitions:
        resources: dict[str, Any] = {}
        for d in defs:
            resources.update(d.resources)
        return Definitions(
            assets=[a for d in defs for a in d.assets],
            asset_checks=[c for d in defs for c in d.asset_checks],
            resources=resources,
            jobs=[j for d in defs for j in d.jobs],
            schedules=[s for d in defs for s in d.schedules],
            sensors=[s for d in defs for s in d.sensors],
            dags=[x for d in defs for x in d.dags],
        )


def _not_a(kind: str, cls_name: str, item: Any) -> str:
    name = getattr(item, "name", None) or getattr(item, "__name__", None) or type(item).__name__
    if kind == "schedule" and getattr(item, "kind", None) == "sensor":
        fix = "move it to sensors=[...]"
    elif kind == "sensor" and getattr(item, "kind", None) == "schedule":
        fix = "move it to schedules=[...]"
    else:
        fix = f"decorate the function with @dg.{kind} or build a dg.{cls_name}"
    return f"Definitions({kind}s=[...]) got {name}, which is not a {cls_name}. Fix: {fix}."


def _same_job(a: AssetJob, b: AssetJob) -> bool:
    """Equal definitions (``node_ids`` is filled in by whichever Definitions saw the job first)."""
    return replace(a, node_ids=frozenset()) == replace(b, node_ids=frozenset())


class LazyDefinitions:
    """What ``@definitions`` returns: a function the loader calls to build ``Definitions``."""

    def __init__(self, fn: Callable[[], Definitions]) -> None:
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "definitions")
        self.__doc__ = fn.__doc__

    def __call__(self) -> Definitions:
        result = self.fn()
        if not isinstance(result, Definitions):
            raise DefinitionError(
                f"@definitions function {self.__name__} returned {type(result).__name__}, "
                "not dg.Definitions. Fix: return dg.Definitions(assets=[...], ...)."
            )
        return result


def definitions(fn: Callable[[], Definitions]) -> LazyDefinitions:
    """Mark the function that builds this code location's ``Definitions``.

    >>> @definitions
    ... def defs():
    ...     return Definitions(assets=[])
    >>> isinstance(defs(), Definitions)
    True
    """
    return LazyDefinitions(fn)
