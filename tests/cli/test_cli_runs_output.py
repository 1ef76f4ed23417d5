"""What ``deras runs list|show`` and ``materialize`` print about what ran, and for what."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# `from conftest import` would find whichever conftest was imported first (tests/web has one too)
EXAMPLE = Path(__file__).parents[2] / "examples" / "share_prices" / "definitions.py"

PARTITIONED_AND_DAG = """
from datetime import datetime
import deras as dg

@dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2025-01-01"))
def daily_prices(context: dg.AssetExecutionContext) -> str:
    return context.partition_key

@dg.dag(dag_id="etl", schedule="@daily", start_date=datetime(2025, 1, 1), catchup=False)
def etl():
    @dg.task
    def extract() -> int:
        return 1

    extract()

etl_dag = etl()
"""


@pytest.mark.slow
def test_materialize_partition_range_json_names_each_runs_partition(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "prices.py"
    code.write_text(PARTITIONED_AND_DAG)
    proc = deras(
        "materialize", "-f", str(code), "--select", "daily_prices", "--partition-range",
        "2025-01-01...2025-01-03", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [r["partition_key"] for r in out] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    stored = {r["run_id"]: r["partition_key"] for r in json.loads(deras("runs", "list", "--json").stdout)}
    assert {r["run_id"]: r["partition_key"] for r in out} == stored


@pytest.mark.slow
def test_runs_list_and_show_give_a_dag_runs_logical_date_and_an_asset_runs_partition(
    deras, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "prices.py"
    code.write_text(PARTITIONED_AND_DAG)
    part = deras(
        "materialize", "-f", str(code), "--select", "daily_prices", "--partition", "2025-01-02", "--json"
    )
    assert part.returncode == 0, part.stderr
    dag = deras("dags", "test", "etl", "2025-01-05", "-f", str(code), "--json")
    assert dag.returncode == 0, dag.stderr
    dag_run, part_run = json.loads(dag.stdout)["run_id"], json.loads(part.stdout)["run_id"]

    rows = {
        line.split("│")[1].strip(): line for line in deras("runs", "list").stdout.splitlines() if "│" in line
    }
    assert "2025-01-05T00:00:00+00:00" in rows[dag_run]
    assert "2025-01-02" in rows[part_run]
    listed = {r["run_id"]: r for r in json.loads(deras("runs", "list", "--json").stdout)}
    assert listed[dag_run]["logical_date"] == "2025-01-05T00:00:00+00:00"
    assert listed[part_run]["logical_date"] is None

    assert "logical date: 2025-01-05T00:00:00+00:00" in deras("runs", "show", dag_run).stdout
    assert "partition: 2025-01-02" in deras("runs", "show", part_run).stdout


@pytest.mark.slow
def test_runs_list_piped_to_another_program_keeps_whole_rows(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "long.py"
    name = "share_prices_adjusted_for_splits_and_dividends_in_indonesian_rupiah_" * 3 + "x"
    code.write_text(f"import deras as dg\n\n@dg.asset\ndef {name}() -> int:\n    return 1\n")
    run_id = json.loads(deras("materialize", "-f", str(code), "--select", name, "--json").stdout)["run_id"]
    # The fixture's COLUMNS=200 is what a terminal would say; a pipe is not a terminal.
    proc = deras("runs", "list")
    assert proc.returncode == 0
    (row,) = [line for line in proc.stdout.splitlines() if run_id in line]
    assert f"assets:{name}" in row and len(row) > 200
    assert "…" not in proc.stdout


@pytest.mark.slow
def test_the_readme_first_command_leaves_the_example_folder_as_checked_out(tmp_path: Path) -> None:
    """It runs from the checkout with no DERAS_HOME: what it makes goes to ./.deras, nothing to
    examples/ (a tutorial reader copies that folder and must get the seed's files only)."""
    checkout = tmp_path / "checkout"
    example = checkout / "examples" / "share_prices"
    shutil.copytree(EXAMPLE.parent, example, ignore=shutil.ignore_patterns("__pycache__", "*.duckdb*"))

    def files() -> set[str]:
        return {str(p.relative_to(example)) for p in example.rglob("*") if "__pycache__" not in p.parts}

    before = files()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DERAS_", "SHARE_PRICES_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "deras", "materialize", "-f", "examples/share_prices/definitions.py"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert files() == before
    assert (checkout / ".deras" / "prices.duckdb").is_file()
