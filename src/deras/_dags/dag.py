"""``DAG`` and ``@dag``: a workflow of tasks with a schedule."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .._compat.built_dags import note_dag_built
from .._core.errors import DefinitionError
from .context import current_dag

_PRESETS_NONE = (None, "None")


class DAG:
    """A directed acyclic graph of tasks, with a schedule and run settings.

    >>> from datetime import datetime
    >>> from deras._dags.operators import EmptyOperator
    >>> with DAG("etl", schedule="@daily", start_date=datetime(2025, 1, 1)) as etl:
    ...     start, end = EmptyOperator(task_id="start"), EmptyOperator(task_id="end")
    ...     _ = start >> end
    >>> [t.task_id for t in etl.topological_tasks()]
    ['start', 'end']
    """

    auto_register: bool  # and the other Airflow settings of _AIRFLOW_SETTINGS, set from the arguments
    render_template_as_native_obj: bool

    def __init__(
        self,
        dag_id: str,
        *,
        schedule: Any = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        catchup: bool = False,
        default_args: Mapping[str, Any] | None = None,
        tags: Iterable[str] = (),
        params: Mapping[str, Any] | None = None,
        max_active_runs: int = 16,
        dagrun_timeout: timedelta | None = None,
        description: str | None = None,
        on_failure_callback: Callable[..., Any] | None = None,
        on_success_callback: Callable[..., Any] | None = None,
        doc_md: str | None = None,
        executor: Any = None,
        run_retry_policy: Any = None,
        user_defined_macros: Mapping[str, Any] | None = None,
        user_defined_filters: Mapping[str, Callable[..., Any]] | None = None,
        **airflow_settings: Any,
    ) -> None:
        from .._defs.dag_schedule import parse_schedule
        from .._defs.run_retry_policy import check_run_retry_policy

        if not dag_id or not all(c.isalnum() or c in "_-." for c in dag_id):
            raise DefinitionError(f"DAG id {dag_id!r}: use letters, digits, '_', '-' and '.' only")
        unknown = sorted(set(airflow_settings) - set(_AIRFLOW_SETTINGS))
        if unknown:
            close = difflib.get_close_matches(unknown[0], [*_AIRFLOW_SETTINGS, *_OWN_ARGUMENTS], n=1)
            raise DefinitionError(
                f"DAG '{dag_id}': invalid argument(s) {', '.join(map(repr, unknown))}"
                + (f"; did you mean {close[0]!r}?" if close else "")
            )
        for name, default in _AIRFLOW_SETTINGS.items():
            setattr(self, name, airflow_settings.get(name, default))
        if "schedule_interval" in airflow_settings:  # Airflow 2's name, deprecated there too
            if schedule is not None:
                raise DefinitionError(f"DAG '{dag_id}': give schedule= or schedule_interval=, not both")
            schedule = airflow_settings["schedule_interval"]
        # Airflow 2 takes the DAG's start_date from default_args when the DAG has none.
        if start_date is None and default_args:
            start_date = default_args.get("start_date")
        if end_date is None and default_args:
            end_date = default_args.get("end_date")
        self.fileloc, self.module_name = _creator()
        self.user_defined_macros = dict(user_defined_macros or {})
        self.user_defined_filters = dict(user_defined_filters or {})
        self.dag_id = dag_id
        self.start_date = _aware(start_date)
        self.end_date = _aware(end_date)
        timezone = getattr(self.start_date.tzinfo, "key", "UTC") if self.start_date else "UTC"
        self.schedule = parse_schedule(
            schedule, where=f"DAG '{dag_id}'", timezone=timezone, start_date=self.start_date
        )
        self.schedule_arg = schedule
        self.catchup = catchup
        self.default_args = dict(default_args or {})
        self.tags = list(tags)
        self.params = dict(params or {})
        self.max_active_runs = max_active_runs
        self.dagrun_timeout = dagrun_timeout
        self.description = description
        self.doc_md = doc_md
        self.on_failure_callback = on_failure_callback
        self.on_success_callback = on_success_callback
        from .._defs.executor_choice import executor_from

        self.executor = executor_from(executor, where=f"DAG '{dag_id}'")
        # How the daemon re-launches a failed run of this DAG (None: deras.yaml's run_retries).
        self.run_retry_policy = check_run_retry_policy(run_retry_policy, f"DAG '{dag_id}'")
        self.task_dict: dict[str, Any] = {}
        self._graph: Any = None
        self._token: Any = None
        from .._defs.params import validate_params_definition

        problems = validate_params_definition(self.params, f"DAG '{dag_id}'")
        if problems:
            raise DefinitionError(problems)
        note_dag_built(self)  # under --compat airflow, found even if never assigned to a name

    # -- building -------------------------------------------------------------------------
    def __enter__(self) -> DAG:
        self._token = current_dag.set(self)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        current_dag.reset(self._token)
        if exc_type is None:
            self.validate()
            if self.auto_register:  # found in its file even if no variable holds it (Airflow >= 2.4)
                from .._defs.dag_registry import register_dag

                register_dag(self.module_name, self)

    def add_task(self, task: Any) -> None:
        if task.task_id in self.task_dict:
            raise DefinitionError(
                f"task id '{task.task_id}' is used twice in DAG '{self.dag_id}' (at {task.source}). "
                "Fix: give each task its own task_id."
            )
        self.task_dict[task.task_id] = task
        self._graph = None

    def invalidate(self) -> None:
        self._graph = None

    @property
    def tasks(self) -> list[Any]:
        return list(self.task_dict.values())

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def get_edge_info(self, upstream_task_id: str, downstream_task_id: str) -> dict[str, str]:
        """What is recorded on an edge: ``{"label": ...}`` for a ``Label``, else ``{}``."""
        label = self.get_task(upstream_task_id).edge_labels.get(downstream_task_id)
        return {"label": label} if label is not None else {}

    def get_task(self, task_id: str) -> Any:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise DefinitionError(
                f"DAG '{self.dag_id}' has no task '{task_id}' (tasks: {sorted(self.task_dict)})"
            ) from None

    # -- the shared graph -------------------------------------------------------------------
    def graph_nodes(self) -> list[Any]:
        from .lowering import lower_dag

        return lower_dag(self)

    @property
    def graph(self) -> Any:
        """The DAG's own compiled graph (validated: a cycle raises, naming its path)."""
        if self._graph is None:
            from .._graph.graph import Graph

            self._graph = Graph(self.graph_nodes())
        return self._graph

    def validate(self) -> None:
        _ = self.graph

    def topological_tasks(self) -> list[Any]:
        prefix = len(self.dag_id) + 1
        return [self.task_dict[nid[prefix:]] for nid in self.graph.order]

    # -- running ------------------------------------------------------------------------------
    def test(
        self,
        logical_date: datetime | None = None,
        conf: Mapping[str, Any] | None = None,
        *,
        instance: Any = None,
        run_type: str = "manual",
        executor: Any = None,
        run_conf: Mapping[str, Any] | None = None,
        execution_date: datetime | None = None,
    ) -> Any:
        """Run the DAG once and return the DAG run.

        On an in-memory instance unless ``instance=`` is given; its tasks run in this process
        unless ``executor=`` (or the DAG's own) says otherwise. ``run_conf`` and
        ``execution_date`` are Airflow's names for ``conf`` and ``logical_date``.
        """
        if run_conf is not None:
            if conf is not None:
                raise DefinitionError("dag.test(): give conf= or run_conf=, not both")
            conf = run_conf
        if execution_date is not None:
            if logical_date is not None:
                raise DefinitionError("dag.test(): give logical_date= or execution_date=, not both")
            logical_date = execution_date
        from .._instance.dag_test import dag_test  # the allowed upward call: see the module

        return dag_test(self, logical_date, conf, instance=instance, run_type=run_type, executor=executor)

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"


