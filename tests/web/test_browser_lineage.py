"""The lineage graph in Chromium: a group of more than 50 assets is one node (its count, its
worst state) until you click it or zoom in; an asset whose latest run failed is red."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import PageErrors, chromium
from web_code import SnapshotLocation

import deras as dg

pytestmark = pytest.mark.slow
BIG_GROUP_DEFS = Path(__file__).parent / "code" / "big_group_defs.py"
NODE_WIDTH, NODE_HEIGHT = 180, 34  # lineage_layout's
RED, FAILED_FILL, GREEN, WHITE = "rgb(224,49,49)", "rgb(255,240,240)", "rgb(47,158,68)", "rgb(255,255,255)"

PIXEL = """([x, y]) => {
  const canvas = document.getElementById("graph");
  const ratio = canvas.width / canvas.clientWidth;
  const d = canvas.getContext("2d").getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data;
  return `rgb(${d[0]},${d[1]},${d[2]})`;
}"""


@pytest.fixture
def site(web_instance: Any, live_server: Callable[..., Any]) -> str:
    location = SnapshotLocation(BIG_GROUP_DEFS)
    # one run of everything: bulk_07 and broken fail, the rest are materialized
    dg.materialize(list(location.definitions.assets), instance=web_instance, raise_on_error=False)
    return str(live_server(location).url)


@pytest.fixture
def page() -> Iterator[tuple[Any, PageErrors]]:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        yield page, PageErrors(page)


def _folded(page: Any) -> list[dict[str, Any]]:
    return list(json.loads(page.get_attribute("#graph", "data-folded") or "[]"))


def _open_graph(page: Any, url: str) -> None:
    page.goto(f"{url}/assets")
    page.wait_for_selector("body[data-statuses-ready]")
    page.wait_for_selector("#graph[data-folded]", state="attached")


def test_a_large_group_is_one_node_with_its_count_and_worst_state_until_clicked(site: str, page: Any) -> None:
    p, errors = page
    _open_graph(p, site)
    graph_info = p.inner_text("#graph-info")
    assert "63 assets" in graph_info and "1 large group folded" in graph_info
    (bulk,) = _folded(p)
    assert (bulk["group"], bulk["count"], bulk["state"]) == ("bulk", 60, "failed")  # bulk_07 failed
    box = p.locator("#graph").bounding_box()
    p.mouse.click(box["x"] + bulk["x"], box["y"] + bulk["y"])
    p.wait_for_selector("#graph[data-folded='[]']", state="attached")
    assert "/assets/" not in p.url.split("/assets", 1)[1]  # it opened the group, not an asset
    assert p.evaluate(PIXEL, [bulk["x"], bulk["y"]]) != RED
    assert errors.real() == []


def test_zooming_in_opens_a_folded_group(site: str, page: Any) -> None:
    p, errors = page
    _open_graph(p, site)
    assert float(p.get_attribute("#graph", "data-zoom") or 0) < 0.6 and _folded(p)
    box = p.locator("#graph").bounding_box()
    p.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    p.mouse.wheel(0, -600)
    p.wait_for_selector("#graph[data-folded='[]']", state="attached")
    assert float(p.get_attribute("#graph", "data-zoom") or 0) >= 0.6
    assert errors.real() == []


def _centre_on(page: Any, key: str) -> tuple[float, float, float]:
    """Search ``key`` and jump to it: it is then drawn in the middle of the canvas."""
    page.fill("#search", key)
    page.keyboard.press("Enter")
    page.wait_for_timeout(100)  # a frame
    box = page.locator("#graph").bounding_box()
    return box["width"] / 2, box["height"] / 2, float(page.get_attribute("#graph", "data-zoom") or 0)


def test_an_asset_whose_latest_run_failed_is_red(site: str, page: Any) -> None:
    p, errors = page
    _open_graph(p, site)
    for key, dot, fill in (("broken", RED, FAILED_FILL), ("source", GREEN, WHITE)):
        cx, cy, k = _centre_on(p, key)
        assert p.evaluate(PIXEL, [cx + (NODE_WIDTH / 2 - 12) * k, cy]) == dot, key  # the state dot
        assert p.evaluate(PIXEL, [cx, cy - (NODE_HEIGHT / 2 - 5) * k]) == fill, key  # the node's body
    assert errors.real() == []
