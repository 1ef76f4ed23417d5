"""The server's own app freezes its code snapshot out of the garbage collector's walks.

Each case runs in a child interpreter: ``gc.freeze`` is process-wide, and pytest's process
must not keep the frozen objects of every app the suite starts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import gc, json, sys, threading
sys.path.insert(0, {tests!r})
from fastapi.testclient import TestClient
from deras._instance.instance import DerasInstance
from deras._web.app import create_app
from web_code import SnapshotLocation

location = SnapshotLocation()
app = create_app(DerasInstance.ephemeral(), location, freeze_long_lived={freeze})
with TestClient(app) as client:
    for thread in threading.enumerate():
        if thread.name == "deras-web-lineage-layout":
            thread.join(60)
    snapshot = location.snapshot()
    tracked = {{id(o) for o in gc.get_objects()}}  # every generation but the frozen one
    walked = [id(snapshot) in tracked, id(snapshot.assets) in tracked, id(snapshot.assets[0]) in tracked]
    lineage = client.get("/api/v1/lineage")
    print(json.dumps({{"walked": walked, "lineage": lineage.status_code, "frozen": gc.get_freeze_count()}}))
"""


def _after_start(freeze: bool) -> dict[str, object]:
    tests = str(Path(__file__).parent)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(tests=tests, freeze=freeze)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def test_server_app_freezes_the_snapshot_once_its_lineage_is_laid_out() -> None:
    seen = _after_start(freeze=True)
    assert seen["walked"] == [False, False, False]
    assert seen["lineage"] == 200  # frozen objects are still read as ever


def test_an_app_inside_another_program_freezes_nothing() -> None:
    seen = _after_start(freeze=False)
    assert seen["walked"] == [True, True, True]
    assert seen["frozen"] == 0
