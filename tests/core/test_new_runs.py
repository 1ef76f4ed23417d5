"""Building run records: a typed target decides the columns and the deras tags of a run."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from deras._core import tags
from deras._core.errors import DerasError
from deras._core.new_runs import new_run, retry_of
from deras._core.records import RunRecord, RunTarget, TargetKind
from deras._core.status import RunStatus

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_dag_run_holds_its_identity_in_fields_and_in_its_tags() -> None:
    local = datetime(2025, 3, 30, tzinfo=BERLIN)
    run = new_run(
        RunTarget.dag("etl"),
        selection=["etl.a"],
        logical_date=local,
        run_type="scheduled",
        tags={"team": "x"},
    )
    assert (run.dag_id, run.run_type, run.job_name, run.target) == ("etl", "scheduled", "etl", "dag:etl")
    assert run.logical_date == local and run.logical_date.tzinfo is UTC  # one instant, kept in UTC
    assert run.tags == {
        "team": "x",
        tags.DAG_ID: "etl",
        tags.RUN_TYPE: "scheduled",
        tags.LOGICAL_DATE: "2025-03-30T00:00:00+01:00",  # as the DAG's own calendar writes it
    }
    assert run.scope == "2025-03-30T00:00:00+01:00"
    assert run.run_target == RunTarget.dag("etl")


def test_deras_tags_of_a_dag_run_win_over_tags_given_for_it() -> None:
    run = new_run(
        RunTarget.dag("etl"),
        selection=[],
        logical_date=datetime(2025, 1, 1, tzinfo=UTC),
        run_type="manual",
        tags={tags.DAG_ID: "other", tags.RUN_TYPE: "backfill"},
    )
    assert (run.tags[tags.DAG_ID], run.tags[tags.RUN_TYPE]) == ("etl", "manual")


def test_a_dag_run_needs_an_aware_logical_date_and_a_run_type() -> None:
    with pytest.raises(ValueError, match="logical_date"):
        new_run(RunTarget.dag("etl"), selection=[], run_type="manual")
    with pytest.raises(ValueError, match="aware"):
        new_run(RunTarget.dag("etl"), selection=[], logical_date=datetime(2025, 1, 1), run_type="manual")
    with pytest.raises(ValueError, match="run_type"):
        new_run(RunTarget.dag("etl"), selection=[], logical_date=datetime(2025, 1, 1, tzinfo=UTC))


def test_runs_of_assets_and_jobs_have_no_dag_fields() -> None:
    assets = new_run(RunTarget.assets(), selection=["a"], label="assets:a")
    job = new_run(RunTarget.job("daily"), selection=["a"])
    assert (assets.dag_id, assets.logical_date, assets.run_type, assets.job_name) == (None, None, None, None)
    assert (job.dag_id, job.logical_date, job.run_type, job.job_name) == (None, None, None, "daily")
    assert (assets.target, job.target) == ("assets:a", "job:daily")
    assert (assets.run_target.kind, job.run_target.kind) == (TargetKind.ASSETS, TargetKind.JOB)
    with pytest.raises(ValueError, match="no logical_date"):
        new_run(RunTarget.job("daily"), selection=[], logical_date=datetime(2025, 1, 1, tzinfo=UTC))


def test_the_kind_of_a_run_is_decided_by_its_fields_not_its_label() -> None:
    assert RunRecord("r", "dag:etl").run_target == RunTarget.assets()  # a label is only text
    assert RunRecord("r", "x", job_name="daily").run_target == RunTarget.job("daily")
    assert RunRecord("r", "x", job_name="etl", dag_id="etl").run_target == RunTarget.dag("etl")


def test_a_target_of_assets_has_no_name_and_a_job_or_dag_has_one() -> None:
    with pytest.raises(ValueError):
        RunTarget(TargetKind.ASSETS, "a")
    with pytest.raises(ValueError):
        RunTarget(TargetKind.DAG)


def test_the_priority_tag_wins_over_the_priority_given() -> None:
    run = new_run(RunTarget.assets(), selection=[], tags={tags.PRIORITY: "5"}, priority=-10)
    assert run.priority == 5
    assert new_run(RunTarget.assets(), selection=[], priority=-10).priority == -10
    with pytest.raises(DerasError, match=r"deras/priority='high' is not an integer"):
        new_run(RunTarget.assets(), selection=[], tags={tags.PRIORITY: "high"})


def test_a_retry_of_a_dag_run_keeps_its_dag_run_and_the_logical_date_text() -> None:
    first = new_run(
        RunTarget.dag("etl"),
        selection=["etl.a", "etl.b"],
        logical_date=datetime(2025, 3, 30, tzinfo=BERLIN),
        run_type="scheduled",
        backfill_id="bf",
        priority=-10,
    )
    first.status = RunStatus.FAILURE
    retry = retry_of(first, 1, selection=["etl.a", "etl.b"], idempotency_key="retry:x:1", create_time=5.0)
    assert (retry.dag_id, retry.logical_date, retry.run_type) == (
        first.dag_id,
        first.logical_date,
        "scheduled",
    )
    assert retry.tags[tags.LOGICAL_DATE] == "2025-03-30T00:00:00+01:00"
    assert retry.tags[tags.RETRY_NUMBER] == "1" and retry.tags[tags.PARENT_RUN_ID] == first.run_id
    assert (retry.parent_run_id, retry.root_run_id) == (first.run_id, first.run_id)
    assert (retry.status, retry.backfill_id, retry.priority) == (RunStatus.QUEUED, "bf", -10)
    assert retry.run_id != first.run_id
