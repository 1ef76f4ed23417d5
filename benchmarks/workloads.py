"""The benchmark workloads of BENCHMARKS.md, each run as ``python workloads.py NAME [N]``.

Every body is trivial, so what is timed is deras: import, definitions, graph, plan,
execution, and the metadata writes to a persistent SQLite instance under $DERAS_HOME.
"""

from __future__ import annotations

import sys
import time
from typing import Any


def chain(n: int) -> None:
    import deras as dg

    assets: list[Any] = []

    @dg.asset(name="n0")
    def first() -> int:
        return 0

    assets.append(first)
    for i in range(1, n):
        assets.append(_step(dg, i))
    result = dg.materialize(assets, instance=dg.DerasInstance.get())
    assert result.success and result.asset_value(f"n{n - 1}") == n - 1


def pool_chain(n: int) -> None:
    """W1 on the multiprocess executor (2 workers): what the pool costs per node."""
    import deras as dg

    assets = [_first(dg)] + [_step(dg, i) for i in range(1, n)]
    executor = dg.MultiprocessExecutor(max_concurrent=2)
    result = dg.materialize(assets, instance=dg.DerasInstance.get(), executor=executor)
    assert result.success and result.asset_value(f"n{n - 1}") == n - 1


def pool_fan(n: int) -> None:
    """W2 on the multiprocess executor (2 workers)."""
    import deras as dg

    @dg.asset
    def root() -> int:
        return 1

    middles = [_middle(dg, i) for i in range(n)]

    @dg.asset(ins={f"m{i}": dg.AssetIn(key=f"m{i}") for i in range(n)})
    def join(**values: int) -> int:
        return sum(values.values())

    executor = dg.MultiprocessExecutor(max_concurrent=2)
    result = dg.materialize([root, *middles, join], instance=dg.DerasInstance.get(), executor=executor)
    assert result.success and result.asset_value("join") == n


def parallel(n: int) -> None:
    """W5: n independent nodes sleeping 1 s each, 8 at once (ideal wall: n / 8 seconds)."""
    import deras as dg

    def sleeper(i: int) -> Any:
        @dg.asset(name=f"s{i}")
        def body() -> int:
            time.sleep(1)
            return i

        return body

    executor = dg.MultiprocessExecutor(max_concurrent=8)
    result = dg.materialize(
        [sleeper(i) for i in range(n)], instance=dg.DerasInstance.get(), executor=executor
    )
    assert result.success


def _first(dg: Any) -> Any:
    @dg.asset(name="n0")
    def first() -> int:
        return 0

    return first


def _step(dg: Any, i: int) -> Any:
    @dg.asset(name=f"n{i}", ins={"prev": dg.AssetIn(key=f"n{i - 1}")})
    def step(prev: int) -> int:
        return prev + 1

    return step


def fan(n: int) -> None:
    import deras as dg

    @dg.asset
    def root() -> int:
        return 1

    middles = [_middle(dg, i) for i in range(n)]

    @dg.asset(ins={f"m{i}": dg.AssetIn(key=f"m{i}") for i in range(n)})
    def join(**values: int) -> int:
        return sum(values.values())

    result = dg.materialize([root, *middles, join], instance=dg.DerasInstance.get())
    assert result.success and result.asset_value("join") == n


def _middle(dg: Any, i: int) -> Any:
    @dg.asset(name=f"m{i}")
    def middle(root: int) -> int:
        return root

    return middle


def load(n: int) -> None:
    """W3: 100 layers of n/100 nodes, each depending on 2 nodes of the layer above.

    Define them, build ``Definitions`` with a job of every asset (validation and the graph),
    and plan a run of that job; nothing runs.
    """
    import deras as dg
    from deras._plan.plan import plan_run

    width = n // 100
    assets: list[Any] = []
    for layer in range(100):
        for j in range(width):
            assets.append(_leaf(dg, j) if layer == 0 else _inner(dg, layer, j, width))
    defs = dg.Definitions(assets=assets, jobs=[dg.define_asset_job("everything", selection="*")])
    plan = plan_run(defs.asset_graph, node_ids=defs.get_job("everything").node_ids)
    assert len(plan.node_ids) == n


def _leaf(dg: Any, j: int) -> Any:
    @dg.asset(name=f"l0_{j}")
    def leaf() -> int:
        return j

    return leaf


def _inner(dg: Any, layer: int, j: int, width: int) -> Any:
    a, b = f"l{layer - 1}_{j}", f"l{layer - 1}_{(j + 1) % width}"

    @dg.asset(name=f"l{layer}_{j}", ins={"a": dg.AssetIn(key=a), "b": dg.AssetIn(key=b)})
    def inner(a: int, b: int) -> int:
        return a + b

    return inner


