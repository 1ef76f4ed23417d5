"""Multi-assets described by specs, and checks declared with the asset that runs them."""

import dagster as dg


@dg.multi_asset(
    specs=[
        dg.AssetSpec("orders", group_name="shop", description="raw orders"),
        dg.AssetSpec("customers", group_name="shop"),
    ]
)
def shop_tables():
    yield dg.MaterializeResult(asset_key="orders", metadata={"rows": 3})
    yield dg.MaterializeResult(asset_key="customers", metadata={"rows": 2})


@dg.asset(
    deps=["orders"],
    group_name="shop",
    check_specs=[dg.AssetCheckSpec("no_negative_totals", asset="order_totals")],
)
def order_totals():
    totals = {"c1": 30.0, "c2": 12.5}
    yield dg.Output(totals)
    yield dg.AssetCheckResult(
        check_name="no_negative_totals", passed=all(v >= 0 for v in totals.values())
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec("orders_not_empty", asset="orders"),
        dg.AssetCheckSpec("customers_not_empty", asset="customers"),
    ]
)
def table_checks():
    yield dg.AssetCheckResult(asset_key="orders", check_name="orders_not_empty", passed=True)
    yield dg.AssetCheckResult(asset_key="customers", check_name="customers_not_empty", passed=True)
