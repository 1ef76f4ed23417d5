"""Jinja templating of task fields (``bash_command="echo {{ ds }}"``), with Airflow's variables.

:func:`template_context` builds the variables a task's templates see; :func:`render_template`
renders a field (a string, or lists/tuples/dicts of them) and turns every Jinja failure into a
:class:`TemplateError` that names the task and field.

>>> from datetime import datetime
>>> ctx = template_context(
...     logical_date=datetime(2025, 1, 2), data_interval_start=datetime(2025, 1, 2),
...     data_interval_end=datetime(2025, 1, 3), run_id="manual_1", dag_id="etl", task_id="b",
...     params={"n": 5})
>>> render_template("echo {{ ds }} {{ params.n }}", ctx)
'echo 2025-01-02 5'
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import random
import re
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Final

from .._core.errors import DerasError

if TYPE_CHECKING:  # Jinja2 costs ~70 ms to import: loaded on the first template rendered
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment

__all__ = ["TemplateDagRun", "TemplateError", "macros", "render_template", "template_context"]

# The markers that make a string a template; a string with none of them is returned unparsed.
_JINJA_MARKERS: Final = ("{{", "{%", "{#")


class TemplateError(DerasError):
    """A template that cannot be rendered: a syntax error, an undefined variable, a failing call.

    ``where`` names the field ("task 'b' bash_command") and ``template`` is its source.
    """

    def __init__(self, message: str, *, where: str = "", template: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.template = template


def ds_add(ds: str, days: int) -> str:
    """``ds`` ("YYYY-MM-DD") moved by ``days`` (negative goes back).

    >>> ds_add("2025-01-30", 5)
    '2025-02-04'
    """
    return (datetime.strptime(ds, "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """``ds`` parsed with ``input_format`` and written with ``output_format``.

    >>> ds_format("2025-01-30", "%Y-%m-%d", "%d/%m/%Y")
    '30/01/2025'
    """
    return datetime.strptime(ds, input_format).strftime(output_format)


# ``{{ macros.ds_add(ds, 7) }}``: the helpers and modules Airflow's ``macros`` offers from the
# standard library (``datetime`` is the class, ``time`` the module, as in Airflow).
macros: Final = SimpleNamespace(
    ds_add=ds_add,
    ds_format=ds_format,
    datetime=datetime,
    timedelta=timedelta,
    time=time,
    uuid=uuid,
    random=random,
    json=json,
)


@dataclasses.dataclass(frozen=True, slots=True)
class TemplateDagRun:
    """``{{ dag_run }}``: the run being executed, as its templates see it.

    >>> TemplateDagRun(dag_id="etl", run_id="r1", logical_date=None, conf={}).run_id
    'r1'
    """

    dag_id: str
    run_id: str
    logical_date: datetime | None
    conf: Mapping[str, Any]
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None


class _DagId(str):
    """``{{ dag }}`` renders the DAG id; ``{{ dag.dag_id }}`` works too, as in Airflow."""

    __slots__ = ()

    @property
    def dag_id(self) -> str:
        return str(self)


class _TaskId(str):
    """``{{ task }}`` renders the task id; ``{{ task.task_id }}`` works too, as in Airflow."""

    __slots__ = ()

    @property
    def task_id(self) -> str:
        return str(self)


def template_context(
    *,
    logical_date: datetime,
    data_interval_start: datetime,
    data_interval_end: datetime,
    run_id: str,
    dag_id: str,
    task_id: str,
    params: Mapping[str, Any],
    conf: Mapping[str, Any] | None = None,
    ti: Any = None,
    try_number: int = 1,
    map_index: int = -1,
) -> dict[str, Any]:
    """The variables a task's templates see, under Airflow's names.

    ``ds``/``ds_nodash``/``ts``/``ts_nodash``/``ts_nodash_with_tz`` are strings of the logical
    date; ``logical_date``/``data_interval_start``/``data_interval_end`` the datetimes;
    ``params`` the resolved params; ``conf`` the run's conf (in Airflow ``conf`` is Airflow's
    own configuration; deras has none to show, and the run's conf is what a template wants);
    ``dag_run`` a :class:`TemplateDagRun`; ``ti``/``task_instance`` the task instance; ``dag``/``task``
    the ids; ``macros`` the helpers. The ``prev_*`` variables are not provided.

    >>> ctx = template_context(
    ...     logical_date=datetime(2025, 1, 2, 3, 4, 5), data_interval_start=datetime(2025, 1, 2),
    ...     data_interval_end=datetime(2025, 1, 3), run_id="r", dag_id="etl", task_id="b", params={})
    >>> ctx["ds_nodash"], ctx["ts"], ctx["ts_nodash"]
    ('20250102', '2025-01-02T03:04:05', '20250102T030405')
    """
    ts = logical_date.isoformat()
    run_conf = dict(conf or {})  # a copy: a task that edits its view must not change the run's
    return {
        "ds": logical_date.strftime("%Y-%m-%d"),
        "ds_nodash": logical_date.strftime("%Y%m%d"),
        "ts": ts,
        "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": ts.replace("-", "").replace(":", ""),
        "logical_date": logical_date,
        "data_interval_start": data_interval_start,
        "data_interval_end": data_interval_end,
        "params": params,
        "run_id": run_id,
        "dag_run": TemplateDagRun(
            dag_id=dag_id,
            run_id=run_id,
            logical_date=logical_date,
            conf=run_conf,
            data_interval_start=data_interval_start,
            data_interval_end=data_interval_end,
        ),
        "conf": run_conf,
        "ti": ti,
        "task_instance": ti,
        "dag": _DagId(dag_id),
        "task": _TaskId(task_id),
        "try_number": try_number,
        "map_index": map_index,
        "macros": macros,
        **_airflow_2_dates(logical_date, data_interval_end, dag_id, task_id),
    }


_OLD_NAMES: Final = frozenset(
    {
        "execution_date",
        "next_execution_date",
        "next_ds",
        "next_ds_nodash",
        "yesterday_ds",
        "yesterday_ds_nodash",
        "tomorrow_ds",
        "tomorrow_ds_nodash",
        "task_instance_key_str",
    }
)


def _airflow_2_dates(
    logical_date: datetime, data_interval_end: datetime, dag_id: str, task_id: str
) -> dict[str, Any]:
    """Airflow 2's older names (deprecated there, common in DAG files): ``execution_date`` is
    the logical date, ``next_*`` the end of the data interval, ``yesterday_ds``/``tomorrow_ds``
    a day either side of ``ds``."""
    day = timedelta(days=1)
    return {
        "execution_date": logical_date,
        "next_execution_date": data_interval_end,
        "next_ds": data_interval_end.strftime("%Y-%m-%d"),
        "next_ds_nodash": data_interval_end.strftime("%Y%m%d"),
        "yesterday_ds": (logical_date - day).strftime("%Y-%m-%d"),
        "yesterday_ds_nodash": (logical_date - day).strftime("%Y%m%d"),
        "tomorrow_ds": (logical_date + day).strftime("%Y-%m-%d"),
        "tomorrow_ds_nodash": (logical_date + day).strftime("%Y%m%d"),
        "task_instance_key_str": f"{dag_id}__{task_id}__{logical_date.strftime('%Y%m%d')}",
    }


def render_template(
    template: Any,
    context: Mapping[str, Any],
    *,
    where: str = "",
    filters: Mapping[str, Any] | None = None,
    native: bool = False,
) -> Any:
    """``template`` rendered with ``context``: strings through Jinja, lists/tuples/sets/dict values
    recursively, anything else returned as is.

    Undefined variables are errors (Jinja's ``StrictUndefined``), so ``{{ ds_nodahs }}`` fails
    with a message naming it, instead of rendering an empty string into a command. Templates
    render in Jinja's sandbox, as Airflow's do by default: DAG code is trusted anyway, but the
    sandbox keeps ``_private`` and dunder attributes out of reach and breaks no common use
    (attribute and method calls, filters, ``macros``). A trailing newline is kept, so rendering
    never changes a string that has no template markers in it.

    ``filters`` adds Jinja filters (a DAG's ``user_defined_filters``). With ``native`` (a DAG's
    ``render_template_as_native_obj``) a template that is one expression gives its value as is
    (``"{{ params.ids }}"`` a list, not its text), as Jinja's native environment does.

    >>> render_template({"cmd": ["echo", "{{ run_id }}"], "retries": 2}, {"run_id": "r1"})
    {'cmd': ['echo', 'r1'], 'retries': 2}
    """
    options = (native, *sorted((filters or {}).items()))
    return _render(template, context, where, options)


def _render(template: Any, context: Mapping[str, Any], where: str, filters: tuple[Any, ...]) -> Any:
    if isinstance(template, str):
        return _render_str(template, context, where, filters)
    if isinstance(template, list):
        return [_render(v, context, f"{where}[{i}]", filters) for i, v in enumerate(template)]
    if isinstance(template, tuple):
        items = [_render(v, context, f"{where}[{i}]", filters) for i, v in enumerate(template)]
        # A namedtuple keeps its type (it takes its fields as arguments, a tuple an iterable).
        return type(template)(*items) if hasattr(template, "_fields") else tuple(items)
    if isinstance(template, dict):
        # Keys are names, not templates (as in Airflow): only the values render.
        return {k: _render(v, context, f"{where}[{k!r}]", filters) for k, v in template.items()}
    if isinstance(template, (set, frozenset)):
        return type(template)(_render(v, context, where, filters) for v in template)
    return template


def _render_str(template: str, context: Mapping[str, Any], where: str, options: tuple[Any, ...]) -> Any:
    if not any(marker in template for marker in _JINJA_MARKERS):
        return template  # most strings are plain: skip Jinja (and its import) entirely
    from jinja2 import TemplateSyntaxError, Undefined, UndefinedError
    from jinja2.sandbox import SecurityError

    try:
        compiled = _compile(template, options)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error: {exc.message} {_excerpt(template, exc.lineno)}",
            where=where,
            template=template,
        ) from None  # Jinja's traceback points into its parser, not at anything the user wrote
    try:
        rendered = compiled.render(context)
        if isinstance(rendered, Undefined):  # a native render returns it instead of failing
            str(rendered)  # raises the error a text render would have raised
        return rendered
    except UndefinedError as exc:
        raise TemplateError(
            _undefined_message(str(exc.message), template, context), where=where, template=template
        ) from None
    except SecurityError as exc:
        raise TemplateError(
            f"{str(exc.message).rstrip('.')} {_excerpt(template)}: templates render in Jinja's "
            f"sandbox, which blocks attributes starting with '_'",
            where=where,
            template=template,
        ) from None
    except Exception as exc:
        raise TemplateError(
            f"rendering failed {_excerpt(template)}: {type(exc).__name__}: {exc}",
            where=where,
            template=template,
        ) from exc


@functools.lru_cache(maxsize=64)
def _environment(options: tuple[Any, ...] = (False,)) -> SandboxedEnvironment:
    """The sandboxed environment; ``options`` are (native, *filters)."""
    from jinja2 import StrictUndefined
    from jinja2.nativetypes import NativeCodeGenerator, NativeTemplate, native_concat
    from jinja2.sandbox import SandboxedEnvironment

    native, *filters = options
    environment_class = SandboxedEnvironment
    if native:

        class NativeSandboxedEnvironment(SandboxedEnvironment):
            code_generator_class = NativeCodeGenerator
            concat = staticmethod(native_concat)  # type: ignore[assignment]  # values, not text
            template_class = NativeTemplate

        environment_class = NativeSandboxedEnvironment
    env = environment_class(
        undefined=StrictUndefined, keep_trailing_newline=True, extensions=["jinja2.ext.do"]
    )
    # Airflow's date filters: ``{{ data_interval_end | ds }}``.
    env.filters.update(
        ds=lambda d: d.strftime("%Y-%m-%d"),
        ds_nodash=lambda d: d.strftime("%Y%m%d"),
        ts=lambda d: d.isoformat(),
        ts_nodash=lambda d: d.strftime("%Y%m%dT%H%M%S"),
        ts_nodash_with_tz=lambda d: d.isoformat().replace("-", "").replace(":", ""),
    )
    env.filters.update(filters)
    return env


@functools.lru_cache(maxsize=1024)
def _compile(source: str, options: tuple[Any, ...] = (False,)) -> Template:
    # A task renders the same few templates for every run and mapped instance: parse each once.
    return _environment(options).from_string(source)


_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")
_MISSING_ATTR = re.compile(r"has no attribute '([^']+)'$")


def _undefined_message(jinja_message: str, template: str, context: Mapping[str, Any]) -> str:
    """Jinja's message, plus the template and the closest known name."""
    message = f"{jinja_message} {_excerpt(template)}"
    if match := _UNDEFINED_NAME.match(jinja_message):
        close = difflib.get_close_matches(match[1], [str(k) for k in context], n=1)
        if close:
            return f"{message}. Did you mean {close[0]!r}?"
        listed = sorted(str(k) for k in context if k not in _OLD_NAMES)  # the old names add only noise
        return f"{message}. Template variables: {', '.join(listed)}"
    # ``{{ params.m }}`` reads "'dict object' has no attribute 'm'": say which params exist.
    params = context.get("params")
    if (match := _MISSING_ATTR.search(jinja_message)) and isinstance(params, Mapping):
        name = match[1]
        if re.search(rf"\bparams\s*(\.\s*{re.escape(name)}\b|\[\s*['\"]{re.escape(name)}['\"])", template):
            known = ", ".join(repr(str(k)) for k in params) or "none"
            close = difflib.get_close_matches(name, [str(k) for k in params], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            return f"there is no param {name!r} {_excerpt(template)}; the params are: {known}.{hint}"
    return message


def _excerpt(template: str, lineno: int | None = None) -> str:
    """Where in the template, for a message: the failing line of a multi-line one, else all of it."""
    if lineno is not None and "\n" in template:
        lines = template.splitlines()
        line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        return f"on line {lineno} of the template: {_clip(line.strip())!r}"
    return f"in template {_clip(template)!r}"


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
