"""A Dagster project, written as Dagster's tutorials and examples write one, runs unchanged
under ``--compat dagster``: assets with metadata, ops and jobs with Config, multi-assets with
specs, check specs, multi-partitions, a schedule with run config and a sensor on a job, through
the CLI and the daemon (examples/compat/dagster_project)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from daemon_runs import new_home, runs_the_daemon_finishes

import deras as dg

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "compat" / "dagster_project"
MODULE = ("--compat", "dagster", "-m", "dagster_project.definitions")

Deras = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project copied next to where deras runs, so ``-m dagster_project.definitions`` imports."""
    shutil.copytree(
        PROJECT, tmp_path / "dagster_project", ignore=shutil.ignore_patterns("__pycache__", "out")
    )
    return tmp_path / "dagster_project"


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def last_run(deras: Deras) -> dict[str, Any]:
    runs = json.loads(ok(deras("runs", "list", "--json")).stdout)
    return json.loads(ok(deras("runs", "show", runs[0]["run_id"], "--json")).stdout)


def test_the_hackernews_assets_count_the_words_of_the_top_titles(deras: Deras, project: Path) -> None:
    ok(deras("materialize", *MODULE, "--select", "group:hackernews"))
    snapshot = json.loads((project / "data" / "hn_snapshot.json").read_text())
    titles = {item["id"]: item["title"] for item in snapshot["items"]}
    counts: Counter[str] = Counter(
        word
        for story in snapshot["top_ids"][:20]
        for word in titles[story].lower().split()
        if len(word) > 2 and word not in {"the", "and", "for"}
    )
    words = json.loads((project / "out" / "words.json").read_text())
    assert words == dict(counts.most_common(10))
    assert len((project / "out" / "stories.jsonl").read_text().splitlines()) == 20


def test_the_hackernews_metadata_is_recorded(deras: Deras, project: Path, tmp_path: Path) -> None:
    ok(deras("materialize", *MODULE, "--select", "group:hackernews"))
    instance = dg.DerasInstance.get(tmp_path / "home")
    (top,) = instance.get_materializations("top_stories")
    assert top.metadata["num_records"] == 20
    assert "| id | title |" in str(top.metadata["preview"])


def test_a_graph_job_runs_with_the_config_it_was_built_with(deras: Deras, project: Path) -> None:
    ok(deras("job", "run", *MODULE, "scaling_job"))
    run = last_run(deras)
    assert run["status"] == "success"
    assert run["run_config"]["ops"]["scale"]["config"]["factor"] == 3
    logs = ok(deras("runs", "logs", run["run_id"])).stdout
    assert "scaling by 3" in logs


def test_a_job_takes_its_config_from_a_yaml_file(deras: Deras, project: Path, tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("ops:\n  scale:\n    config:\n      factor: 7\n")
    ok(deras("job", "run", *MODULE, "doubling_job", "--config", str(config)))
    assert "scaling by 7" in ok(deras("runs", "logs", last_run(deras)["run_id"])).stdout


def test_a_config_that_does_not_validate_fails_before_any_run(
    deras: Deras, project: Path, tmp_path: Path
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("ops:\n  scale:\n    config:\n      factor: lots\n")
    proc = deras("job", "run", *MODULE, "doubling_job", "--config", str(config))
    assert proc.returncode == 1
    assert "scale" in proc.stderr and "factor" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(ok(deras("runs", "list", "--json")).stdout) == []


def test_multi_asset_specs_and_check_specs_record_every_result(
    deras: Deras, project: Path, tmp_path: Path
) -> None:
    ok(deras("materialize", *MODULE, "--select", "shop_tables order_totals"))
    run = last_run(deras)
    assert run["status"] == "success"
    instance = dg.DerasInstance.get(tmp_path / "home")
    assert instance.get_materializations("orders")[0].metadata["rows"] == 3
    assert instance.get_materializations("customers")[0].metadata["rows"] == 2
    shown = ok(deras("runs", "show", run["run_id"])).stdout
    for check in (
        "no_negative_totals on order_totals",
        "orders_not_empty on orders",
        "customers_not_empty on customers",
    ):
        assert f"check {check}: passed" in shown


def test_a_multi_partition_runs_for_one_day_and_region(deras: Deras, project: Path, tmp_path: Path) -> None:
    ok(deras("materialize", *MODULE, "--select", "regional_sales", "--partition", "2024-01-03|eu"))
    assert last_run(deras)["partition_key"] == "2024-01-03|eu"
    bad = deras("materialize", *MODULE, "--select", "regional_sales", "--partition", "2024-01-03|mars")
    assert bad.returncode == 1 and "mars" in bad.stderr and "Traceback" not in bad.stderr


def test_the_schedule_previews_with_its_job_and_config(deras: Deras, project: Path) -> None:
    listed = json.loads(ok(deras("schedule", "list", *MODULE, "--json")).stdout)
    names = {row["name"] for row in listed}
    assert {"doubling_job_schedule", "hackernews_job_schedule"} <= names


def test_the_sensor_on_a_job_runs_it_through_the_daemon(deras: Deras, project: Path, tmp_path: Path) -> None:
    home = new_home(tmp_path)
    ok(deras("sensor", "start", "on_request", *MODULE))
    runs, _ = runs_the_daemon_finishes(home, MODULE, tmp_path)
    instance = dg.DerasInstance.get(home)
    (run,) = runs
    assert (run.target, run.status) == ("job:scaling_job", dg.RunStatus.SUCCESS)
    assert run.run_config["ops"]["scale"]["config"] == {"factor": 5, "label": "from sensor"}
    assert "scaling by 5" in instance.get_logs(run.run_id)
