"""Writing DAGs: TaskFlow and classic operators, wiring, groups, and the errors of bad DAGs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import deras as dg


def test_taskflow_calls_wire_the_dag() -> None:
    @dg.dag(schedule="@daily", start_date=datetime(2025, 1, 1))
    def etl() -> None:
        @dg.task
        def extract() -> list[int]:
            return [1, 2, 3]

        @dg.task
        def transform(rows: list[int]) -> list[int]:
            return [r * 2 for r in rows]

        @dg.task
        def load(rows: list[int]) -> None: ...

        load(transform(extract()))

    d = etl()
    assert d.dag_id == "etl"
    assert [t.task_id for t in d.topological_tasks()] == ["extract", "transform", "load"]
    assert d.get_task("load").upstream_task_ids == {"transform"}


def test_shift_operators_lists_and_chain() -> None:
    with dg.DAG("classic", schedule="0 3 * * *", start_date=datetime(2025, 1, 1)) as d:
        a, b, c, e = (dg.EmptyOperator(task_id=t) for t in "abce")
        x = dg.PythonOperator(task_id="x", python_callable=lambda: 1)
        [a, b] >> c
        c << e
        dg.chain(x, [a, b])
    assert d.get_task("c").upstream_task_ids == {"a", "b", "e"}
    assert d.get_task("a").upstream_task_ids == {"x"} and d.get_task("b").upstream_task_ids == {"x"}


def test_default_args_apply_unless_the_task_overrides() -> None:
    with dg.DAG("d", default_args={"retries": 2, "retry_delay": timedelta(seconds=5)}) as d:
        plain = dg.EmptyOperator(task_id="plain")
        own = dg.EmptyOperator(task_id="own", retries=7)
    assert (plain.retries, plain.retry_delay) == (2, timedelta(seconds=5))
    assert own.retries == 7
    node = next(n for n in d.graph_nodes() if n.id == "d.plain")
    assert node.retry_policy.max_retries == 2 and node.retry_policy.delay == 5


def test_task_group_prefixes_ids_and_wires_roots_and_leaves() -> None:
    with dg.DAG("g") as d:
        start = dg.EmptyOperator(task_id="start")
        with dg.TaskGroup("load") as load:
            one = dg.EmptyOperator(task_id="one")
            two = dg.EmptyOperator(task_id="two")
            one >> two
        end = dg.EmptyOperator(task_id="end")
        start >> load >> end
    assert d.task_ids == ["start", "load.one", "load.two", "end"]
    assert d.get_task("load.one").upstream_task_ids == {"start"}
    assert d.get_task("end").upstream_task_ids == {"load.two"}
    assert next(n for n in d.graph_nodes() if n.id == "g.load.one").group == "load"


def test_cycle_made_with_shift_is_an_error_naming_its_path() -> None:
    with pytest.raises(dg.DefinitionError, match=r"cycle.*c\.a → c\.b → c\.a"), dg.DAG("c"):
        a = dg.EmptyOperator(task_id="a")
        b = dg.EmptyOperator(task_id="b")
        a >> b >> a


def test_task_id_used_twice_is_an_error() -> None:
    with pytest.raises(dg.DefinitionError, match="task id 'a' is used twice in DAG 'dup'"), dg.DAG("dup"):
        dg.EmptyOperator(task_id="a")
        dg.EmptyOperator(task_id="a")


def test_unknown_trigger_rule_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(dg.DefinitionError, match="did you mean 'all_success'"), dg.DAG("tr"):
        dg.EmptyOperator(task_id="a", trigger_rule="all_sucess")


def test_bad_cron_is_an_error_naming_the_string() -> None:
    with pytest.raises(dg.DefinitionError, match="61 \\* \\* \\* \\*"):
        dg.DAG("bad", schedule="61 * * * *")


def test_task_called_outside_a_dag_is_an_error() -> None:
    @dg.task
    def lonely() -> int:
        return 1

    with pytest.raises(dg.DefinitionError, match="outside a DAG"):
        lonely()
    assert lonely.function() == 1


def test_task_called_twice_gets_a_second_id() -> None:
    @dg.task
    def step() -> int:
        return 1

    with dg.DAG("twice") as d:
        step()
        step()
    assert d.task_ids == ["step", "step__1"]


def test_dags_and_assets_share_one_graph() -> None:
    with dg.DAG("etl") as etl:
        dg.EmptyOperator(task_id="load", outlets=[dg.AssetKey("raw_orders")])

    @dg.asset(deps=[etl.get_task("load")])
    def report() -> int:
        return 1

    defs = dg.Definitions(assets=[report], dags=[etl])
    graph = defs.asset_graph
    assert graph.upstream["report"] == ["etl.load"]
    assert graph.nodes["etl.load"].kind == "task"


def test_asset_depending_on_a_task_outlet_joins_the_lineage_graph() -> None:
    with dg.DAG("ingest") as ingest:
        dg.EmptyOperator(task_id="load", outlets=[dg.AssetKey("raw_orders")])

    @dg.asset(deps=["raw_orders"])
    def order_report() -> int:
        return 1

    graph = dg.Definitions(assets=[order_report], dags=[ingest]).asset_graph
    assert graph.upstream["order_report"] == ["ingest.load"]
    assert graph.asset_nodes[dg.AssetKey("raw_orders")] == "ingest.load"


def test_materialize_accepts_dags_for_lineage_but_runs_only_assets() -> None:
    with dg.DAG("ingest2") as ingest:
        dg.PythonOperator(task_id="load", python_callable=lambda: 1 / 0, outlets=[dg.AssetKey("raw")])

    @dg.asset(deps=["raw"])
    def report() -> int:
        return 1

    result = dg.materialize([report, ingest])
    assert result.success and result.node_statuses == {"report": dg.NodeStatus.SUCCESS}
