"""``AutomationCondition`` values, and how they reach the graph's nodes for the daemon."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import deras as dg


def test_eager_is_a_value() -> None:
    eager = dg.AutomationCondition.eager()
    assert (eager.kind, eager.cron_schedule, eager.cron_timezone) == ("eager", None, None)
    assert eager == dg.AutomationCondition.eager() and hash(eager) == hash(dg.AutomationCondition.eager())
    assert repr(eager) == "AutomationCondition.eager()"
    with pytest.raises(AttributeError):
        eager.kind = "on_cron"  # type: ignore[misc]


def test_on_cron_keeps_its_cron_and_timezone() -> None:
    hourly = dg.AutomationCondition.on_cron("0 * * * *")
    assert (hourly.kind, hourly.cron_schedule, hourly.cron_timezone) == ("on_cron", "0 * * * *", "UTC")
    berlin = dg.AutomationCondition.on_cron("@daily", cron_timezone="Europe/Berlin")
    assert repr(berlin) == "AutomationCondition.on_cron('@daily', cron_timezone='Europe/Berlin')"
    assert berlin != dg.AutomationCondition.on_cron("@daily")


def test_on_cron_ticks_follow_the_dst_policy() -> None:
    at_half_past_two = dg.AutomationCondition.on_cron("30 2 * * *", cron_timezone="Europe/Berlin")
    ticks = at_half_past_two.tick_times_between(
        datetime(2025, 3, 29, 12, tzinfo=UTC), datetime(2025, 3, 31, tzinfo=UTC)
    )
    assert [t.isoformat() for t in ticks] == ["2025-03-30T03:00:00+02:00"]


@pytest.mark.parametrize("cron", ["0 25 * * *", "hourly", "@once"])
def test_invalid_cron_raises_naming_it(cron: str) -> None:
    with pytest.raises(dg.DefinitionError) as err:
        dg.AutomationCondition.on_cron(cron)
    assert repr(cron) in str(err.value)


def test_invalid_timezone_raises_naming_it() -> None:
    with pytest.raises(dg.DefinitionError, match="timezone 'Moon/Base' is not an IANA timezone"):
        dg.AutomationCondition.on_cron("@hourly", cron_timezone="Moon/Base")


def test_unknown_kinds_and_stray_crons_are_refused() -> None:
    with pytest.raises(dg.DefinitionError, match="kind 'lazy' is unknown"):
        dg.AutomationCondition("lazy")  # type: ignore[arg-type]
    with pytest.raises(dg.DefinitionError, match=r"eager\(\) takes no cron schedule"):
        dg.AutomationCondition("eager", "0 * * * *")
    with pytest.raises(dg.DefinitionError, match="give a cron string"):
        dg.AutomationCondition.on_cron(None)  # type: ignore[arg-type]


def test_asset_automation_condition_reaches_its_node() -> None:
    @dg.asset
    def raw() -> int:
        return 1

    @dg.asset(automation_condition=dg.AutomationCondition.eager())
    def clean(raw: int) -> int:
        return raw

    @dg.multi_asset(
        outs={"a": dg.AssetOut(), "b": dg.AssetOut()},
        automation_condition=dg.AutomationCondition.on_cron("0 * * * *"),
    )
    def split() -> tuple[int, int]:
        return 1, 2

    nodes = dg.Definitions(assets=[raw, clean, split]).asset_graph.nodes
    assert clean.automation_condition == dg.AutomationCondition.eager()
    assert nodes["raw"].automation_condition is None
    assert nodes["clean"].automation_condition == dg.AutomationCondition.eager()
    assert nodes["split"].automation_condition == dg.AutomationCondition.on_cron("0 * * * *")


def test_an_asset_automation_condition_must_be_one() -> None:
    with pytest.raises(dg.DefinitionError, match="asset 'clean': automation_condition='eager' is not an"):

        @dg.asset(automation_condition="eager")
        def clean() -> int:
            return 1
