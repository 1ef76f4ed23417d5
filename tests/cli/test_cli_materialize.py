"""``deras materialize``, ``deras check`` and ``deras runs`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# `from conftest import` would find whichever conftest was imported first (tests/web has one too)
EXAMPLE = Path(__file__).parents[2] / "examples" / "share_prices" / "definitions.py"


def test_materialize_example_succeeds_and_prints_json(deras) -> None:  # type: ignore[no-untyped-def]
    proc = deras("materialize", "-f", str(EXAMPLE), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "success" and len(out["run_id"]) == 36
    assert "including check not_empty on import_file" in proc.stderr

    runs = json.loads(deras("runs", "list", "--json").stdout)
    assert [r["run_id"] for r in runs] == [out["run_id"]]
    assert {"run_id", "status", "target", "start_time", "end_time"} <= set(runs[0])

    shown = json.loads(deras("runs", "show", out["run_id"], "--json").stdout)
    assert {(a["node"], a["status"]) for a in shown["attempts"]} == {
        ("import_file", "success"),
        ("import_file:not_empty", "success"),
        ("duckdb_table", "success"),
    }

    logs = deras("runs", "logs", out["run_id"], "--node", "import_file").stdout
    assert "vendor file:" in logs and "share_prices.csv" in logs
    assert "duckdb_table" not in logs


def test_zero_price_csv_blocks_duckdb_table_and_exits_1(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc = deras(
        "materialize",
        "-f",
        str(EXAMPLE),
        "--json",
        env={"SHARE_PRICES_CSV": "data/share_prices_with_zero.csv"},
    )
    assert proc.returncode == 1
    run_id = json.loads(proc.stdout)["run_id"]
    logs = deras("runs", "logs", run_id).stdout
    assert "blocked by check not_empty on import_file" in logs
    shown = json.loads(deras("runs", "show", run_id, "--json").stdout)
    statuses = {a["node"]: a["status"] for a in shown["attempts"]}
    assert statuses == {
        "import_file": "success",
        "import_file:not_empty": "failed",
        "duckdb_table": "skipped",
    }
    assert not (tmp_path / "prices.duckdb").exists()


def test_missing_csv_fails_with_the_file_name(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nowhere.csv"
    proc = deras("materialize", "-f", str(EXAMPLE), env={"SHARE_PRICES_CSV": str(missing)})
    assert proc.returncode == 1
    assert "nowhere.csv" in proc.stderr and "FileNotFoundError" in proc.stderr


def test_malformed_csv_fails_the_check_and_keeps_earlier_runs(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = deras("materialize", "-f", str(EXAMPLE), "--json")
    assert good.returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("date,share_price,amount,spend,shift,spread\n2025-01-02,not-a-number,1,2,3,4\n")
    proc = deras("materialize", "-f", str(EXAMPLE), env={"SHARE_PRICES_CSV": str(bad)})
    assert proc.returncode == 1 and "could not convert string to float" in proc.stderr
    runs = json.loads(deras("runs", "list", "--json").stdout)
    assert [r["status"] for r in runs] == ["failure", "success"]


def test_select_and_partition_errors_are_clear(deras) -> None:  # type: ignore[no-untyped-def]
    proc = deras("materialize", "-f", str(EXAMPLE), "--select", "imprt_file")
    assert proc.returncode == 1
    assert "no asset named 'imprt_file'" in proc.stderr and "import_file" in proc.stderr
    proc = deras("materialize", "-f", str(EXAMPLE), "--partition", "2025-01-01")
    assert proc.returncode == 1 and "none of the selected assets is partitioned" in proc.stderr


def test_check_prints_graph_and_exits_1_on_definition_error(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc = deras("check", "-f", str(EXAMPLE))
    assert proc.returncode == 0
    assert "check import_file:not_empty (blocking) ← import_file" in proc.stdout
    assert "ok: 2 assets, 1 check" in proc.stdout

    broken = tmp_path / "broken.py"
    broken.write_text(
        "import deras as dg\n\n@dg.asset\ndef a(b):\n    return b\n\n"
        "@dg.asset(deps=[a])\ndef b():\n    return 1\n"
    )
    proc = deras("check", "-f", str(broken))
    assert proc.returncode == 1
    assert "error: cycle in the graph: a → b → a" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_db_upgrade_creates_the_schema(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc = deras("db", "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert "created the deras database" in proc.stdout  # says what it did, not "up to date"
    assert (tmp_path / "home" / "deras.db").exists()
    again = deras("db", "upgrade")
    assert again.returncode == 0 and "up to date" in again.stdout


def _zero_price_run(deras) -> str:  # type: ignore[no-untyped-def]
    """The id of a run of the example whose blocking check failed (so duckdb_table was skipped)."""
    proc = deras(
        "materialize",
        "-f",
        str(EXAMPLE),
        "--json",
        env={"SHARE_PRICES_CSV": "data/share_prices_with_zero.csv"},
    )
    return str(json.loads(proc.stdout)["run_id"])


def test_runs_show_prints_failed_check_metadata_and_accepts_id_prefix(deras) -> None:  # type: ignore[no-untyped-def]
    run_id = _zero_price_run(deras)
    shown = deras("runs", "show", run_id[:8])
    assert shown.returncode == 0, shown.stderr
    assert f"run {run_id}" in shown.stdout
    assert "check not_empty on import_file: FAILED (ERROR)" in shown.stdout
    assert "'share' is below 0" in shown.stdout and "2025-01-27" in shown.stdout
    logs = deras("runs", "logs", run_id[:8]).stdout
    assert "step.py" not in logs  # a failed blocking check is a verdict, not a crash: no deras traceback


def test_unknown_run_id_is_a_one_line_error(deras) -> None:  # type: ignore[no-untyped-def]
    proc = deras("runs", "show", "no-such-run")
    assert proc.returncode == 1 and proc.stderr.strip() == "error: no run with id no-such-run"


def test_bad_database_url_is_a_one_line_error(deras) -> None:  # type: ignore[no-untyped-def]
    proc = deras("runs", "list", env={"DERAS_DATABASE_URL": "mysql://nobody@127.0.0.1:1/none"})
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        "error: cannot open the metadata database at mysql://nobody@127.0.0.1:1/none"
    )
    assert "Traceback" not in proc.stderr


def test_deras_yaml_code_location_is_relative_to_the_yaml(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    (home / "pipelines").mkdir()
    (home / "pipelines" / "p.py").write_text("import deras as dg\n\n@dg.asset\ndef one():\n    return 1\n")
    (home / "deras.yaml").write_text("code_location:\n  file: pipelines/p.py\n")
    proc = deras("materialize", "--json")
    assert proc.returncode == 0, proc.stderr
    (home / "deras.yaml").write_text("executer: {type: multiprocess}\n")
    bad = deras("runs", "list")
    assert bad.returncode == 1 and "unknown setting(s) ['executer']" in bad.stderr


def test_multi_run_backfill_policy_chunks_a_partition_range(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "chunks.py"
    code.write_text(
        "import deras as dg\n"
        "days = dg.DailyPartitionsDefinition(start_date='2025-01-01', end_date='2025-02-01')\n"
        "@dg.asset(partitions_def=days, backfill_policy=dg.BackfillPolicy.multi_run(3))\n"
        "def d(context: dg.AssetExecutionContext):\n"
        "    return len(context.partition_keys)\n"
    )
    proc = deras("materialize", "-f", str(code), "--partition-range", "2025-01-01...2025-01-07", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [r["status"] for r in json.loads(proc.stdout)] == ["success"] * 3  # 3 + 3 + 1 partitions
    runs = json.loads(deras("runs", "list", "--json").stdout)
    assert sorted(tuple(r["partition_range"] or (r["partition_key"],) * 2) for r in runs) == [
        ("2025-01-01", "2025-01-03"),
        ("2025-01-04", "2025-01-06"),
        ("2025-01-07", "2025-01-07"),
    ]


def test_job_with_select_runs_only_the_selected_part_of_the_job(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "jobs.py"
    code.write_text(
        "import deras as dg\n"
        "@dg.asset\ndef a():\n    return 1\n"
        "@dg.asset\ndef b(a):\n    return a + 1\n"
        "@dg.asset\ndef c():\n    return 3\n"
        "defs = dg.Definitions(assets=[a, b, c], jobs=[dg.define_asset_job('ab', selection='a b')])\n"
    )
    whole = deras("materialize", "-f", str(code), "--job", "ab", "--json")
    assert whole.returncode == 0, whole.stderr
    run = json.loads(deras("runs", "show", json.loads(whole.stdout)["run_id"], "--json").stdout)
    assert {a["node"] for a in run["attempts"]} == {"a", "b"} and run["target"] == "job:ab"
    part = deras("materialize", "-f", str(code), "--job", "ab", "--select", "b c", "--json")
    run = json.loads(deras("runs", "show", json.loads(part.stdout)["run_id"], "--json").stdout)
    assert {a["node"] for a in run["attempts"]} == {"b"}


def test_two_processes_materializing_into_one_home_both_succeed(tmp_path: Path, db_url: str) -> None:
    """Two `deras materialize` at once on one database (SQLite file or Postgres) lose nothing."""
    import os
    import subprocess
    import sys

    code = tmp_path / "many.py"
    code.write_text(
        "import deras as dg\n"
        "def make(i):\n"
        "    @dg.asset(name=f'a{i}')\n"
        "    def a():\n"
        "        return i\n"
        "    return a\n"
        "assets = [make(i) for i in range(300)]\n"
        "defs = dg.Definitions(assets=assets)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    env["DERAS_HOME"] = str(tmp_path / "home")
    env["DERAS_DATABASE_URL"] = db_url
    subprocess.run([sys.executable, "-m", "deras", "db", "upgrade"], env=env, check=True, capture_output=True)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "deras", "materialize", "-f", str(code), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
    listed = subprocess.run(
        [sys.executable, "-m", "deras", "runs", "list", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    runs = json.loads(listed.stdout)
    assert sorted(r["status"] for r in runs) == ["success", "success"]
    for out, _ in outs:
        shown = subprocess.run(
            [sys.executable, "-m", "deras", "runs", "show", json.loads(out)["run_id"], "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        assert len(json.loads(shown.stdout)["attempts"]) == 300


@pytest.mark.slow
def test_a_node_skipped_before_it_ran_shows_no_try_number(deras) -> None:  # type: ignore[no-untyped-def]
    run_id = _zero_price_run(deras)
    lines = {line.split()[0]: line for line in deras("runs", "show", run_id).stdout.splitlines()[2:]}
    assert "try 1" in lines["import_file:not_empty"]
    assert "skipped" in lines["duckdb_table"] and "try" not in lines["duckdb_table"]
    shown = json.loads(deras("runs", "show", run_id, "--json").stdout)
    tries = {a["node"]: a["try_number"] for a in shown["attempts"]}
    assert tries == {"import_file": 1, "import_file:not_empty": 1, "duckdb_table": None}


def test_summary_names_the_assets_that_did_not_run_because_an_upstream_failed(  # type: ignore[no-untyped-def]
    deras, tmp_path: Path
) -> None:
    (tmp_path / "chain.py").write_text(
        "import deras as dg\n\n"
        "@dg.asset\ndef raw() -> int:\n    raise ValueError('source is down')\n\n"
        "@dg.asset\ndef clean(raw: int) -> int:\n    return raw\n\n"
        "@dg.asset\ndef report(clean: int) -> int:\n    return clean\n\n"
        "@dg.asset\ndef other() -> int:\n    return 1\n",
        encoding="utf-8",
    )
    proc = deras("materialize", "-f", "chain.py", "--no-progress")
    assert proc.returncode == 1
    assert "✗ raw: ValueError: source is down" in proc.stderr
    assert "not run (upstream failed): clean, report" in proc.stderr
    assert "other" not in proc.stderr
