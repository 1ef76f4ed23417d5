"""Request and response bodies of the API, as pydantic models: what ``/api/v1/openapi.json`` documents.

Responses are the read model's ``to_json()`` dicts; the models name the fields clients rely on
and let the rest through (``extra="allow"``), so the read model can grow without breaking them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "bad input (the message says what and how to fix it)"},
    404: {"model": Problem, "description": "no such thing"},
}

# -- runs ----------------------------------------------------------------------------------------


class RunSummary(Open):
    run_id: str
    status: str
    target: str | None = None
    target_kind: str | None = None
    job_name: str | None = None
    dag_id: str | None = None
    logical_date: Any = None
    partition_key: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    create_time: float | None = None
    start_time: float | None = None
    end_time: float | None = None


class RunPage(BaseModel):
    items: list[RunSummary]
    next_cursor: str | None = None


class AttemptView(Open):
    attempt: int | None = None
    status: str | None = None
    start_time: float | None = None
    end_time: float | None = None


class StepView(Open):
    node: str
    kind: str | None = None
    status: str | None = None
    attempts: list[AttemptView] = Field(default_factory=list)


class RunDetail(Open):
    run_id: str | None = None
    status: str | None = None
    step_count: int = Field(0, description="every step of the run; steps holds the first steps_limit")
    step_statuses: dict[str, int] = Field(default_factory=dict, description="every step, by status")
    steps: list[StepView] = Field(default_factory=list)
    failed_steps: list[StepView] = Field(default_factory=list, description="failed or upstream_failed")


class EventView(BaseModel):
    event_id: int
    run_id: str
    event_type: str
    node: str | None = None
    attempt: int | None = None
    level: str | None = None
    message: str
    timestamp: float
    data: dict[str, Any] = Field(default_factory=dict)


class EventPage(BaseModel):
    items: list[EventView]
    next_cursor: str | None = Field(None, description="set when more events were waiting")


class LogRecord(Open):
    event_id: int
    timestamp: float
    level: str
    node: str | None = None
    text: str


class LogPage(Open):
    run_id: str
    node: str | None = None
    records: list[LogRecord]
    last_event_id: int | None = Field(None, description="pass as `after` for the records that follow")
    more: bool


class LaunchRun(BaseModel):
    """One of: ``selection`` (+ ``partition``), ``job`` (+ ``partition``), or ``dag_id`` (+ ``conf``,
    ``logical_date``)."""

    model_config = ConfigDict(extra="forbid")
    selection: str | None = None
    job: str | None = None
    dag_id: str | None = None
    partition: str | None = None
    conf: dict[str, Any] | None = None
    logical_date: str | None = None
    tags: dict[str, str] | None = None
    config: dict[str, Any] | None = None


class Launched(BaseModel):
    run_id: str


class Reexecute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_failure: bool = True


class ClearTasks(BaseModel):
    """Clear task instances of a DAG run so they run again inside the same run."""

    model_config = ConfigDict(extra="forbid")
    tasks: list[str] = Field(min_length=1)
    downstream: bool = False


class RunStatusView(BaseModel):
    run_id: str
    status: str


# -- assets, DAGs, instigators, backfills, locations ---------------------------------------------


class AssetSummary(Open):
    key: str


class AssetPage(BaseModel):
    items: list[AssetSummary]
    next_cursor: str | None = None


class AssetDetail(Open):
    key: str


class LineageLayoutView(Open):
    version: str
    nodes: dict[str, list[Any]]
    edges: list[list[int]]


class AssetStatuses(Open):
    version: str | None = None
    state_codes: dict[str, str] = Field(description="letter -> state")
    keys: list[str] = Field(description="the assets with a state (any other is missing)")
    states: str = Field(description="one letter per key")
    last_materialized: list[int | None] = Field(description="per key, its latest materialization (s)")
    failing_checks: list[int] = Field(description="per key, how many of its checks failed last")


class DagSummary(Open):
    dag_id: str


class DagGrid(Open):
    dag_id: str
    tasks: list[str]
    runs: list[RunSummary]
    state_codes: dict[str, str] = Field(description="letter -> task instance state")
    cells: list[str] = Field(description="per run, one letter per task ('.': no instance)")
    next_cursor: str | None = None


class InstigatorView(Open):
    name: str


class TickPage(Open):
    items: list[dict[str, Any]]
    next_cursor: str | None = None


class InstigatorStatus(BaseModel):
    name: str
    key: str = Field(description="the storage name: schedule:NAME, dag:ID, sensor:NAME")
    status: str


class BackfillView(Open):
    backfill_id: str


class BackfillPage(Open):
    items: list[BackfillView]


class LaunchBackfill(BaseModel):
    """A backfill of ``selection``, ``job`` or ``dag_id`` over ``partition_range`` [first, last]
    or the listed ``partitions``."""

    model_config = ConfigDict(extra="forbid")
    selection: str | None = None
    job: str | None = None
    dag_id: str | None = None
    partition_range: list[str] | None = Field(None, min_length=2, max_length=2)
    partitions: list[str] | None = None
    tags: dict[str, str] | None = None


class BackfillLaunched(BaseModel):
    backfill_id: str


class BackfillStatusView(BaseModel):
    backfill_id: str
    status: str


class CodeLocationView(Open):
    name: str
    status: str
    error: dict[str, Any] | None = None


class Health(Open):
    pass


class Overview(Open):
    pass
