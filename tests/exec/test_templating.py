"""Task templates: Airflow's variables, rendered by Jinja, with errors that name the task and field."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import namedtuple
from datetime import UTC, datetime
from typing import Any

import pytest

from deras._core.errors import DerasError
from deras._exec.templating import TemplateDagRun, TemplateError, render_template, template_context

WHERE = "task 'b' bash_command"


@pytest.fixture
def ctx() -> dict[str, Any]:
    return template_context(
        logical_date=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        data_interval_start=datetime(2025, 1, 2, tzinfo=UTC),
        data_interval_end=datetime(2025, 1, 3, tzinfo=UTC),
        run_id="scheduled__2025-01-02",
        dag_id="etl",
        task_id="b",
        params={"n": 5, "label": "daily"},
        conf={"region": "eu"},
        ti="the-ti",
        try_number=2,
        map_index=3,
    )


def render(template: Any, ctx: dict[str, Any]) -> Any:
    return render_template(template, ctx, where=WHERE)


def error_of(template: str, ctx: dict[str, Any]) -> str:
    with pytest.raises(TemplateError) as err:
        render_template(template, ctx, where=WHERE)
    return str(err.value)


# --- the context's variables -------------------------------------------------------------------------


def test_ds_and_ds_nodash_are_the_logical_date(ctx: dict[str, Any]) -> None:
    assert render("{{ ds }} {{ ds_nodash }}", ctx) == "2025-01-02 20250102"


def test_ts_variants_are_the_logical_date_time(ctx: dict[str, Any]) -> None:
    assert render("{{ ts }}", ctx) == "2025-01-02T03:04:05+00:00"
    assert render("{{ ts_nodash }}", ctx) == "20250102T030405"
    assert render("{{ ts_nodash_with_tz }}", ctx) == "20250102T030405+0000"


def test_datetimes_render_and_keep_their_methods(ctx: dict[str, Any]) -> None:
    assert render("{{ logical_date }}", ctx) == "2025-01-02 03:04:05+00:00"
    assert render("{{ data_interval_start }} to {{ data_interval_end }}", ctx) == (
        "2025-01-02 00:00:00+00:00 to 2025-01-03 00:00:00+00:00"
    )
    assert render("{{ data_interval_end.strftime('%Y/%m/%d') }}", ctx) == "2025/01/03"


def test_airflow_date_filters(ctx: dict[str, Any]) -> None:
    assert render("{{ data_interval_end | ds }} {{ data_interval_end | ds_nodash }}", ctx) == (
        "2025-01-03 20250103"
    )
    assert render("{{ data_interval_end | ts_nodash }}", ctx) == "20250103T000000"


def test_params_by_attribute_and_by_key(ctx: dict[str, Any]) -> None:
    assert render("{{ params.n }} {{ params['label'] }} {{ params.n + 10 }}", ctx) == "5 daily 15"


def test_run_ids_and_instance_numbers(ctx: dict[str, Any]) -> None:
    rendered = render("{{ run_id }} {{ dag }} {{ task }} {{ try_number }} {{ map_index }} {{ ti }}", ctx)
    assert rendered == "scheduled__2025-01-02 etl b 2 3 the-ti"
    assert ctx["task_instance"] == ctx["ti"] == "the-ti"


def test_dag_and_task_also_answer_airflow_attribute_names(ctx: dict[str, Any]) -> None:
    assert render("{{ dag.dag_id }}/{{ task.task_id }}", ctx) == "etl/b"
    assert ctx["dag"] == "etl" and ctx["task"] == "b"


def test_conf_and_dag_run_show_the_runs_conf(ctx: dict[str, Any]) -> None:
    assert render("{{ conf.region }} {{ dag_run.conf['region'] }} {{ conf.get('x', 'none') }}", ctx) == (
        "eu eu none"
    )
    assert ctx["dag_run"] == TemplateDagRun(
        dag_id="etl",
        run_id="scheduled__2025-01-02",
        logical_date=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        conf={"region": "eu"},
        data_interval_start=datetime(2025, 1, 2, tzinfo=UTC),
        data_interval_end=datetime(2025, 1, 3, tzinfo=UTC),
    )


def test_conf_defaults_to_empty() -> None:
    ctx = template_context(
        logical_date=datetime(2025, 1, 2),
        data_interval_start=datetime(2025, 1, 2),
        data_interval_end=datetime(2025, 1, 3),
        run_id="r",
        dag_id="etl",
        task_id="b",
        params={},
    )
    assert ctx["conf"] == {} and ctx["ti"] is None and ctx["try_number"] == 1 and ctx["map_index"] == -1


# --- macros --------------------------------------------------------------------------------------------


def test_macros_ds_add_moves_forward_and_back(ctx: dict[str, Any]) -> None:
    assert render("{{ macros.ds_add(ds, 30) }} {{ macros.ds_add(ds, -2) }}", ctx) == "2025-02-01 2024-12-31"


def test_macros_ds_format(ctx: dict[str, Any]) -> None:
    assert render("{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}", ctx) == "02/01/2025"


def test_macros_datetime_and_timedelta(ctx: dict[str, Any]) -> None:
    template = "{{ (logical_date - macros.timedelta(days=1)).strftime('%Y-%m-%d') }}"
    assert render(template, ctx) == "2025-01-01"
    assert render("{{ macros.datetime(2024, 2, 29).strftime('%j') }}", ctx) == "060"


# --- rendering -----------------------------------------------------------------------------------------


def test_nested_structures_render_every_string(ctx: dict[str, Any]) -> None:
    template = {"cmd": ["run", "{{ ds }}", ("{{ params.n }}", 7)], "env": {"DAY": "{{ ds_nodash }}"}, "n": 1}
    assert render(template, ctx) == {
        "cmd": ["run", "2025-01-02", ("5", 7)],
        "env": {"DAY": "20250102"},
        "n": 1,
    }


def test_dict_keys_are_not_rendered(ctx: dict[str, Any]) -> None:
    assert render({"{{ ds }}": "{{ ds }}"}, ctx) == {"{{ ds }}": "2025-01-02"}


def test_namedtuples_keep_their_type(ctx: dict[str, Any]) -> None:
    Pair = namedtuple("Pair", "left right")
    assert render(Pair("{{ ds }}", 1), ctx) == Pair("2025-01-02", 1)


def test_non_strings_are_returned_as_they_are(ctx: dict[str, Any]) -> None:
    marker = object()
    assert render(marker, ctx) is marker
    assert render(None, ctx) is None and render(5, ctx) == 5


def test_strings_without_template_markers_are_unchanged(ctx: dict[str, Any]) -> None:
    assert render("echo {not a template} }}\n", ctx) == "echo {not a template} }}\n"


def test_trailing_newline_is_kept(ctx: dict[str, Any]) -> None:
    assert render("echo {{ ds }}\n", ctx) == "echo 2025-01-02\n"


def test_renders_with_jinja_statements(ctx: dict[str, Any]) -> None:
    template = "{% for i in range(params.n) %}{{ i }}{% endfor %}{% if conf.region == 'eu' %}!{% endif %}"
    assert render(template, ctx) == "01234!"


# --- errors --------------------------------------------------------------------------------------------


def test_undefined_variable_names_it_the_field_and_the_closest_name(ctx: dict[str, Any]) -> None:
    assert error_of("echo {{ ds_nodahs }}", ctx) == (
        "task 'b' bash_command: 'ds_nodahs' is undefined in template 'echo {{ ds_nodahs }}'. "
        "Did you mean 'ds_nodash'?"
    )


def test_undefined_variable_without_close_name_lists_the_variables(ctx: dict[str, Any]) -> None:
    assert error_of("{{ zzz }}", ctx) == (
        "task 'b' bash_command: 'zzz' is undefined in template '{{ zzz }}'. Template variables: "
        "conf, dag, dag_run, data_interval_end, data_interval_start, ds, ds_nodash, logical_date, "
        "macros, map_index, params, run_id, task, task_instance, ti, try_number, ts, ts_nodash, "
        "ts_nodash_with_tz"
    )


def test_unknown_param_lists_the_params(ctx: dict[str, Any]) -> None:
    assert error_of("{{ params.lable }}", ctx) == (
        "task 'b' bash_command: there is no param 'lable' in template '{{ params.lable }}'; "
        "the params are: 'n', 'label'. Did you mean 'label'?"
    )


def test_undefined_inside_a_nested_structure_names_the_position(ctx: dict[str, Any]) -> None:
    with pytest.raises(TemplateError) as err:
        render_template({"env": ["ok", "{{ nope_x }}"]}, ctx, where="task 'b' op_kwargs")
    assert str(err.value).startswith("task 'b' op_kwargs['env'][1]: 'nope_x' is undefined")
    assert err.value.where == "task 'b' op_kwargs['env'][1]" and err.value.template == "{{ nope_x }}"


def test_syntax_error_names_the_problem_and_template(ctx: dict[str, Any]) -> None:
    assert error_of("echo {{ ds }", ctx) == (
        "task 'b' bash_command: template syntax error: unexpected '}' in template 'echo {{ ds }'"
    )


def test_syntax_error_in_a_multiline_template_names_the_line(ctx: dict[str, Any]) -> None:
    assert error_of("SELECT *\nFROM t\n{% if %}\n", ctx) == (
        "task 'b' bash_command: template syntax error: Expected an expression, got 'end of statement "
        "block' on line 3 of the template: '{% if %}'"
    )


def test_an_exception_while_rendering_names_the_template_and_keeps_the_cause(ctx: dict[str, Any]) -> None:
    with pytest.raises(TemplateError) as err:
        render_template("{{ macros.ds_add('soon', 1) }}", ctx, where=WHERE)
    assert str(err.value) == (
        "task 'b' bash_command: rendering failed in template \"{{ macros.ds_add('soon', 1) }}\": "
        "ValueError: time data 'soon' does not match format '%Y-%m-%d'"
    )
    assert isinstance(err.value.__cause__, ValueError)


def test_the_sandbox_blocks_private_attributes(ctx: dict[str, Any]) -> None:
    assert error_of("{{ ds.__class__ }}", ctx) == (
        "task 'b' bash_command: access to attribute '__class__' of 'str' object is unsafe in template "
        "'{{ ds.__class__ }}': templates render in Jinja's sandbox, which blocks attributes starting with '_'"
    )


def test_error_without_where_starts_with_the_problem() -> None:
    with pytest.raises(TemplateError) as err:
        render_template("{{ x }}", {"y": 1})
    assert str(err.value) == "'x' is undefined in template '{{ x }}'. Template variables: y"


def test_template_error_is_a_deras_error() -> None:
    assert issubclass(TemplateError, DerasError)


def test_importing_templating_or_rendering_plain_strings_does_not_load_jinja() -> None:
    code = (
        "import sys, json; from deras._exec.templating import render_template; "
        "render_template(['plain', {'a': 'text'}], {}); "
        "print(json.dumps('jinja2' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) is False
