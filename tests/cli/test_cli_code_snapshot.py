"""``deras code snapshot``: the snapshot the web server works from, printed."""

from __future__ import annotations

import json
from pathlib import Path

SHARE_PRICES = Path(__file__).parents[2] / "examples" / "share_prices" / "definitions.py"


def test_snapshot_json_lists_the_examples_assets_and_checks(deras) -> None:  # type: ignore[no-untyped-def]
    out = deras("code", "snapshot", "-f", str(SHARE_PRICES), "--json")
    assert out.returncode == 0, out.stderr
    snap = json.loads(out.stdout)
    assert [a["key"] for a in snap["assets"]] == ["import_file", "duckdb_table"]
    assert snap["checks"][0]["name"] == "not_empty" and len(snap["version"]) == 64


def test_snapshot_through_a_code_server_prints_a_load_error_as_json(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.py"
    bad.write_text("import deras\nx = (\n")
    out = deras("code", "snapshot", "--server", "-f", str(bad), "--json")
    assert out.returncode == 1
    error = json.loads(out.stderr)["error"]
    assert (error["file"], error["line"]) == (str(bad), 2) and "SyntaxError" in error["message"]


def test_snapshot_summary_names_what_is_defined(deras) -> None:  # type: ignore[no-untyped-def]
    out = deras("code", "snapshot", "--server", "-f", str(SHARE_PRICES))
    assert out.returncode == 0, out.stderr
    assert "assets: import_file, duckdb_table" in out.stdout
