"""The tables of the metadata store: one SQLAlchemy Core schema for SQLite and Postgres.

JSON values are stored as Text (``json.dumps``) rather than a JSON column type, so both
databases store and return exactly the same strings. Times are POSIX timestamps (floats).

The event log is the source of truth; every other table except ``runs`` and
``dynamic_partitions`` is derived from it in the transaction that appends the events.

Changing a table means a new alembic revision in ``migrations/versions`` and a new
:data:`SCHEMA_REVISION`; ``tests/storage`` checks that the migrations build exactly this schema.
The daemon's tables (revision ``0002_daemon``) each have their own module: ``ticks.py``
(ticks, instigator state), ``backfills.py`` (backfills and their units), ``run_queue.py``
(the queue columns of ``runs``) and ``slots.py`` (concurrency slots). ``0003_run_columns``
gives a DAG run's identity columns of its own (``runs.dag_id``, ``logical_date``, ``run_type``);
``0005_read_indexes`` the indexes the read model's keyset pages need (``run_reads.py``);
``0006_daemon_heartbeats`` the daemons' heartbeats (``daemon_heartbeats.py``);
``0007_latest_and_tags`` each asset's and check's latest fact (``asset_latest``,
``check_latest``) and the runs' tags as rows (``run_tags``), for the read model;
``0008_asset_failure_latest`` each asset's latest failure (``asset_failure_latest``);
``0009_variables`` the Airflow-style variables (``variables.py``).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from .escaping import escape_json_text

SCHEMA_REVISION = "0009_variables"
"""The alembic head revision this code expects (compared on open without importing alembic)."""

KNOWN_REVISIONS = (
    "0001_initial",
    "0002_daemon",
    "0003_run_columns",
    "0004_step_claims",
    "0005_read_indexes",
    "0006_daemon_heartbeats",
    "0007_latest_and_tags",
    "0008_asset_failure_latest",
    "0009_variables",
)
"""Every revision in ``migrations/versions``, oldest first."""

VERSION_TABLE = "alembic_version"

# Alembic's own version table, for building a schema without alembic (in-memory stores). Not in
# ``metadata``: alembic manages it and leaves it out of schema comparisons.
version_table = sa.Table(
    VERSION_TABLE,
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), primary_key=True),
)

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    # Insertion order: breaks ties between runs created within the same clock tick.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String, nullable=False, unique=True),
    sa.Column("target", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("job_name", sa.String),
    sa.Column("partition_key", sa.String),
    sa.Column("partition_range", sa.Text),  # JSON [first, last]
    sa.Column("tags", sa.Text, nullable=False),  # JSON object
    sa.Column("run_config", sa.Text, nullable=False),  # JSON object
    sa.Column("selection", sa.Text),  # JSON list of node ids
    sa.Column("code_location", sa.Text),  # JSON object
    sa.Column("parent_run_id", sa.String),
    sa.Column("root_run_id", sa.String),
    sa.Column("backfill_id", sa.String),
    sa.Column("create_time", sa.Double, nullable=False),
    sa.Column("start_time", sa.Double),
    sa.Column("end_time", sa.Double),
    # Creating a run again with the same key is a no-op (a tick or backfill step retried).
    sa.Column("idempotency_key", sa.String),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("heartbeat", sa.Double),  # last sign of life of the worker executing the run
    sa.Column("worker", sa.Text),  # JSON object: {"host": ..., "pid": ...}
    # A DAG run's identity (NULL for other runs). The logical date is an instant, a POSIX
    # timestamp like every time here, so runs order by it whatever timezone their DAG has.
    sa.Column("dag_id", sa.String),
    sa.Column("logical_date", sa.Double),
    sa.Column("run_type", sa.String),  # manual, scheduled, backfill, asset_triggered
    sa.UniqueConstraint("idempotency_key", name="uq_runs_idempotency_key"),
    sa.Index("ix_runs_create_time", "create_time", "id"),
    # Listings filtered by one column, newest first, paged by (create_time, id): an index range
    # each (``run_reads.py``; revision 0005_read_indexes added id, the target and the DAG).
    sa.Index("ix_runs_status", "status", "create_time", "id"),
    sa.Index("ix_runs_backfill_id", "backfill_id", "create_time", "id"),
    sa.Index("ix_runs_target", "target", "create_time", "id"),
    sa.Index("ix_runs_dag_create", "dag_id", "create_time", "id"),
    sa.Index("ix_runs_queue", "status", "priority", "id"),
    sa.Index("ix_runs_end_time", "end_time", "id"),
    # A DAG's runs by logical date, pages of them by (logical_date, id): an index range.
    sa.Index("ix_runs_dag", "dag_id", "logical_date", "id"),
    sqlite_autoincrement=True,
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("run_id", sa.String, primary_key=True),
    sa.Column("node", sa.String, primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("start_time", sa.Double),
    sa.Column("end_time", sa.Double),
    sa.Column("error", sa.Text),
    # Clustered on its primary key: one b-tree to write per attempt instead of two.
    sqlite_with_rowid=False,
)

event_log = sa.Table(
    "event_log",
    metadata,
    # No SQLite AUTOINCREMENT: it costs one more page written per commit (sqlite_sequence), and
    # ids are reused only if the newest events are deleted, which nothing does.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String, nullable=False),
    sa.Column("event_type", sa.String, nullable=False),
    sa.Column("node", sa.String),
    sa.Column("attempt", sa.Integer),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("level", sa.String),
    sa.Column("timestamp", sa.Double, nullable=False),
    sa.Column("data", sa.Text),  # JSON object; NULL when empty
    sa.Index("ix_event_log_run_id", "run_id", "id"),
)

materializations = sa.Table(
    "materializations",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("asset_key", sa.String, nullable=False),
    sa.Column("partition_key", sa.String),
    # A single run over a range of partitions records the range's first and last keys.
    sa.Column("partition_range_first", sa.String),
    sa.Column("partition_range_last", sa.String),
    sa.Column("run_id", sa.String, nullable=False),
    sa.Column("timestamp", sa.Double, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),  # JSON object
    sa.Index("ix_materializations_asset_event", "asset_key", "event_id"),
    sa.Index("ix_materializations_asset_partition", "asset_key", "partition_key", "event_id"),
)

check_results = sa.Table(
    "check_results",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("asset_key", sa.String, nullable=False),
    sa.Column("check_name", sa.String, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("severity", sa.String, nullable=False),
    sa.Column("partition_key", sa.String),
    sa.Column("run_id", sa.String, nullable=False),
    sa.Column("timestamp", sa.Double, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),  # JSON object
    sa.Index("ix_check_results_asset", "asset_key", "event_id"),
    sa.Index("ix_check_results_run", "run_id", "event_id"),
    # The latest result of each check of every asset, in one grouped index scan.
    sa.Index("ix_check_results_asset_check", "asset_key", "check_name", "event_id"),
)

# The latest materialization of each asset and the latest result of each check: derived in the
# transaction that stores their events (an upsert that keeps the higher event id), so the asset
# list reads 10,000 assets' latest facts as one scan instead of 10,000 index seeks.
asset_latest = sa.Table(
    "asset_latest",
    metadata,
    sa.Column("asset_key", sa.String, primary_key=True),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String, nullable=False),
    sa.Column("timestamp", sa.Double, nullable=False),
    sa.Column("partition_key", sa.String),
)

# The latest failure of each asset (an ASSET_FAILED event), kept like asset_latest: the lineage
# colours an asset whose latest failure is newer than its latest materialization as failed.
asset_failure_latest = sa.Table(
    "asset_failure_latest",
    metadata,
    sa.Column("asset_key", sa.String, primary_key=True),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String, nullable=False),
    sa.Column("timestamp", sa.Double, nullable=False),
)

check_latest = sa.Table(
    "check_latest",
    metadata,
    sa.Column("asset_key", sa.String, primary_key=True),
    sa.Column("check_name", sa.String, primary_key=True),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("severity", sa.String, nullable=False),
    sa.Column("run_id", sa.String, nullable=False),
    sa.Column("timestamp", sa.Double, nullable=False),
    sa.Column("partition_key", sa.String),
)

# One row per (run, tag), with the run's sort key copied (create_time, runs.id): a listing
# filtered by a tag is a range of ix_run_tags_key_value, newest first, like the other filters.
# Written with the run (tags never change after).
run_tags = sa.Table(
    "run_tags",
    metadata,
    sa.Column("run_id", sa.String, primary_key=True),
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.String, nullable=False),
    sa.Column("create_time", sa.Double, nullable=False),
    sa.Column("run_row_id", sa.Integer, nullable=False),
    sa.Index("ix_run_tags_key_value", "key", "value", "create_time", "run_row_id"),
    sqlite_with_rowid=False,
)

# One row per (asset, state): the partitions in that state as compact JSON index ranges
# ``[[start, end], ...]`` of the partitions definition ``def_id``. All rows of an asset share one
# def_id; a million partitions in a few ranges cost a few bytes, not a million rows.
partition_status = sa.Table(
    "partition_status",
    metadata,
    sa.Column("asset_key", sa.String, primary_key=True),
    sa.Column("state", sa.String, primary_key=True),
    sa.Column("def_id", sa.String, nullable=False),
    sa.Column("ranges", sa.Text, nullable=False),
)

# Keys of dynamic partitions definitions. ``id`` is the key's partition index: it follows
# insertion order and is never reused (AUTOINCREMENT), so a deleted and re-added key gets a new
# index and never inherits the status recorded for the old one.
dynamic_partitions = sa.Table(
    "dynamic_partitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("partition_key", sa.String, nullable=False),
    sa.UniqueConstraint("name", "partition_key", name="uq_dynamic_partitions_name_key"),
    sa.Index("ix_dynamic_partitions_name_id", "name", "id"),
    sqlite_autoincrement=True,
)

# On/off and cursor of each schedule, sensor or DAG ("schedule:nightly", "sensor:new_files",
# "dag:etl"). A NULL status means "as its definition says".
instigator_state = sa.Table(
    "instigator_state",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("status", sa.String),
    sa.Column("cursor", sa.Text),
    sa.Column("updated_time", sa.Double),
)

# One row per evaluation of a schedule or sensor. (instigator, tick_time) is the exactly-once
# key of a tick; its unique index also serves the per-instigator queries, newest first.
ticks = sa.Table(
    "ticks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("instigator", sa.String, nullable=False),
    sa.Column("tick_time", sa.Double, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("run_ids", sa.Text),  # JSON list
    sa.Column("skip_reason", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("cursor", sa.Text),
    sa.Column("owner", sa.String),
    sa.Column("lease_until", sa.Double),
    sa.Column("start_time", sa.Double),
    sa.Column("end_time", sa.Double),
    sa.UniqueConstraint("instigator", "tick_time", name="uq_ticks_instigator_time"),
)

backfills = sa.Table(
    "backfills",
    metadata,
    sa.Column("backfill_id", sa.String, primary_key=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("target", sa.Text, nullable=False),  # JSON object
    sa.Column("code_location", sa.Text),  # JSON object
    sa.Column("tags", sa.Text, nullable=False),  # JSON object
    sa.Column("run_config", sa.Text, nullable=False),  # JSON object
    sa.Column("policy", sa.Text),  # JSON object
    sa.Column("parent_backfill_id", sa.String),
    sa.Column("num_units", sa.Integer, nullable=False),
    sa.Column("create_time", sa.Double, nullable=False),
    sa.Column("end_time", sa.Double),
    sa.Column("error", sa.Text),
    sa.Index("ix_backfills_create_time", "create_time", "backfill_id"),
)

# The units of a backfill; (backfill_id, stage, partition_key) is the exactly-once key of a
# partition. The status index finds the next pending units in order without scanning the done.
backfill_units = sa.Table(
    "backfill_units",
    metadata,
    sa.Column("backfill_id", sa.String, primary_key=True),
    sa.Column("stage", sa.Integer, primary_key=True),
    sa.Column("partition_key", sa.String, primary_key=True),  # first key of the unit
    sa.Column("partition_last", sa.String),  # last key when the unit is a range
    sa.Column("idx", sa.Integer, nullable=False),  # order within the stage
    sa.Column("status", sa.String, nullable=False),
    sa.Column("run_id", sa.String),
    sa.Index("ix_backfill_units_status", "backfill_id", "status", "stage", "idx"),
    # Clustered on its primary key, like attempts: units are written and read by it.
    sqlite_with_rowid=False,
)

# Slot ``slot`` of concurrency pool ``pool``, held by a node of a run while run_id is set.
concurrency_slots = sa.Table(
    "concurrency_slots",
    metadata,
    sa.Column("pool", sa.String, primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String),
    sa.Column("node", sa.String),
    sa.Column("claimed_time", sa.Double),
    sa.Index("ix_concurrency_slots_run_id", "run_id"),
)

# One row per step attempt dispatched to a remote worker (Celery): the worker that claimed it
# (insert-wins: a redelivered message finds it claimed and does nothing), its heartbeat, and its
# outcome once it ended — or the coordinator's verdict that its worker was lost.
step_claims = sa.Table(
    "step_claims",
    metadata,
    sa.Column("run_id", sa.String, primary_key=True),
    sa.Column("node", sa.String, primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("worker", sa.Text),  # JSON object: host, pid, ...
    sa.Column("claimed_time", sa.Double, nullable=False),
    sa.Column("heartbeat", sa.Double, nullable=False),
    sa.Column("outcome", sa.Text),  # JSON object, set once
    sa.Column("finished_time", sa.Double),
    sqlite_with_rowid=False,
)

# One row per daemon process: who it is and when each of its components last ran, written by
# the daemon's loop every few seconds (``daemon_heartbeats.py``). A daemon that stopped cleanly
# sets ``stopped_time``; one that died just stops beating.
daemon_heartbeats = sa.Table(
    "daemon_heartbeats",
    metadata,
    sa.Column("daemon_id", sa.String, primary_key=True),  # host:pid:nonce
    sa.Column("host", sa.String, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_time", sa.Double, nullable=False),
    sa.Column("heartbeat_time", sa.Double, nullable=False),
    sa.Column("stopped_time", sa.Double),
    sa.Column("components", sa.Text, nullable=False),  # JSON {name: last time it ran}
    sa.Column("info", sa.Text),  # JSON object: version, code location, errors of components
    sa.Index("ix_daemon_heartbeats_time", "heartbeat_time"),
)

# Named values set by users (``deras variables set``, ``dg.Variable.set``) and read by DAG code
# and templates (``variables.py``). A value is text; JSON ones are serialised by the caller.
variables = sa.Table(
    "variables",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("update_time", sa.Double, nullable=False),
)

DERAS_TABLES = (
    runs,
    attempts,
    event_log,
    materializations,
    check_results,
    partition_status,
    dynamic_partitions,
    instigator_state,
    ticks,
    backfills,
    backfill_units,
    concurrency_slots,
    step_claims,
    daemon_heartbeats,
    asset_latest,
    check_latest,
    run_tags,
    asset_failure_latest,
    variables,
)
DERAS_TABLE_NAMES = frozenset(t.name for t in DERAS_TABLES)


_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dump_json(value: Any) -> str:
    """Compact JSON for Text columns; one encoder for every writer, so equal values store equal text.

    Text UTF-8 cannot encode (lone surrogates) comes back escaped (see ``escaping``).
    """
    return escape_json_text(_encode(value))


load_json = json.loads
