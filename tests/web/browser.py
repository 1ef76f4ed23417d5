"""Debian's Chromium driven by Playwright for Python (no browser download), for the web tests."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_SCREENSHOTS_ENV = "DERAS_UPDATE_SCREENSHOTS"
LIVE = 90_000  # ms: a run goes queued -> done through the daemon's warm pool (seconds on a laptop)
RUN_PAGE = re.compile(r".*/runs/[0-9a-f-]{36}$")


def screenshot_dir() -> Path:
    """``docs/screenshots`` with ``DERAS_UPDATE_SCREENSHOTS=1``; else a folder of the temp dir, so
    a test run leaves the docs' pictures as they are."""
    if os.environ.get(UPDATE_SCREENSHOTS_ENV) == "1":
        return DOCS_SCREENSHOTS
    return Path(tempfile.gettempdir()) / "deras-screenshots"


def screenshot(page: Any, name: str, *, save: bool = True) -> Path:
    """``name``.png of the page into :func:`screenshot_dir` (not ``save``: only the check). A
    date the page could not read shows as "Invalid Date": never on a page we show."""
    assert "Invalid Date" not in page.inner_text("body"), name
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    if save:
        page.screenshot(path=str(path))
    return path


def launch_run(page: Any, button: str, status: str, *, after: str | None = None) -> str:
    """Click ``button`` (a launch), follow the page to the new run (not ``after``, the run the
    page was on), wait until the stream shows it ``status``; the run's id."""
    page.click(f"text={button}")
    page.wait_for_url(re.compile(r".*/runs/(?!" + after + r")[0-9a-f-]{36}$") if after else RUN_PAGE)
    page.wait_for_selector(f"#run-status .pill.{status}", timeout=LIVE)  # no reload: the stream moved it
    return str(page.url).rsplit("/", 1)[-1]


def chromium_path() -> str:
    """The chromium binary; its absence fails under CI=true and skips elsewhere."""
    path = shutil.which("chromium")
    if path is None:
        message = "Chromium is not installed: `apt-get install chromium` (Playwright drives Debian's build)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true, so this fails)", pytrace=False)
        pytest.skip(message)
    return path


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class PageErrors:
    """Uncaught errors, console errors and failed API calls of a page (a test asserts none)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda err: self.errors.append(f"page error: {err}"))
        page.on(
            "console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None
        )
        page.on(
            "response",
            lambda r: self.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 500 else None,
        )

    def real(self) -> list[str]:
        """The errors but 501s, which name read-model views this deras does not have yet (the
        pages say so and go on)."""
        return [e for e in self.errors if "501" not in e]