def dag_chain(n: int) -> None:
    """W1 as a DAG: n PythonOperator-free TaskFlow tasks in a line, each adding 1."""
    import deras as dg

    with dg.DAG("chain") as d:
        value = _dg_task(dg, "t0")()
        for i in range(1, n):
            value = _dg_task(dg, f"t{i}", add=True)(value)
    run = d.test(instance=dg.DerasInstance.get())
    assert run.state == "success" and run.xcom(f"t{n - 1}") == n - 1


def _dg_task(dg: Any, task_id: str, add: bool = False) -> Any:
    if add:

        @dg.task(task_id=task_id)
        def step(prev: int) -> int:
            return prev + 1

        return step

    @dg.task(task_id=task_id)
    def first() -> int:
        return 0

    return first


def dag_fan(n: int) -> None:
    """W2 as a DAG: one root, n middle tasks taking its value, one join taking all n."""
    import deras as dg

    @dg.task
    def root() -> int:
        return 1

    @dg.task
    def middle(x: int) -> int:
        return x

    @dg.task
    def join(values: list[int]) -> int:
        return sum(values)

    with dg.DAG("fan") as d:
        r = root()
        join([middle(r) for _ in range(n)])
    run = d.test(instance=dg.DerasInstance.get())
    assert run.state == "success" and run.xcom("join") == n


def dag_load(n: int) -> None:
    """W3 as a DAG: 100 layers of n/100 tasks, each after 2 of the layer above; plan, no run."""
    import deras as dg
    from deras._plan.plan import plan_run

    width = n // 100
    with dg.DAG("load") as d:
        previous = [dg.EmptyOperator(task_id=f"l0_{j}") for j in range(width)]
        for layer in range(1, 100):
            current = [dg.EmptyOperator(task_id=f"l{layer}_{j}") for j in range(width)]
            for j, task in enumerate(current):
                task.set_upstream([previous[j], previous[(j + 1) % width]])
            previous = current
    plan = plan_run(d.graph, node_ids=list(d.graph.nodes))
    assert len(plan.node_ids) == n


def backfill(n: int, single_run: bool = False) -> None:
    """W4: the 365 daily partitions of 2025 through ``deras materialize --partition-range``."""
    from deras._cli.main import cli

    cli(
        [
            "materialize",
            "-f",
            __file__.replace("workloads.py", "daily_asset.py"),
            "--partition-range",
            "2025-01-01...2025-12-31",
            "--no-progress",
            "--json",
            *(["--select", "daily_single"] if single_run else ["--select", "daily"]),
        ],
        standalone_mode=False,
    )


def partition_status(n: int) -> None:
    """Query the status of an asset with ``n`` daily partitions recorded in fragmented ranges."""
    import deras as dg

    instance = dg.DerasInstance.get()
    pdef = _million_daily(dg, n)
    times = []
    for _ in range(7):
        t = time.perf_counter()
        status = instance.get_partition_status("million", pdef)
        times.append(time.perf_counter() - t)
    assert status.total == n and len(status.materialized) + len(status.failed) == n
    times.sort()
    print(f"partition_status_ms={times[len(times) // 2] * 1000:.3f}")


def _million_daily(dg: Any, n: int) -> Any:
    import datetime as dt

    start = dt.date(2000, 1, 1)
    return dg.DailyPartitionsDefinition(
        start_date=start.isoformat(), end_date=(start + dt.timedelta(days=n)).isoformat()
    )


def setup_partition_status(n: int) -> None:
    """Record n partitions: materialized in 1,000 runs' ranges, every 1,000th one failed."""
    import deras as dg
    from deras._core.events import EventRecord, EventType

    instance = dg.DerasInstance.get()
    pdef = _million_daily(dg, n)
    first = pdef.key_to_index(pdef.get_partition_keys()[0]) if n <= 1000 else _first_index(pdef)
    events = []
    chunk = n // 1000
    for c in range(1000):
        a = first + c * chunk
        events.append(
            EventRecord(
                "bench",
                EventType.ASSET_MATERIALIZATION,
                "million",
                0,
                data={
                    "asset_key": "million",
                    "partitions": {"def_id": pdef.index_space_id, "ranges": [[a, a + chunk - 1]]},
                },
            )
        )
        events.append(
            EventRecord(
                "bench",
                EventType.ASSET_FAILED,
                "million",
                0,
                data={
                    "asset_key": "million",
                    "partitions": {"def_id": pdef.index_space_id, "ranges": [[a + chunk - 1, a + chunk]]},
                },
            )
        )
    instance.store.store_events(events)


def _first_index(pdef: Any) -> int:
    return int(pdef.key_to_index("2000-01-01"))


if __name__ == "__main__":
    name = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if name == "import":
        import deras  # noqa: F401
    elif name == "backfill_single":
        backfill(size, single_run=True)
    else:
        globals()[name](size)
