"""``dg.Variable`` and ``{{ var.value.key }}``: values set once, read by DAG code and templates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import deras as dg

DAY = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def home(instance: Any, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``instance`` is also the one Variable uses outside a task ($DERAS_HOME and its database)."""
    monkeypatch.setenv("DERAS_HOME", str(instance.home))
    monkeypatch.setenv("DERAS_DATABASE_URL", db_url)
    return instance


def test_a_variable_set_is_read_back_as_text_or_json(home: Any) -> None:
    dg.Variable.set("region", "eu-west-1", description="where we run")
    dg.Variable.set("config", {"batch": 500, "tables": ["a", "b"]}, serialize_json=True)
    dg.Variable.set("count", 3)
    assert dg.Variable.get("region") == "eu-west-1"
    assert dg.Variable.get("config", deserialize_json=True) == {"batch": 500, "tables": ["a", "b"]}
    assert dg.Variable.get("count") == "3"  # stored as text, as Airflow stores str(value)
    assert home.store.variables.list()[2].description == "where we run"


def test_a_missing_variable_gives_the_default_or_a_key_error_naming_it(home: Any) -> None:
    assert dg.Variable.get("nope", default_var="fallback") == "fallback"
    assert dg.Variable.get("nope", default=None) is None
    with pytest.raises(KeyError, match="variable 'nope' does not exist"):
        dg.Variable.get("nope")


def test_delete_and_setdefault(home: Any) -> None:
    assert dg.Variable.setdefault("n", "1") == "1"
    assert dg.Variable.setdefault("n", "2") == "1"
    assert dg.Variable.delete("n") == 1
    assert dg.Variable.delete("n") == 0


def test_tasks_and_templates_read_the_variables_of_their_runs_instance(home: Any) -> None:
    dg.Variable.set("table", "orders")
    dg.Variable.set("limits", {"rows": 10}, serialize_json=True)

    @dg.dag
    def uses_vars():
        @dg.task
        def read() -> str:
            rows = dg.Variable.get("limits", deserialize_json=True)["rows"]
            return f"{dg.Variable.get('table')}/{rows}"

        @dg.task
        def write() -> None:
            dg.Variable.set("written_by_task", "yes")

        read() >> write()
        dg.BashOperator(
            task_id="templated",
            bash_command="echo {{ var.value.table }} {{ var.json.limits.rows }} "
            "{{ var.value.get('missing', 'dflt') }} {{ var.value['table'] }}",
        )

    run = uses_vars().test(logical_date=DAY, instance=home)
    assert run.state == "success"
    assert run.xcom("read") == "orders/10"
    assert run.xcom("templated") == "orders 10 dflt orders"
    assert home.store.variables.get("written_by_task") == "yes"


def test_a_template_naming_a_missing_variable_fails_the_task_naming_it(tmp_path: Path) -> None:
    with dg.DAG("missing_var") as d:
        dg.BashOperator(task_id="t", bash_command="echo {{ var.value.not_set }}")
    run = d.test(logical_date=DAY)
    assert run.get_task_instance("t").state == "failed"
    failures = [e.message for e in run.result.events if e.event_type == dg.EventType.STEP_FAILURE]
    assert any("variable 'not_set' does not exist" in m for m in failures)
