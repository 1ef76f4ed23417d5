"""The read endpoints of /api/v1, over runs recorded in a real store (SQLite, then Postgres)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web_code import SnapshotLocation, record_runs


@pytest.fixture
def served(web_instance: Any, make_client: Callable[..., Any]) -> tuple[Any, dict[str, str]]:
    """A client of the web definitions' snapshot, and the runs recorded of them."""
    location = SnapshotLocation()
    runs = record_runs(web_instance, location)
    return make_client(location), runs


def _all_pages(client: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})}).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_runs_list_newest_first_with_filters(served: Any) -> None:
    client, runs = served
    listed = client.get("/api/v1/runs").json()
    assert [r["run_id"] for r in listed["items"]] == list(reversed(runs.values()))
    failed = client.get("/api/v1/runs", params={"status": "failure"}).json()["items"]
    assert [r["run_id"] for r in failed] == [runs["report"]]
    dag_runs = client.get("/api/v1/runs", params={"dag_id": "etl"}).json()["items"]
    assert [r["run_id"] for r in dag_runs] == [runs["etl"]]
    tagged = client.get("/api/v1/runs", params={"tag": "deras/dag_id=etl"}).json()["items"]
    assert [r["run_id"] for r in tagged] == [runs["etl"]]


def test_runs_pages_cover_every_run_once(served: Any) -> None:
    client, runs = served
    assert [r["run_id"] for r in _all_pages(client, "/api/v1/runs", limit=2)] == list(reversed(runs.values()))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "exploded"}, "unknown status 'exploded'"),
        ({"cursor": "not-a-cursor"}, "is not a cursor"),
        ({"tag": "no-equals-sign"}, "key=value"),
    ],
)
def test_bad_run_filters_are_a_400_saying_why(served: Any, params: dict[str, str], message: str) -> None:
    client, _ = served
    response = client.get("/api/v1/runs", params=params)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_run_detail_has_steps_attempts_and_the_traceback(served: Any) -> None:
    client, runs = served
    detail = client.get(f"/api/v1/runs/{runs['report']}").json()
    assert detail["status"] == "failure"
    step = next(s for s in detail["steps"] if s["node"] == "report")
    assert step["status"] == "failed" and step["kind"] == "asset"
    attempt = step["attempts"][-1]
    assert "the report template is missing" in attempt["error"]
    assert "ValueError" in attempt["traceback"]
    assert [s["node"] for s in detail["failed_steps"]] == ["report"]
    assert detail["step_count"] == len(detail["steps"]) and detail["step_statuses"]["failed"] == 1
    assert client.get("/api/v1/runs/no-such-run").status_code == 404


def test_run_detail_sends_at_most_steps_limit_steps_and_counts_them_all(served: Any) -> None:
    client, runs = served
    everything = client.get(f"/api/v1/runs/{runs['prices']}").json()
    assert everything["step_count"] >= 2
    first = client.get(f"/api/v1/runs/{runs['prices']}", params={"steps_limit": 1}).json()
    assert first["steps"] == everything["steps"][:1] and first["step_count"] == everything["step_count"]
    assert client.get(f"/api/v1/runs/{runs['prices']}", params={"steps_limit": 0}).status_code == 422


def test_run_events_continue_after_an_event_id(served: Any) -> None:
    client, runs = served
    events = client.get(f"/api/v1/runs/{runs['prices']}/events").json()["items"]
    assert events[0]["event_type"] == "run_start" and events[-1]["event_type"] == "run_success"
    rest = client.get(f"/api/v1/runs/{runs['prices']}/events", params={"after": events[1]["event_id"]}).json()
    assert rest["items"] == events[2:]
    assert client.get("/api/v1/runs/nope/events").status_code == 404


def test_run_logs_of_one_node(served: Any) -> None:
    client, runs = served
    logs = client.get(f"/api/v1/runs/{runs['prices']}/logs", params={"node": "raw_prices"}).json()
    assert any("fetched 3 prices" in r["text"] for r in logs["records"])
    assert {r["node"] for r in logs["records"]} == {"raw_prices"}
    assert client.get("/api/v1/runs/nope/logs").status_code == 404


def test_assets_with_their_latest_facts(served: Any) -> None:
    client, runs = served
    page = client.get("/api/v1/assets").json()
    assert page["next_cursor"] is None
    assets = {a["key"]: a for a in page["items"]}
    assert list(assets) == ["clean_prices", "daily_summary", "raw_prices", "report"]  # by key
    assert assets["clean_prices"]["last_materialization"]["run_id"] == runs["prices"]
    assert assets["report"]["last_materialization"] is None
    assert assets["report"]["failed_last"] and not assets["clean_prices"]["failed_last"]  # its run failed
    assert assets["daily_summary"]["partitions"]["materialized"] == 2
    assert assets["raw_prices"]["group"] == "prices" and assets["raw_prices"]["kinds"] == ["python"]


