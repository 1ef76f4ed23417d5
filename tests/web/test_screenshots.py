"""The browser tests' screenshots land in docs/screenshots only when asked to."""

from __future__ import annotations

import pytest
from browser import DOCS_SCREENSHOTS, UPDATE_SCREENSHOTS_ENV, screenshot_dir


def test_screenshots_go_to_a_temp_folder_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_SCREENSHOTS_ENV, raising=False)
    assert screenshot_dir() != DOCS_SCREENSHOTS
    monkeypatch.setenv(UPDATE_SCREENSHOTS_ENV, "0")
    assert screenshot_dir() != DOCS_SCREENSHOTS


def test_screenshots_update_the_docs_with_the_variable_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UPDATE_SCREENSHOTS_ENV, "1")
    assert screenshot_dir() == DOCS_SCREENSHOTS
