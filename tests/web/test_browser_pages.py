"""Every page in a real browser (Debian's Chromium through Playwright), with screenshots for the
docs: no uncaught error, no failed API call, and what each page is for is on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser import PageErrors, chromium, screenshot
from web_code import SnapshotLocation, record_runs

pytestmark = pytest.mark.slow


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def site(web_instance: Any, live_server: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    location = SnapshotLocation()
    runs = record_runs(web_instance, location)
    return live_server(location).url, runs


# The colour in the middle of each of the bar's buckets, and the page's state colours.
BAR_COLOURS = """async () => {
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));  // drawn
  const canvas = document.querySelector("canvas.partition-bar");
  const ctx = canvas.getContext("2d");
  const n = Number(canvas.dataset.buckets);
  const rgb = (d) => `rgb(${d[0]}, ${d[1]}, ${d[2]})`;
  const out = {};
  for (let b = 0; b < n; b++) {
    const x = Math.floor(((b + 0.5) / n) * canvas.width);
    out[`b${b}`] = rgb(ctx.getImageData(x, canvas.height / 2, 1, 1).data);
  }
  const probe = document.createElement("span");
  document.body.append(probe);
  const root = getComputedStyle(document.documentElement);
  for (const [state, variable] of [["materialized", "--success"], ["missing", "--missing"]]) {
    probe.style.color = root.getPropertyValue(variable);
    out[state] = getComputedStyle(probe).color;
  }
  return out;
}"""


def _open(browser: Any, url: str) -> tuple[Any, PageErrors]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = PageErrors(page)
    page.goto(url)
    return page, errors


def _shot(page: Any, name: str, backend: str) -> None:
    screenshot(page, name, save=backend == "sqlite")  # one set of pictures is enough


def _ok(errors: PageErrors) -> None:
    assert errors.real() == []


def test_runs_list_and_a_failed_run(browser: Any, site: Any, web_instance: Any, db_url: str) -> None:
    url, runs = site
    backend = "sqlite" if db_url.startswith("sqlite") else "postgres"
    page, errors = _open(browser, f"{url}/runs")
    page.wait_for_selector(f"text={runs['report'][:8]}")
    assert page.locator("tbody tr").count() == len(runs)
    _shot(page, "runs", backend)
    page.select_option("select[name=status]", "failure")
    page.click("text=Filter")
    page.wait_for_url("**/runs?status=failure")
    page.wait_for_selector(f"text={runs['report'][:8]}")
    assert page.locator("tbody tr").count() == 1

    page.click(f"text={runs['report'][:8]}")
    page.wait_for_selector("text=the report template is missing")
    assert page.locator("pre.traceback").first.inner_text().startswith("Traceback")
    assert page.locator(".copy code").inner_text() == f"deras runs debug {runs['report']} report"
    page.wait_for_selector("#tab-logs >> text=ValueError")  # the live log, from the stream
    page.click("#tabs >> text=Events")
    page.wait_for_selector("#tab-events >> text=run failure")
    _shot(page, "run-failed", backend)
    _ok(errors)


def test_asset_lineage_graph_and_an_asset(browser: Any, site: Any, db_url: str) -> None:
    url, _ = site
    backend = "sqlite" if db_url.startswith("sqlite") else "postgres"
    page, errors = _open(browser, f"{url}/assets")
    page.wait_for_selector("body[data-statuses-ready]")
    assert "4 assets, 2 dependencies, 2 groups" in page.inner_text("#graph-info")
    page.fill("#search", "clean")
    assert page.inner_text("#graph-info").startswith("1 match")
    page.keyboard.press("Enter")
    _shot(page, "lineage", backend)
    # clicking the node opens the asset: find it under the centred view
    box = page.locator("#graph").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**/assets/clean_prices")
    page.wait_for_selector("text=Materializations")
    page.wait_for_selector("svg.plot")  # the rows metadata, plotted
    _shot(page, "asset", backend)
    page.goto(f"{url}/assets/daily_summary")
    page.wait_for_selector("canvas.partition-bar")
    assert "of 10" in page.inner_text("#partitions")
    # ten days, ten buckets: the two materialized days (the first two) are green, the rest grey
    assert page.get_attribute("canvas.partition-bar", "data-buckets") == "10"
    colours = page.evaluate(BAR_COLOURS)
    assert colours["b0"] == colours["b1"] == colours["materialized"]
    assert colours["b2"] == colours["b9"] == colours["missing"] != colours["materialized"]
    page.goto(f"{url}/assets?view=list")
    page.wait_for_selector("#asset-list >> text=daily_summary")
    page.fill("#asset-list input", "RAW")  # filtered by the server, a page at a time
    page.locator("#asset-list >> text=daily_summary").wait_for(state="detached")
    assert "raw_prices" in page.inner_text("#asset-list")
    _ok(errors)


def test_dag_grid_and_graph(browser: Any, site: Any, db_url: str) -> None:
    url, _ = site
    backend = "sqlite" if db_url.startswith("sqlite") else "postgres"
    page, errors = _open(browser, f"{url}/dags")
    page.wait_for_selector("text=@daily")
    page.click("text=etl")
    page.wait_for_selector("body[data-grid-ready]")
    assert page.get_attribute("#grid canvas", "aria-label") == "3 tasks by 1 run"
    _shot(page, "dag-grid", backend)
    page.click("#tabs >> text=Graph")
    page.wait_for_timeout(300)
    _shot(page, "dag-graph", backend)
    _ok(errors)


def test_overview_and_code_locations(browser: Any, site: Any, db_url: str) -> None:
    url, runs = site
    backend = "sqlite" if db_url.startswith("sqlite") else "postgres"
    page, errors = _open(browser, f"{url}/")
    page.wait_for_selector(f"#recent-runs >> text={runs['etl'][:8]}")
    page.wait_for_selector("#failing-checks >> text=raw_has_ten_rows")
    _shot(page, "overview", backend)
    page.goto(f"{url}/locations")
    page.wait_for_selector("text=loaded")
    _ok(errors)


def test_stop_and_start_a_dags_schedule(browser: Any, site: Any, web_instance: Any) -> None:
    url, _ = site
    page, errors = _open(browser, f"{url}/automation")
    row = page.locator("#schedules tr", has_text="(DAG)")
    row.locator("button", has_text="Stop").click()
    page.wait_for_selector(".toast >> text=etl stopped")
    assert web_instance.store.ticks.get_state("dag:etl").status == "stopped"
    row.locator("button", has_text="Start").click()  # the list is redrawn with the new state
    page.wait_for_selector(".toast >> text=etl running")
    assert web_instance.store.ticks.get_state("dag:etl").status == "running"

    row.locator("a", has_text="etl").click()
    page.wait_for_url("**/automation/schedules/dag%3Aetl")
    page.wait_for_selector("#title >> text=@daily")
    page.wait_for_selector("#ticks >> text=No ticks yet")
    page.click("#actions >> text=Stop")
    page.wait_for_selector(".toast >> text=etl stopped")
    page.wait_for_selector("#actions >> text=Start")
    assert web_instance.store.ticks.get_state("dag:etl").status == "stopped"
    _ok(errors)
