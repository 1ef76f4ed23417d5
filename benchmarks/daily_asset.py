"""W4's asset: one daily-partitioned asset over 2025 (and a single-run variant)."""

import deras as dg

daily_2025 = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2026-01-01")


@dg.asset(partitions_def=daily_2025)
def daily(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


@dg.asset(partitions_def=daily_2025, backfill_policy=dg.BackfillPolicy.single_run())
def daily_single(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    window = context.partition_time_window
    return dg.MaterializeResult(metadata={"days": (window.end - window.start).days})