# DAG arguments Airflow takes that deras accepts and keeps without acting on them (the UI's
# default view, auto-pausing, access control...), with their defaults.
_AIRFLOW_SETTINGS: dict[str, Any] = {
    "max_active_tasks": 16,
    "concurrency": None,
    "default_view": "grid",
    "orientation": "LR",
    "is_paused_upon_creation": None,
    "owner_links": None,
    "access_control": None,
    "render_template_as_native_obj": False,
    "template_searchpath": None,
    "template_undefined": None,
    "jinja_environment_kwargs": None,
    "sla_miss_callback": None,
    "fail_stop": False,
    "fail_fast": False,
    "dag_display_name": None,
    "auto_register": True,
    "schedule_interval": None,
    "full_filepath": None,
    "doc_rst": None,
}
_OWN_ARGUMENTS = (
    "schedule", "start_date", "end_date", "catchup", "default_args", "tags", "params",
    "max_active_runs", "dagrun_timeout", "description", "on_failure_callback",
    "on_success_callback", "doc_md", "executor", "run_retry_policy", "user_defined_macros",
    "user_defined_filters",
)  # fmt: skip


def dag(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    dag_id: str | None = None,
    **dag_kwargs: Any,
) -> Any:
    """Turn a function into a DAG factory: calling it builds the DAG from the tasks it calls.

    >>> @dag(schedule=None)
    ... def hello():
    ...     pass
    >>> hello().dag_id
    'hello'
    """

    def decorate(f: Callable[..., Any]) -> Callable[..., DAG]:
        @functools.wraps(f)
        def build(*args: Any, **kwargs: Any) -> DAG:
            params = dict(dag_kwargs.pop("params", None) or {}) if "params" in dag_kwargs else {}
            params.update(_function_params(f))
            built = DAG(dag_id or f.__name__, params=params, **dag_kwargs)
            if f.__doc__ and built.doc_md is None:
                built.doc_md = f.__doc__
            with built:
                f(*args, **kwargs)
            return built

        return build

    return decorate(fn) if fn is not None else decorate


def _creator() -> tuple[str, str]:
    """The file and module of the code creating the DAG: the first frame outside deras."""
    import sys

    frame: Any = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("deras."):
        frame = frame.f_back
    if frame is None:
        return "<unknown>", "<unknown>"
    return frame.f_code.co_filename, frame.f_globals.get("__name__", "<unknown>")


def _function_params(f: Callable[..., Any]) -> dict[str, Any]:
    """Parameters of a @dag function with defaults become DAG params, as in Airflow."""
    code = f.__code__
    names = code.co_varnames[: code.co_argcount]
    defaults = f.__defaults__ or ()
    return dict(zip(names[len(names) - len(defaults) :], defaults, strict=True))


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
