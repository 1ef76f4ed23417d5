"""Re-executing from failure and debugging one node of a past run."""

from __future__ import annotations

import json
from pathlib import Path

PIPELINE = """
import os
from pathlib import Path
import deras as dg

COUNTS = Path(os.environ["COUNTS_DIR"])

def bump(name):
    p = COUNTS / name
    p.write_text(str(int(p.read_text()) + 1 if p.exists() else 1))

@dg.asset
def extract():
    bump("extract")
    return [1, 2, 3]

@dg.asset
def transform(context: dg.AssetExecutionContext, extract):
    bump("transform")
    context.log.info("got %s", extract)
    if os.environ.get("BREAK_TRANSFORM"):
        raise ValueError("transform is broken")
    return [x * 10 for x in extract]

@dg.asset
def load(transform):
    bump("load")
    return sum(transform)
"""


def _setup(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    code = tmp_path / "pipeline.py"
    code.write_text(PIPELINE)
    counts = tmp_path / "counts"
    counts.mkdir()
    return code, {"COUNTS_DIR": str(counts)}


def _count(tmp_path: Path, name: str) -> int:
    p = tmp_path / "counts" / name
    return int(p.read_text()) if p.exists() else 0


def test_reexecute_from_failure_reruns_only_what_did_not_succeed(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, env = _setup(tmp_path)
    failed = deras("materialize", "-f", str(code), "--json", env={**env, "BREAK_TRANSFORM": "1"})
    assert failed.returncode == 1
    run_id = json.loads(failed.stdout)["run_id"]
    assert (_count(tmp_path, "extract"), _count(tmp_path, "transform"), _count(tmp_path, "load")) == (1, 1, 0)

    again = deras("runs", "reexecute", run_id, env=env)
    assert again.returncode == 0, again.stderr
    assert (_count(tmp_path, "extract"), _count(tmp_path, "transform"), _count(tmp_path, "load")) == (1, 2, 1)
    runs = json.loads(deras("runs", "list", "--json").stdout)
    assert runs[0]["status"] == "success" and runs[0]["parent_run_id"] == run_id


def test_reexecute_of_successful_run_from_failure_is_refused(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, env = _setup(tmp_path)
    ok = deras("materialize", "-f", str(code), "--json", env=env)
    run_id = json.loads(ok.stdout)["run_id"]
    proc = deras("runs", "reexecute", run_id, env=env)
    assert proc.returncode == 1 and "only a failed or canceled run" in proc.stderr


def test_debug_reruns_one_node_with_stored_inputs(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, env = _setup(tmp_path)
    failed = deras("materialize", "-f", str(code), "--json", env={**env, "BREAK_TRANSFORM": "1"})
    run_id = json.loads(failed.stdout)["run_id"]
    proc = deras("runs", "debug", run_id, "transform", env={**env, "BREAK_TRANSFORM": "1"})
    assert proc.returncode == 1
    assert "ValueError: transform is broken" in proc.stderr
    assert _count(tmp_path, "extract") == 1  # upstream not re-run: its stored value was loaded
    fixed = deras("runs", "debug", run_id, "transform", env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert _count(tmp_path, "extract") == 1 and _count(tmp_path, "transform") == 3


def test_debug_with_pdb_stops_in_the_node(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, env = _setup(tmp_path)
    failed = deras("materialize", "-f", str(code), "--json", env={**env, "BREAK_TRANSFORM": "1"})
    run_id = json.loads(failed.stdout)["run_id"]
    proc = deras(
        "runs",
        "debug",
        run_id,
        "transform",
        "--pdb",
        env={**env, "BREAK_TRANSFORM": "1"},
        input="p extract\nw\nc\np 'in post mortem'\nw\nq\n",
    )
    assert "[1, 2, 3]" in proc.stdout  # the stored upstream value, printed from pdb
    assert "entering post-mortem" in proc.stdout and "in post mortem" in proc.stdout
    assert proc.returncode == 1
    # `w` and the traceback show the user's frames, not bdb's or the debugger's wrapper
    assert "bdb.py" not in proc.stdout + proc.stderr
    assert "_exec/debug.py" not in proc.stdout


def test_quitting_pdb_fails_the_debug_run_with_a_clear_reason(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, env = _setup(tmp_path)
    failed = deras("materialize", "-f", str(code), "--json", env={**env, "BREAK_TRANSFORM": "1"})
    run_id = json.loads(failed.stdout)["run_id"]
    proc = deras("runs", "debug", run_id, "transform", "--pdb", env=env, input="q\n")
    assert proc.returncode == 1
    assert "debugging session quit before the node finished" in proc.stderr + proc.stdout


def test_continuing_pdb_on_a_succeeding_node_makes_the_debug_run_succeed(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, env = _setup(tmp_path)
    run_id = json.loads(deras("materialize", "-f", str(code), "--json", env=env).stdout)["run_id"]
    proc = deras("runs", "debug", run_id, "transform", "--pdb", env=env, input="c\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "debug run " in proc.stdout and proc.stdout.rstrip().endswith("success")
    assert "quit" not in proc.stdout + proc.stderr and "post-mortem" not in proc.stdout
    assert _count(tmp_path, "transform") == 2


def test_quitting_pdb_says_the_node_did_not_finish_without_a_traceback(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, env = _setup(tmp_path)
    run_id = json.loads(deras("materialize", "-f", str(code), "--json", env=env).stdout)["run_id"]
    proc = deras("runs", "debug", run_id, "transform", "--pdb", env=env, input="q\n")
    assert proc.returncode == 1
    assert "transform: DebugSessionQuit: debugging session quit before the node finished" in proc.stderr
    assert "Traceback" not in proc.stderr and "post-mortem" not in proc.stdout
    assert proc.stdout.rstrip().endswith("failure")


PARTITIONED = """
import deras as dg

days = dg.DailyPartitionsDefinition("2025-01-01", end_date="2025-01-06")

@dg.asset(partitions_def=days)
def amounts(context):
    return [1, 2] if context.partition_key != "2025-01-03" else [1, -2]

@dg.asset_check(asset=amounts)
def positive(context, amounts):
    print("checking", context.partition_key, amounts)
    return dg.AssetCheckResult(passed=all(a > 0 for a in amounts))

defs = dg.Definitions(assets=[amounts], asset_checks=[positive])
"""


def test_a_check_of_a_partitioned_run_can_be_debugged(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "partitioned.py"
    code.write_text(PARTITIONED)
    proc = deras("materialize", "-f", str(code), "--partition", "2025-01-03", "--json")
    run_id = json.loads(proc.stdout)["run_id"]
    debugged = deras("runs", "debug", run_id, "amounts:positive")
    assert debugged.returncode == 0, debugged.stderr
    assert "checking 2025-01-03 [1, -2]" in debugged.stdout  # the run's partition, its stored value
