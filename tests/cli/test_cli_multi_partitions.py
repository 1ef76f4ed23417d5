"""``deras materialize --partition`` on a multi-partitioned asset, as a user types it."""

from __future__ import annotations

from pathlib import Path

import pytest

CODE = """
import deras as dg

by_day_region = dg.MultiPartitionsDefinition({
    "date": dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-02-01"),
    "region": dg.StaticPartitionsDefinition(["eu", "us"]),
})

@dg.asset(partitions_def=by_day_region)
def sales(context: dg.AssetExecutionContext) -> str:
    # A plain string has no keys_by_dimension: the run fails unless the key was parsed.
    return context.partition_key.keys_by_dimension["region"]
"""


@pytest.mark.slow
def test_a_multi_partition_key_from_the_command_line_reaches_the_asset_parsed(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "multi.py"
    code.write_text(CODE)
    proc = deras("materialize", "-f", str(code), "--partition", "2025-01-02|us")
    assert proc.returncode == 0, proc.stdout + proc.stderr

    bad = deras("materialize", "-f", str(code), "--partition", "2025-01-02")
    assert bad.returncode == 1
    assert "'date|region' keys such as '2025-01-01|eu'" in bad.stderr
