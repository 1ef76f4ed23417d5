"""Multi-dimensional partitions: one partition per (day, region)."""

import dagster as dg

regions_by_day = dg.MultiPartitionsDefinition(
    {
        "date": dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-08"),
        "region": dg.StaticPartitionsDefinition(["eu", "us"]),
    }
)


@dg.asset(partitions_def=regions_by_day)
def regional_sales(context: dg.AssetExecutionContext) -> dict:
    keys = context.partition_key.keys_by_dimension
    return {"date": keys["date"], "region": keys["region"], "sales": len(keys["region"]) * 10}
