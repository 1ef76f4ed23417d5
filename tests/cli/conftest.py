"""Running the real ``deras`` command in a fresh process, against a temporary DERAS_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "share_prices" / "definitions.py"


@pytest.fixture
def deras(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``deras(*args, env={...}, input=...)`` runs the CLI with DERAS_HOME in tmp_path.

    ``python=True``: ``args`` go to the interpreter itself (``-c CODE ...``), not ``-m deras``.
    """
    home = tmp_path / "home"

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        cwd: Path | None = None,
        python: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
        full_env.update(
            {
                "DERAS_HOME": str(home),
                "SHARE_PRICES_DUCKDB": str(tmp_path / "prices.duckdb"),
                "COLUMNS": "200",
            }
        )
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, *args] if python else [sys.executable, "-m", "deras", *args],
            capture_output=True,
            text=True,
            env=full_env,
            input=input,
            cwd=cwd or tmp_path,
            timeout=120,
            check=False,
        )

    return run
