"""The code location: everything above, in one Definitions."""

import dagster as dg

from . import hackernews, ops_jobs, regions_by_day, specs_and_checks

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([hackernews, specs_and_checks, regions_by_day]),
    asset_checks=[specs_and_checks.table_checks],
    jobs=[hackernews.hackernews_job, ops_jobs.scaling_job, ops_jobs.doubling_job],
    schedules=[hackernews.hackernews_schedule, ops_jobs.nightly],
    sensors=[ops_jobs.on_request],
)
