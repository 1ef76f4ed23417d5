"""Schedules and sensors through the API: a DAG's own schedule (``dag:ID``) starts, stops and
lists its ticks like a schedule does; unknown names are a 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web_code import SnapshotLocation

from deras._core.status import TickStatus


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client(SnapshotLocation())


def _listed(client: Any, key: str) -> dict[str, Any]:
    return next(s for s in client.get("/api/v1/schedules").json() if s["key"] == key)


def test_a_dags_own_schedule_stops_and_starts_by_its_key(client: Any, web_instance: Any) -> None:
    assert _listed(client, "dag:etl")["status"] == "running"  # a DAG with a schedule is on unless stopped
    stopped = client.post("/api/v1/schedules/dag:etl/stop")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json() == {"name": "etl", "key": "dag:etl", "status": "stopped"}
    assert web_instance.store.ticks.get_state("dag:etl").status == "stopped"
    assert _listed(client, "dag:etl")["status"] == "stopped"
    assert client.post("/api/v1/schedules/dag%3Aetl/start").json()["status"] == "running"
    assert _listed(client, "dag:etl")["status"] == "running"


def test_a_dag_schedule_answers_to_its_name_when_no_schedule_has_it(client: Any, web_instance: Any) -> None:
    assert client.post("/api/v1/schedules/etl/stop").json()["key"] == "dag:etl"
    assert web_instance.store.ticks.get_state("dag:etl").status == "stopped"
    assert client.post("/api/v1/schedules/schedule:nightly/start").json()["key"] == "schedule:nightly"
    assert client.post("/api/v1/sensors/sensor:new_files/stop").json()["key"] == "sensor:new_files"


def test_a_dag_schedules_ticks_are_listed_by_its_key(client: Any, web_instance: Any) -> None:
    ticks = web_instance.store.ticks
    tick = ticks.claim_tick("dag:etl", 1_736_035_200.0, "test", 1_736_035_200.0, 60)
    ticks.finish_tick(tick.id, TickStatus.SKIPPED, now=1_736_035_201.0, skip_reason="already ran")
    page = client.get("/api/v1/schedules/dag:etl/ticks").json()
    assert [(t["instigator"], t["skip_reason"]) for t in page["items"]] == [("dag:etl", "already ran")]
    assert _listed(client, "dag:etl")["last_tick"]["status"] == "skipped"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/schedules/dag:nope/start",
        "/api/v1/schedules/nope/stop",
        "/api/v1/schedules/sensor:new_files/start",  # a sensor is not a schedule
        "/api/v1/sensors/dag:etl/stop",
        "/api/v1/schedules/dag:nope/ticks",
    ],
)
def test_an_unknown_schedule_or_sensor_is_a_404_naming_it(client: Any, path: str) -> None:
    method = client.get if path.endswith("/ticks") else client.post
    response = method(path)
    assert response.status_code == 404
    assert path.split("/")[4] in response.json()["detail"]
