"""``deras job run`` on an op job, with ``--config FILE.yaml``."""

from __future__ import annotations

import json
from pathlib import Path

CODE = """
import deras as dg

class Rows(dg.Config):
    limit: int

@dg.op
def numbers(config: Rows) -> list[int]:
    return list(range(config.limit))

@dg.op
def total(context: dg.OpExecutionContext, values: list[int]) -> int:
    context.log.info("total is %s", sum(values))
    return sum(values)

@dg.job
def summing():
    total(numbers())

@dg.asset
def sample(config: Rows) -> list[int]:
    return list(range(config.limit))

defs = dg.Definitions(assets=[sample], jobs=[summing])
"""


def _files(tmp_path: Path, config: str) -> tuple[str, str]:
    code = tmp_path / "ops_code.py"
    code.write_text(CODE)
    cfg = tmp_path / "run.yaml"
    cfg.write_text(config)
    return str(code), str(cfg)


def test_job_run_with_config_file_runs_the_ops_and_records_the_config(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, cfg = _files(tmp_path, "ops:\n  numbers:\n    config:\n      limit: 4\n")
    proc = deras("job", "run", "summing", "-f", code, "--config", cfg, "--json")
    assert proc.returncode == 0, proc.stderr
    run_id = json.loads(proc.stdout)["run_id"]
    assert "total is 6" in deras("runs", "logs", run_id).stdout
    shown = json.loads(deras("runs", "show", run_id, "--json").stdout)
    assert shown["run_config"] == {"ops": {"numbers": {"config": {"limit": 4}}}}


def test_materialize_with_config_file_configures_an_asset(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, cfg = _files(tmp_path, "ops:\n  sample:\n    config:\n      limit: 2\n")
    proc = deras("materialize", "-f", code, "--select", "sample", "--config", cfg)
    assert proc.returncode == 0, proc.stderr


def test_invalid_config_exits_1_naming_op_and_field_and_records_no_run(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, cfg = _files(tmp_path, "ops:\n  numbers:\n    config:\n      limit: many\n")
    proc = deras("job", "run", "summing", "-f", code, "--config", cfg)
    assert proc.returncode == 1
    assert "error: invalid run config: op 'numbers': config: field 'limit'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(deras("runs", "list", "--json").stdout) == []


def test_config_file_that_is_not_a_mapping_or_missing_exits_1(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, cfg = _files(tmp_path, "- just\n- a list\n")
    proc = deras("job", "run", "summing", "-f", code, "--config", cfg)
    assert proc.returncode == 1 and "a run config is a mapping" in proc.stderr
    proc = deras("job", "run", "summing", "-f", code, "--config", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 1 and "nope.yaml" in proc.stderr and "Traceback" not in proc.stderr
