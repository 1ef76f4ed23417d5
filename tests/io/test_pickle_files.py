"""Value files on a full disk: the failed write leaves nothing behind, the run fails saying why,
and the next run has the space back. Real limits: a process file-size limit, a small tmpfs."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

CODE = """
import os
import deras as dg

@dg.asset
def big_value():
    return os.urandom(3_000_000)

@dg.asset
def small_value():
    return 1

defs = dg.Definitions(assets=[big_value, small_value])
"""


def _deras(home: Path, *args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    env["DERAS_HOME"] = str(home)

    def limit() -> None:
        if file_size_limit is not None:  # writes past it fail with EFBIG (Python ignores SIGXFSZ)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "deras", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
        check=False,
    )


def _runs(home: Path) -> list[dict[str, str]]:
    from deras._instance.instance import DerasInstance

    instance = DerasInstance.get(home)
    try:
        return [{"status": str(r.status), "error": _error(instance, r.run_id)} for r in instance.get_runs()]
    finally:
        instance.dispose()


def _error(instance: object, run_id: str) -> str:
    attempts = instance.get_attempts(run_id)  # type: ignore[attr-defined]
    return " ".join(a.error or "" for a in attempts)


def _leftovers(home: Path) -> list[str]:
    """Hidden files left in storage: temporary files, and spare files not given back."""
    storage = home / "storage"
    hidden = [p for p in storage.iterdir() if p.name.startswith(".") and p.name != ".spare"]
    spares = list((storage / ".spare").iterdir()) if (storage / ".spare").exists() else []
    return sorted(p.name for p in hidden + spares)


@pytest.mark.slow
def test_a_value_past_the_file_size_limit_fails_its_run_and_leaves_no_temp_file(tmp_path: Path) -> None:
    home, code = tmp_path / "home", tmp_path / "defs.py"
    code.write_text(CODE)
    assert _deras(home, "db", "upgrade").returncode == 0
    failed = _deras(home, "materialize", "-f", str(code), "--select", "big_value", file_size_limit=2_000_000)
    assert failed.returncode == 1, failed.stderr
    assert _leftovers(home) == []
    (run,) = _runs(home)
    assert run["status"] == "failure" and "file too large" in run["error"]
    ok = _deras(home, "materialize", "-f", str(code), "--select", "small_value", file_size_limit=2_000_000)
    assert ok.returncode == 0, ok.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> object:
    """A 2 MiB tmpfs (needs root, or CAP_SYS_ADMIN): a disk that really fills up."""
    mount_point = tmp_path / f"disk-{uuid.uuid4().hex[:8]}"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.slow
def test_a_full_disk_fails_the_run_saying_disk_full_and_the_next_run_succeeds(
    tmp_path: Path, small_disk: Path
) -> None:
    home, code = small_disk / "home", tmp_path / "defs.py"
    code.write_text(CODE)
    failed = _deras(home, "materialize", "-f", str(code), "--select", "big_value", "--json")
    assert failed.returncode == 1, failed.stderr
    assert _leftovers(home) == []
    (run,) = _runs(home)
    assert run["status"] == "failure" and "disk full" in run["error"]
    ok = _deras(home, "materialize", "-f", str(code), "--select", "small_value", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1])["status"] == "success"


@pytest.mark.slow
def test_a_database_on_a_full_disk_says_disk_full(tmp_path: Path, small_disk: Path) -> None:
    home, code = small_disk / "home", tmp_path / "defs.py"
    code.write_text(CODE)
    assert _deras(home, "db", "upgrade").returncode == 0
    filler = small_disk / "filler"
    with filler.open("wb") as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 65536)
    failed = _deras(home, "materialize", "-f", str(code), "--select", "small_value")
    assert failed.returncode == 1
    assert "disk full" in failed.stderr and "Traceback" not in failed.stderr
    filler.unlink()
    assert _deras(home, "materialize", "-f", str(code), "--select", "small_value").returncode == 0