def test_assets_come_in_pages_filtered_on_the_server(served: Any) -> None:
    client, _ = served
    keys = [a["key"] for a in _all_pages(client, "/api/v1/assets", limit=3)]
    assert keys == ["clean_prices", "daily_summary", "raw_prices", "report"]
    prices = _all_pages(client, "/api/v1/assets", search="PRICES", limit=1)
    assert [a["key"] for a in prices] == ["clean_prices", "raw_prices"]
    partitioned = _all_pages(client, "/api/v1/assets", partitioned="true")
    assert [a["key"] for a in partitioned] == ["daily_summary"]


@pytest.mark.parametrize(
    ("params", "status"), [({"cursor": "not-a-cursor"}, 400), ({"limit": 0}, 422), ({"limit": 1001}, 422)]
)
def test_bad_asset_pages_are_refused(served: Any, params: dict[str, Any], status: int) -> None:
    client, _ = served
    response = client.get("/api/v1/assets", params=params)
    assert response.status_code == status


def test_lineage_statuses_are_small_columns(served: Any) -> None:
    client, _ = served
    data = client.get("/api/v1/lineage/statuses").json()
    codes = data["state_codes"]
    statuses = {
        key: [codes[state], time, failing]
        for key, state, time, failing in zip(
            data["keys"], data["states"], data["last_materialized"], data["failing_checks"], strict=True
        )
    }
    assert statuses["clean_prices"][0] == "materialized" and isinstance(statuses["clean_prices"][1], int)
    assert statuses["report"] == ["failed", None, 0]  # its run failed: red, not grey
    assert "daily_summary" not in {k for k, s in statuses.items() if s[0] == "failed"}
    assert statuses["raw_prices"][2] == 1  # raw_has_ten_rows failed
    assert "missing" not in {s[0] for s in statuses.values()}  # missing goes without saying


def test_lineage_layout_is_computed_once_per_code_version(served: Any) -> None:
    client, _ = served
    first = client.get("/api/v1/lineage").json()
    assert first["nodes"]["key"] == ["raw_prices", "clean_prices", "report", "daily_summary"]
    key_of = first["nodes"]["key"]
    assert sorted((key_of[u], key_of[v]) for u, v in first["edges"]) == [
        ("clean_prices", "report"),
        ("raw_prices", "clean_prices"),
    ]
    cache = client.app.state.web.layouts
    assert client.get("/api/v1/lineage").json() == first
    assert list(cache._entries) == [first["version"]]


def test_asset_detail_with_metadata_series_checks_and_partitions(served: Any) -> None:
    client, runs = served
    clean = client.get("/api/v1/assets/clean_prices").json()
    assert clean["materializations"][0]["run_id"] == runs["prices"]
    assert [point[1] for point in clean["metadata_series"]["rows"]] == [3.0]
    raw = client.get("/api/v1/assets/raw_prices").json()
    assert [(c["check_name"], c["passed"]) for c in raw["check_history"]] == [("raw_has_ten_rows", False)]
    daily = client.get("/api/v1/assets/daily_summary").json()
    materialized = daily["partition_status"]["ranges"]["materialized"]
    assert sum(end - start for start, end in materialized) == 2
    assert client.get("/api/v1/assets/no_such_asset").status_code == 404


def test_dags_list_graph_and_grid(served: Any) -> None:
    client, runs = served
    (etl,) = client.get("/api/v1/dags").json()
    assert etl["dag_id"] == "etl" and etl["last_run"]["run_id"] == runs["etl"]
    dag = client.get("/api/v1/dags/etl").json()
    assert dag["layout"]["nodes"]["key"] == ["extract", "transform", "load"]
    grid = client.get("/api/v1/dags/etl/grid").json()
    assert grid["tasks"] == ["extract", "transform", "load"]
    assert [r["run_id"] for r in grid["runs"]] == [runs["etl"]]
    states = [[grid["state_codes"].get(c) for c in row] for row in grid["cells"]]
    assert states == [["success", "success", "success"]]
    assert client.get("/api/v1/dags/nope").status_code == 404
    assert client.get("/api/v1/dags/nope/grid").status_code == 404


def test_code_locations_with_what_they_define(served: Any) -> None:
    client, _ = served
    (location,) = client.get("/api/v1/locations").json()
    assert location["status"] == "loaded" and location["error"] is None
    counts = {"assets": 4, "checks": 2, "jobs": 2, "dags": 1, "schedules": 1, "sensors": 1}
    assert location["counts"] == counts


def test_openapi_documents_every_endpoint(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/runs/{run_id}/logs",
        "/api/v1/runs/{run_id}/cancel",
        "/api/v1/runs/{run_id}/reexecute",
        "/api/v1/runs/{run_id}/clear",
        "/api/v1/stream",
        "/api/v1/assets",
        "/api/v1/assets/{key}",
        "/api/v1/dags",
        "/api/v1/dags/{dag_id}/grid",
        "/api/v1/schedules",
        "/api/v1/sensors/{name}/ticks",
        "/api/v1/backfills",
        "/api/v1/locations",
        "/api/v1/health",
    ):
        assert path in paths, path
    assert "post" in paths["/api/v1/runs"]
    run_schema = spec["components"]["schemas"]["RunSummary"]
    assert {"run_id", "status"} <= set(run_schema["properties"])
