"""The web at the issue's scale: p95 of each API call over HTTP, and first renders in Chromium.

    PYTHONPATH=src python benchmarks/seed_store.py /tmp/big.db          # once (minutes)
    PYTHONPATH=src:benchmarks python benchmarks/web_latency.py /tmp/big.db

Serves the seeded store with uvicorn on 127.0.0.1 (a snapshot of the seeded code location:
10,000 assets in 50 groups, each depending on the one 50 before it; the 5,000-task DAG in 50
chains), then calls every list and detail endpoint ``--calls`` times per round over one
keep-alive connection and prints the median over ``--rounds`` rounds of each round's p95 (a
database URL serves a seeded Postgres store the same way); then opens the lineage page in
Debian's Chromium (cold: the first page after start-up; warm: the next) and the DAG grid, and
prints the time from navigation to the page's mark (``lineage-ready``: the graph drawn;
``grid-ready``: the grid drawn).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from deras._instance.instance import DerasInstance
from deras._instance.settings import Settings
from deras._snapshot import AssetSnap, CheckSnap, CodeSnapshot, DagSnap, LocationRef, TaskSnap
from deras._web.app import create_app
from seed_store import BIG_DAG, asset_key, task_id

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
from browser import chromium
from web_server import LiveServer


def seeded_snapshot(assets: int, tasks: int) -> CodeSnapshot:
    return CodeSnapshot(
        location=LocationRef(file="seeded.py"),
        version=f"seeded-{assets}-{tasks}",
        assets=[
            AssetSnap(
                key=asset_key(i), group=f"group_{i % 50}", deps=[asset_key(i - 50)] if i >= 50 else []
            )
            for i in range(assets)
        ],
        checks=[CheckSnap(name="not_empty", asset_key=asset_key(i)) for i in range(0, assets, 5)],
        dags=[
            DagSnap(
                dag_id=BIG_DAG,
                tasks=[TaskSnap(task_id=task_id(t)) for t in range(tasks)],
                edges=[(task_id(t - 50), task_id(t)) for t in range(50, tasks)],
                schedule="@daily",
            )
        ],
    )


class SeededLocation:
    name = "seeded"

    def __init__(self, snapshot: CodeSnapshot) -> None:
        self._snapshot = snapshot
        self.location = snapshot.location

    def snapshot(self) -> CodeSnapshot:
        return self._snapshot


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def endpoints(client: httpx.Client) -> dict[str, str]:
    first = client.get("/api/v1/runs", params={"limit": 50}).json()
    run_id = first["items"][0]["run_id"]
    dag_run_id = client.get(f"/api/v1/dags/{BIG_DAG}/grid", params={"limit": 1}).json()["runs"][0]["run_id"]
    deep = first
    for _ in range(100):  # page 101: 5,000 runs deep
        deep = client.get("/api/v1/runs", params={"limit": 50, "cursor": deep["next_cursor"]}).json()
    assets_deep = client.get("/api/v1/assets").json()
    for _ in range(49):  # page 50: 4,900 assets deep
        assets_deep = client.get("/api/v1/assets", params={"cursor": assets_deep["next_cursor"]}).json()
    return {
        "GET /runs (first page)": "/api/v1/runs?limit=50",
        "GET /runs (page 101)": f"/api/v1/runs?limit=50&cursor={deep['next_cursor']}",
        "GET /runs?status=failure": "/api/v1/runs?limit=50&status=failure",
        "GET /runs?tag=team=a": "/api/v1/runs?limit=50&tag=team%3Da",
        "GET /runs/{id}": f"/api/v1/runs/{run_id}",
        "GET /runs/{id} (5,000-task DAG run)": f"/api/v1/runs/{dag_run_id}",
        "GET /runs/{id}/events": f"/api/v1/runs/{run_id}/events",
        "GET /runs/{id}/logs": f"/api/v1/runs/{run_id}/logs",
        "GET /assets (first page of 100 of 10,000)": "/api/v1/assets",
        "GET /assets (page 50)": f"/api/v1/assets?cursor={assets_deep['next_cursor']}",
        "GET /assets?search=group_7": "/api/v1/assets?search=group_7",
        "GET /assets?limit=1000": "/api/v1/assets?limit=1000",
        "GET /assets/{key}": f"/api/v1/assets/{asset_key(15)}",
        "GET /lineage (10,000, cached)": "/api/v1/lineage",
        "GET /lineage/statuses": "/api/v1/lineage/statuses",
        "GET /dags": "/api/v1/dags",
        "GET /dags/{id}/grid (5,000 x 25)": f"/api/v1/dags/{BIG_DAG}/grid",
        "GET /dags/{id}/grid?limit=10": f"/api/v1/dags/{BIG_DAG}/grid?limit=10",
        "GET /backfills": "/api/v1/backfills",
        "GET /overview": "/api/v1/overview",
    }


def first_renders(url: str) -> dict[str, float]:
    out: dict[str, float] = {}
    with chromium() as browser:
        for label in ("lineage (cold browser cache)", "lineage (warm)"):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{url}/assets")
            page.wait_for_selector("body[data-graph-ready]", timeout=120_000)
            out[label] = page.evaluate("performance.getEntriesByName('lineage-ready')[0].startTime") / 1000
            page.close()
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{url}/dags/{BIG_DAG}")
        page.wait_for_selector("body[data-grid-ready]", timeout=120_000)
        ready = page.evaluate("performance.getEntriesByName('grid-ready')[0].startTime")
        out["DAG grid 5,000 x 25"] = ready / 1000
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="the seeded SQLite file or database URL")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="the p95 is the median of the rounds' p95")
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=5_000)
    args = parser.parse_args(argv)
    url = args.target if "://" in args.target else f"sqlite:///{args.target}"
    instance = DerasInstance(Settings(Path(tempfile.mkdtemp(prefix="deras-web-")), url))
    location = SeededLocation(seeded_snapshot(args.assets, args.tasks))
    app = create_app(instance, location, freeze_long_lived=True)  # as `deras web` serves
    try:
        with LiveServer(app) as server:
            with httpx.Client(base_url=server.url, timeout=120) as client:
                backend = url.split("://")[0]
                print(f"| endpoint ({backend}) | p95, median of {args.rounds} rounds | median call |")
                print("|---|---|---|")
                for name, path in endpoints(client).items():
                    if client.get(path).status_code == 501:
                        print(f"| {name} | (no read model yet) | |")
                        continue
                    rounds: list[float] = []
                    samples: list[float] = []
                    for _ in range(args.rounds):
                        client.get(path)  # a warm-up call per round
                        this_round: list[float] = []
                        for _ in range(args.calls):
                            started = time.perf_counter()
                            response = client.get(path)
                            this_round.append(time.perf_counter() - started)
                            response.raise_for_status()
                        rounds.append(p95(this_round))
                        samples += this_round
                    p95_ms = statistics.median(rounds) * 1000
                    print(f"| {name} | {p95_ms:.1f} ms | {statistics.median(samples) * 1000:.1f} ms |")
            print()
            print("| page in Chromium | navigation to ready |")
            print("|---|---|")
            for name, seconds in first_renders(server.url).items():
                print(f"| {name} | {seconds:.2f} s |")
    finally:
        instance.dispose()


if __name__ == "__main__":
    main()
