"""The pages: each path renders its template, titled, with the JS module that fills it in."""

from __future__ import annotations

from typing import Any

import pytest

PAGES = [
    ("/", "Overview", "overview"),
    ("/assets", "Assets", "assets"),
    ("/assets/raw/prices", "raw/prices", "asset"),
    ("/runs", "Runs", "runs"),
    ("/runs/0123456789abcdef", "Run 01234567", "run"),
    ("/dags", "DAGs", "dags"),
    ("/dags/etl", "etl", "dag"),
    ("/automation", "Schedules &amp; sensors", "automation"),
    ("/automation/schedule/nightly", "nightly", "instigator"),
    ("/backfills", "Backfills", "backfills"),
    ("/backfills/b1", "Backfill b1", "backfill"),
    ("/locations", "Code locations", "locations"),
]


@pytest.mark.parametrize(("path", "title", "script"), PAGES)
def test_each_page_renders_its_title_and_script(client: Any, path: str, title: str, script: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    assert f"<title>{title} · deras</title>" in response.text
    assert f'src="/static/js/pages/{script}.js"' in response.text


def test_the_top_bar_marks_the_page_it_is_on(client: Any) -> None:
    assert '<a href="/dags" class="active">DAGs</a>' in client.get("/dags/etl").text
    assert '<a href="/" class="active">Overview</a>' in client.get("/").text
    assert client.get("/nowhere").status_code == 404
