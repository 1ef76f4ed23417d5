"""The tags deras itself puts on runs (and on a DAG's task nodes), all under ``deras/``.

A user's tags keep their own names; a tag of the same name as one of these is overwritten
where deras sets it. ``DAG_ID``, ``RUN_TYPE`` and ``LOGICAL_DATE`` repeat what a DAG run
record holds in its columns (``RunRecord.dag_id``...): code decides by the columns, the tags
stay for what reads tags (``tag_concurrency_limits``, sensors, ``runs list --json``), and
``LOGICAL_DATE`` is the logical date as the DAG's own calendar writes it.
"""

from __future__ import annotations

# A DAG run's identity (also in the run's columns)
DAG_ID = "deras/dag_id"
RUN_TYPE = "deras/run_type"
LOGICAL_DATE = "deras/logical_date"  # ISO text in the DAG's timezone
TEST = "deras/test"  # `deras dags test` / `tasks test`: not a stand-in for a scheduled run

# Where a run came from
SCHEDULE = "deras/schedule"
TICK_TIME = "deras/tick_time"
SENSOR = "deras/sensor"
TICK_ID = "deras/tick_id"  # the sensor tick that created the run
RUN_KEY = "deras/run_key"
BACKFILL = "deras/backfill"
TRIGGERED_BY = "deras/triggered_by"  # the assets whose updates started an asset-scheduled DAG
AUTOMATION = "deras/automation"  # "eager" or "on_cron"

# Runs made from other runs
PARENT_RUN_ID = "deras/parent_run_id"
FROM_FAILURE = "deras/from_failure"
RETRY_NUMBER = "deras/retry_number"
DEBUG = "deras/debug"

# Read by deras
PRIORITY = "deras/priority"  # queue order of a run (an integer; higher first)
