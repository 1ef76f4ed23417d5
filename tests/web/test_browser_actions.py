"""What people do in the UI, in Chromium, with a real code server and a real daemon: launch a
materialization and watch it finish live, re-execute a failure, trigger a DAG, start a
schedule, launch a backfill, reload the code."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import LIVE, PageErrors, chromium, launch_run, screenshot
from web_code import WEB_DEFS
from web_server import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """deras dev, in pieces: the web app with a code server, and a daemon process (SQLite)."""
    from deras._code_server.client import CodeLocations
    from deras._instance.instance import DerasInstance
    from deras._instance.settings import Settings
    from deras._web.app import create_app

    home = tmp_path / "home"
    url = f"sqlite:///{tmp_path / 'deras.db'}"
    instance = DerasInstance(Settings(home, url))
    instance.store  # noqa: B018  (creates the database before the daemon opens it)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERAS_")}
    env.update(DERAS_HOME=str(home), DERAS_DATABASE_URL=url)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "deras", "daemon", "run", "-f", str(WEB_DEFS)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "daemon.log", "w"),  # noqa: SIM115  (closed with the process)
        start_new_session=True,
    )
    locations = CodeLocations.single({"file": str(WEB_DEFS)}, instance=instance)
    try:
        with LiveServer(create_app(instance, locations, feed_interval=0.1)) as server:
            yield server.url, instance
    finally:
        locations.stop()
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        instance.dispose()


@pytest.fixture
def page(site: Any) -> Iterator[tuple[Any, PageErrors]]:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        yield page, PageErrors(page)


def test_launch_a_materialization_and_watch_it_finish_live(site: Any, page: Any) -> None:
    url, _ = site
    p, errors = page
    p.goto(f"{url}/assets/raw_prices")
    launch_run(p, "Materialize", "success")
    p.wait_for_selector("#tab-logs >> text=fetched 3 prices", timeout=LIVE)
    p.wait_for_selector("#gantt canvas")
    screenshot(p, "run-live")
    p.click("#tabs >> text=Steps")
    p.wait_for_selector("#tab-steps >> text=raw_prices")
    assert errors.real() == []


def test_reexecute_a_failure_from_its_run_page(site: Any, page: Any) -> None:
    url, _ = site
    p, errors = page
    p.goto(f"{url}/assets/report")
    failed = launch_run(p, "Materialize", "failure")
    p.wait_for_selector("#failures pre.traceback", timeout=LIVE)
    launch_run(p, "Re-execute from failure", "failure", after=failed)  # the template is still missing
    p.wait_for_selector(f"#run-meta >> text={failed[:8]}")  # its parent run
    assert errors.real() == []


def test_trigger_a_dag_run_and_see_it_in_the_grid(site: Any, page: Any) -> None:
    url, _ = site
    p, errors = page
    p.goto(f"{url}/dags/etl")
    p.fill("input[aria-label='conf']", '{"note": "from the browser"}')
    launch_run(p, "Trigger run", "success")
    p.goto(f"{url}/dags/etl")
    p.wait_for_selector("body[data-grid-ready]")
    # the manual run, and the daemon's scheduled run of the latest day (the DAG is @daily)
    assert re.fullmatch(r"3 tasks by (1 run|2 runs)", p.get_attribute("#grid canvas", "aria-label"))
    assert errors.real() == []


def test_start_a_schedule(site: Any, page: Any) -> None:
    url, instance = site
    p, errors = page
    p.goto(f"{url}/automation")
    p.wait_for_selector("#schedules >> text=nightly")
    p.locator("#schedules tr", has_text="nightly").locator("button", has_text="Start").click()
    p.wait_for_selector(".toast >> text=nightly running")
    assert instance.store.ticks.get_state("schedule:nightly").status == "running"
    screenshot(p, "automation")
    assert errors.real() == []


def test_launch_a_backfill_and_follow_its_progress(site: Any, page: Any) -> None:
    url, _ = site
    p, errors = page
    p.goto(f"{url}/backfills")
    p.wait_for_selector("#target option[value='job:daily_job']", state="attached")
    p.select_option("#target", "job:daily_job")
    p.fill("input[name=first]", "2025-01-01")
    p.fill("input[name=last]", "2025-01-03")
    p.click("text=Launch backfill")
    p.wait_for_url(re.compile(r".*/backfills/[^/]+$"))
    for day in ("2025-01-01", "2025-01-02", "2025-01-03"):
        p.wait_for_selector(f"#units tr:has-text('{day}') .pill.success", timeout=LIVE)
    screenshot(p, "backfill")
    assert errors.real() == []


def test_reload_the_code(site: Any, page: Any) -> None:
    url, _ = site
    p, errors = page
    p.goto(f"{url}/locations")
    p.click("text=Reload")
    p.wait_for_selector(".toast >> text=reloaded", timeout=LIVE)
    p.wait_for_selector("text=loaded")
    assert errors.real() == []
