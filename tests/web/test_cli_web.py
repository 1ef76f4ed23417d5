"""``deras web`` and ``deras dev`` as people run them: real processes on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web_server import TOKEN, free_port

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "share_prices" / "definitions.py"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    env.update(DERAS_HOME=str(tmp_path / "home"), SHARE_PRICES_DUCKDB=str(tmp_path / "prices.duckdb"))
    env.update(extra)
    return env


def _deras(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deras", *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", ["web", "dev"])
def test_serving_beyond_loopback_without_a_token_refuses_naming_the_variable(
    tmp_path: Path, command: str
) -> None:
    result = _deras(tmp_path, command, "-f", str(EXAMPLE), "--host", "0.0.0.0")
    assert result.returncode == 1
    assert "DERAS_AUTH_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


class Served:
    def __init__(self, tmp_path: Path, command: str, *args: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deras", command, "-f", str(EXAMPLE), "--port", str(self.port), *args],
            env=_env(tmp_path, **env),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def wait_up(self, headers: dict[str, str] | None = None) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"deras exited {self.process.returncode}: {self.process.stdout.read()}")  # type: ignore[union-attr]
            try:
                httpx.get(f"{self.url}/api/v1/locations", headers=headers, timeout=5)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("deras web did not answer within 90 s")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                raise AssertionError("Ctrl-C did not stop it within 30 s") from None
        return self.process.returncode


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    started: list[Served] = []

    def start(command: str, *args: str, **env: str) -> Served:
        served = Served(tmp_path, command, *args, **env)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def test_deras_web_serves_the_example_and_stops_on_ctrl_c(serve: object) -> None:
    web = serve("web")  # type: ignore[operator]
    web.wait_up()
    (location,) = httpx.get(f"{web.url}/api/v1/locations").json()
    assert location["status"] == "loaded" and location["counts"]["assets"] == 2
    assert "raw_data" not in httpx.get(f"{web.url}/").text  # a page, not the user's code
    assert httpx.get(f"{web.url}/api/v1/runs").json() == {"items": [], "next_cursor": None}
    assert web.stop() == 0


def test_with_a_token_the_served_api_wants_the_bearer(serve: object) -> None:
    web = serve("web", "--host", "127.0.0.1", DERAS_AUTH_TOKEN=TOKEN)  # type: ignore[operator]
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    web.wait_up(bearer)
    assert httpx.get(f"{web.url}/api/v1/runs").status_code == 401
    assert httpx.get(f"{web.url}/api/v1/runs", headers=bearer).status_code == 200


def test_deras_dev_runs_what_the_api_launches(serve: object) -> None:
    """Web and daemon in one process tree: a materialization launched over HTTP is run."""
    dev = serve("dev")  # type: ignore[operator]
    dev.wait_up()
    launched = httpx.post(f"{dev.url}/api/v1/runs", json={"selection": "*"})
    assert launched.status_code == 200, launched.text
    run_id = launched.json()["run_id"]
    deadline = time.monotonic() + 120
    while (status := httpx.get(f"{dev.url}/api/v1/runs/{run_id}").json()["status"]) not in (
        "success",
        "failure",
    ):
        assert time.monotonic() < deadline, f"the run is still {status} after 120 s"
        time.sleep(0.3)
    assert status == "success"
    assert dev.stop() == 0
    session = ["pgrep", "-s", str(dev.process.pid)]
    children = subprocess.run(session, capture_output=True, text=True, check=False)
    assert children.stdout.strip() == "", "the daemon outlived deras dev"
