"""A DAG's window, start_date to end_date: no run, of any kind, for a logical date outside it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import deras as dg
from deras._dags.run_window import scheduled_dates


def _dag(**dates: datetime) -> dg.DAG:
    with dg.DAG("ends", schedule="@daily", **dates) as dag:
        dg.EmptyOperator(task_id="noop")
    return dag


ENDS = _dag(start_date=datetime(2025, 3, 1), end_date=datetime(2025, 3, 6))


def test_a_run_after_end_date_is_refused_naming_the_date_the_window_and_the_fix() -> None:
    with pytest.raises(dg.DerasError) as err:
        ENDS.test(logical_date=datetime(2025, 3, 7))
    message = str(err.value)
    assert "DAG 'ends'" in message and "2025-03-07T00:00:00+00:00" in message
    assert "after its end_date 2025-03-06T00:00:00+00:00" in message
    assert "from 2025-03-01T00:00:00+00:00 to 2025-03-06T00:00:00+00:00" in message


def test_a_run_before_start_date_is_refused() -> None:
    with pytest.raises(dg.DerasError, match="before its start_date 2025-03-01"):
        ENDS.test(logical_date=datetime(2025, 2, 28))


def test_start_and_end_dates_themselves_run() -> None:
    assert ENDS.test(logical_date=datetime(2025, 3, 1)).state == "success"
    assert ENDS.test(logical_date=datetime(2025, 3, 6)).state == "success"


def test_a_manual_run_of_an_ended_dag_is_refused_rather_than_run_now() -> None:
    with pytest.raises(dg.DerasError, match="after its end_date"):
        ENDS.test()  # "now" is long after 2025-03-06


def test_the_window_is_compared_as_instants_in_the_dags_timezone() -> None:
    berlin = _dag(
        start_date=datetime(2025, 3, 1, tzinfo=ZoneInfo("Europe/Berlin")),
        end_date=datetime(2025, 3, 6, tzinfo=ZoneInfo("Europe/Berlin")),
    )
    assert berlin.test(logical_date=datetime(2025, 3, 6)).state == "success"  # Berlin midnight
    with pytest.raises(dg.DerasError, match=r"2025-03-06T01:00:00\+01:00: it is after its end_date"):
        berlin.test(logical_date=datetime(2025, 3, 6, tzinfo=UTC))


def test_a_dag_without_dates_runs_for_any_logical_date() -> None:
    with dg.DAG("open") as open_dag:
        dg.EmptyOperator(task_id="noop")
    assert open_dag.test(logical_date=datetime(1999, 1, 1, tzinfo=UTC)).state == "success"


def test_scheduled_dates_of_a_range_are_split_by_the_window() -> None:
    inside, outside = scheduled_dates(
        ENDS, datetime(2025, 2, 27, tzinfo=UTC), datetime(2025, 3, 8, tzinfo=UTC)
    )
    assert [d.day for d in inside] == [1, 2, 3, 4, 5, 6]
    assert [(d.month, d.day) for d in outside] == [(2, 27), (2, 28), (3, 7), (3, 8)]
