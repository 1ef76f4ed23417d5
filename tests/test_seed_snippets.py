"""The seed notes' three snippets are in examples/share_prices/definitions.py unchanged.

The example adds only ``import deras as dg`` (and the imports and helpers the snippets use), and
the CLI tests run it; this test keeps it from drifting away from the notes. The notes live
outside the repository (``DERAS_SEED_NOTES``, default ``/work/shared/seed``): without them the
test skips.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "share_prices" / "definitions.py"
SEED = Path(os.environ.get("DERAS_SEED_NOTES", "/work/shared/seed"))


def test_every_seed_snippet_is_in_the_example_verbatim() -> None:
    notes = sorted(SEED.glob("*.txt")) if SEED.is_dir() else []
    if not notes:
        pytest.skip(f"no seed notes in {SEED} (set DERAS_SEED_NOTES)")
    snippets = [
        block.strip()
        for note in notes
        for block in re.findall(r"^```(?:python)?\n(.*?)^```", note.read_text(encoding="utf-8"), re.M | re.S)
        if "dg." in block
    ]
    example = EXAMPLE.read_text(encoding="utf-8")
    assert len(snippets) == 3  # @dg.asset duckdb_table, @dg.asset_check not_empty, @dg.definitions
    for snippet in snippets:
        assert snippet in example, f"not in {EXAMPLE.name} verbatim:\n{snippet}"
    assert "import deras as dg" in example
