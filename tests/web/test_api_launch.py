"""Launching through the API: requests go to a real code server process, which records queued
runs (the daemon runs them); bad input is a 400 naming what is wrong and writes nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web_code import WEB_DEFS, SnapshotLocation, record_runs

pytestmark = pytest.mark.slow  # a code server process per test


@pytest.fixture
def code_locations(web_instance: Any) -> Iterator[Any]:
    from deras._code_server.client import CodeLocations

    locations = CodeLocations.single({"file": str(WEB_DEFS)}, instance=web_instance)
    locations.start()
    try:
        yield locations
    finally:
        locations.stop()


@pytest.fixture
def client(make_client: Callable[..., Any], code_locations: Any) -> Any:
    return make_client(code_locations)


def _queued(instance: Any) -> list[Any]:
    return [r for r in instance.get_runs() if str(r.status) == "queued"]


def test_launching_a_selection_queues_a_run_for_the_daemon(client: Any, web_instance: Any) -> None:
    response = client.post("/api/v1/runs", json={"selection": "raw_prices++", "tags": {"who": "web"}})
    assert response.status_code == 200, response.text
    run = web_instance.get_run(response.json()["run_id"])
    assert str(run.status) == "queued"
    assert set(run.selection) >= {"raw_prices", "clean_prices", "report"}
    assert run.tags["who"] == "web"
    assert run.code_location["file"] == str(WEB_DEFS)


def test_launching_a_partition_of_a_job(client: Any, web_instance: Any) -> None:
    response = client.post("/api/v1/runs", json={"job": "daily_job", "partition": "2025-01-03"})
    assert response.status_code == 200, response.text
    assert web_instance.get_run(response.json()["run_id"]).partition_key == "2025-01-03"


def test_launching_a_dag_run_with_conf(client: Any, web_instance: Any) -> None:
    body = {"dag_id": "etl", "conf": {"note": "from the web"}, "logical_date": "2025-01-07"}
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 200, response.text
    run = web_instance.get_run(response.json()["run_id"])
    assert run.dag_id == "etl" and run.logical_date.date().isoformat() == "2025-01-07"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"selection": "no_such_asset"}, "no_such_asset"),
        ({"job": "daily_job", "partition": "1999-01-01"}, "1999-01-01"),
        ({"job": "nope"}, "nope"),
        ({"dag_id": "etl", "logical_date": "not a date"}, "not a date"),
        ({"selection": "raw_prices", "job": "prices_job"}, "exactly one"),
    ],
)
def test_bad_launches_are_a_400_naming_what_is_wrong(
    client: Any, web_instance: Any, body: dict[str, Any], named: str
) -> None:
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 400
    assert named in response.json()["detail"]
    assert _queued(web_instance) == []


def test_reexecuting_a_failed_run_queues_its_child(client: Any, web_instance: Any) -> None:
    runs = record_runs(web_instance, SnapshotLocation())
    response = client.post(f"/api/v1/runs/{runs['report']}/reexecute", json={"from_failure": True})
    assert response.status_code == 200, response.text
    child = web_instance.get_run(response.json()["run_id"])
    assert child.parent_run_id == runs["report"] and str(child.status) == "queued"
    assert client.post("/api/v1/runs/nope/reexecute", json={}).status_code == 404


def test_clearing_a_task_of_a_dag_run_runs_it_again_in_that_run(
    client: Any, web_instance: Any, no_hang: Callable[[float], Any]
) -> None:
    runs = record_runs(web_instance, SnapshotLocation())
    response = client.post(f"/api/v1/runs/{runs['etl']}/clear", json={"tasks": ["load"]})
    assert response.status_code == 200, response.text
    with no_hang(120):
        while len(web_instance.get_attempts(runs["etl"], "etl.load")) < 2:
            time.sleep(0.2)
    not_dag = client.post(f"/api/v1/runs/{runs['prices']}/clear", json={"tasks": ["x"]})
    assert not_dag.status_code == 400 and "not a DAG run" in not_dag.json()["detail"]


def test_cancelling_a_queued_run(client: Any, web_instance: Any) -> None:
    run_id = client.post("/api/v1/runs", json={"selection": "raw_prices"}).json()["run_id"]
    response = client.post(f"/api/v1/runs/{run_id}/cancel")
    assert response.json() == {"run_id": run_id, "status": "canceled"}


def test_launching_and_cancelling_a_backfill(client: Any, web_instance: Any) -> None:
    body = {"job": "daily_job", "partition_range": ["2025-01-01", "2025-01-05"]}
    response = client.post("/api/v1/backfills", json=body)
    assert response.status_code == 200, response.text
    backfill_id = response.json()["backfill_id"]
    assert len(web_instance.get_backfill(backfill_id).partition_status) == 5
    cancel = client.post(f"/api/v1/backfills/{backfill_id}/cancel")
    assert cancel.json() == {"backfill_id": backfill_id, "status": "canceling"}
    bad = client.post(
        "/api/v1/backfills", json={"job": "daily_job", "partition_range": ["2025-01-01", "2030-01-01"]}
    )
    assert bad.status_code == 400 and "2030-01-01" in bad.json()["detail"]


def test_starting_and_stopping_a_schedule_and_a_sensor(client: Any, web_instance: Any) -> None:
    started = client.post("/api/v1/schedules/nightly/start").json()
    assert started == {"name": "nightly", "key": "schedule:nightly", "status": "running"}
    assert web_instance.store.ticks.get_state("schedule:nightly").status == "running"
    assert client.post("/api/v1/sensors/new_files/stop").json()["status"] == "stopped"
    assert web_instance.store.ticks.get_state("sensor:new_files").status == "stopped"
    assert client.post("/api/v1/schedules/nope/start").status_code == 404


def test_a_broken_file_is_a_load_error_until_fixed_and_reloaded(
    make_client: Callable[..., Any], web_instance: Any, tmp_path: Path
) -> None:
    from deras._code_server.client import CodeLocations

    code = tmp_path / "broken_defs.py"
    code.write_text("import deras as dg\n\n@dg.asset\ndef a(:\n    return 1\n")
    locations = CodeLocations.single({"file": str(code)}, instance=web_instance)
    try:
        client = make_client(locations)
        (location,) = client.get("/api/v1/locations").json()
        assert location["status"] == "error"
        assert "SyntaxError" in location["error"]["message"] + location["error"]["traceback"]
        assert client.get("/api/v1/assets").status_code == 200  # the server stays up
        assert client.get("/api/v1/lineage").status_code == 503
        code.write_text(
            textwrap.dedent(
                """
                import deras as dg

                @dg.asset
                def a() -> int:
                    return 1

                defs = dg.Definitions(assets=[a])
                """
            )
        )
        reloaded = client.post(f"/api/v1/locations/{location['name']}/reload")
        assert reloaded.json()["status"] == "loaded", reloaded.text
        assert client.get("/api/v1/lineage").json()["nodes"]["key"] == ["a"]
    finally:
        locations.stop()


def test_a_dag_folder_loads_with_its_broken_file_shown_on_the_location(
    make_client: Callable[..., Any], web_instance: Any, tmp_path: Path
) -> None:
    from deras._code_server.client import CodeLocations

    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "etl_dag.py").write_text(
        'import deras as dg\n\nwith dg.DAG("folder_etl", schedule=None):\n    dg.EmptyOperator(task_id="a")\n'
    )
    (folder / "broken.py").write_text("import no_such_module_here\n")
    locations = CodeLocations.single({"dags_folder": str(folder)}, instance=web_instance)
    try:
        client = make_client(locations)
        (location,) = client.get("/api/v1/locations").json()
        assert (location["name"], location["status"]) == ("dags", "loaded")
        assert location["location"] == {"dags_folder": str(folder)}
        assert location["counts"]["dags"] == 1
        assert list(location["load_errors"]) == [str(folder / "broken.py")]
        assert "no_such_module_here" in location["load_errors"][str(folder / "broken.py")]
        assert [d["dag_id"] for d in client.get("/api/v1/dags").json()] == ["folder_etl"]
    finally:
        locations.stop()


def test_the_web_server_never_imports_the_users_code(tmp_path: Path) -> None:
    """Serving every page and the API (definitions included) leaves the user's module unloaded."""
    script = textwrap.dedent(
        f"""
        import sys
        from fastapi.testclient import TestClient
        from deras._code_server.client import CodeLocations
        from deras._instance.instance import DerasInstance
        from deras._instance.settings import Settings
        from deras._web.app import create_app

        from pathlib import Path
        instance = DerasInstance(Settings(Path({str(tmp_path / "home")!r}), "sqlite:///{tmp_path / "d.db"}"))
        locations = CodeLocations.single({{"file": {str(WEB_DEFS)!r}}}, instance=instance)
        try:
            with TestClient(create_app(instance, locations)) as client:
                for path in ["/", "/assets", "/runs", "/dags/etl", "/api/v1/assets", "/api/v1/lineage",
                             "/api/v1/dags", "/api/v1/dags/etl/grid", "/api/v1/locations"]:
                    assert client.get(path).status_code == 200, path
                csrf = {{"X-CSRF-Token": client.cookies["deras_csrf"]}}  # a browser now: it has the cookie
                launched = client.post("/api/v1/runs", json={{"selection": "raw_prices"}}, headers=csrf)
                assert launched.status_code == 200, launched.text
        finally:
            locations.stop()
        loaded = [m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == {str(WEB_DEFS)!r}]
        print("user modules:", loaded)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "user modules: []" in result.stdout
