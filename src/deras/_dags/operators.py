"""The built-in operators: Python callables, bash commands, and no-ops."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._core.errors import DerasError
from .operator import BaseOperator


class EmptyOperator(BaseOperator):
    """A task that does nothing: a join point or a placeholder."""

    def execute(self, context: dict[str, Any]) -> Any:
        return None


class PythonOperator(BaseOperator):
    """Call ``python_callable(*op_args, **op_kwargs)``; its return value is the task's XCom.

    The callable also receives the context values it names (``ti``, ``ds``, ``params``,
    ``logical_date``...) or all of them with ``**context``.
    """

    template_fields = ("op_args", "op_kwargs", "templates_dict")

    def __init__(
        self,
        *,
        task_id: str,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: Mapping[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ) -> None:
        if not callable(python_callable):
            raise DerasError(f"PythonOperator '{task_id}': python_callable must be callable")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = dict(templates_dict) if templates_dict is not None else None
        # Airflow's: template files by extension, and logging the return value; kept, not acted on.
        self.templates_exts = templates_exts
        self.show_return_value_in_logs = show_return_value_in_logs
        super().__init__(task_id=task_id, **kwargs)

    def execute(self, context: dict[str, Any]) -> Any:
        if self.templates_dict is not None:
            context = {**context, "templates_dict": self.templates_dict}
        wanted = context_kwargs(self.python_callable, context, self.op_kwargs, positional=len(self.op_args))
        kwargs = {**wanted, **self.op_kwargs}
        return self.python_callable(*self.op_args, **kwargs)


class BranchPythonOperator(PythonOperator):
    """A Python task returning the task id (or ids) to follow; other direct downstream tasks skip."""

    is_branch = True


class ShortCircuitOperator(PythonOperator):
    """A Python task whose falsy result skips what comes after it; a truthy one lets it run.

    With ``ignore_downstream_trigger_rules=True`` (the default) every task downstream of it
    is skipped, whatever its trigger rule; with ``False`` only its direct downstream tasks are,
    and the tasks after those follow their trigger rules.

    >>> # gate = dg.ShortCircuitOperator(task_id="gate", python_callable=lambda: is_weekday())
    """

    is_short_circuit = True

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules
        super().__init__(**kwargs)


class BashOperator(BaseOperator):
    """Run a bash command (Jinja-templated: ``{{ ds }}``, ``{{ params.n }}``...).

    Its output goes to the task's log; a non-zero exit fails the task; the last line of
    stdout is the task's XCom. An ``execution_timeout`` kills the command's process group.
    """

    template_fields = ("bash_command", "env", "cwd")

    def __init__(
        self,
        *,
        task_id: str,
        bash_command: str,
        env: Mapping[str, str] | None = None,
        append_env: bool = False,
        cwd: str | None = None,
        skip_on_exit_code: int | Sequence[int] | None = 99,
        output_encoding: str = "utf-8",
        **kwargs: Any,
    ) -> None:
        self.bash_command = bash_command
        self.output_encoding = output_encoding  # Airflow's; the output is read as the locale's text
        self.env = dict(env) if env is not None else None
        self.append_env = append_env
        self.cwd = cwd
        self.skip_on_exit_code = skip_codes(skip_on_exit_code)
        super().__init__(task_id=task_id, **kwargs)

    def execute(self, context: dict[str, Any]) -> Any:
        return run_bash(self.bash_command, self.env, self.append_env, self.cwd, self.skip_on_exit_code)


def skip_codes(codes: int | Sequence[int] | None) -> tuple[int, ...]:
    return () if codes is None else ((codes,) if isinstance(codes, int) else tuple(codes))


def run_bash(
    command: str,
    env: Mapping[str, str] | None,
    append_env: bool,
    cwd: str | None,
    skip_on_exit_code: Sequence[int],
) -> str | None:
    """Run ``command`` with bash, echoing its output; its last stdout line is the result.

    An exit code in ``skip_on_exit_code`` skips the task; any other non-zero one fails it.
    """
    from .._core.errors import SkipTask

    full_env = None
    if env is not None:
        full_env = {**os.environ, **env} if append_env else dict(env)
    proc = subprocess.Popen(
        ["bash", "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
        cwd=cwd,
        start_new_session=True,  # its own process group, so a timeout can kill all of it
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            print(line, end="")
        code = proc.wait()
    except BaseException:
        _kill_group(proc)
        raise
    if code in skip_on_exit_code:
        raise SkipTask(f"bash command exited with {code}")
    if code != 0:
        tail = "\n".join(lines[-20:])
        raise DerasError(
            f"bash command failed with exit code {code}" + (f"; last output:\n{tail}" if tail else "")
        )
    return lines[-1] if lines else None


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def context_kwargs(
    fn: Callable[..., Any], context: Mapping[str, Any], given: Mapping[str, Any], *, positional: int = 0
) -> dict[str, Any]:
    """The context values ``fn`` asks for: all with ``**kwargs``, else those it names.

    The first ``positional`` parameters are filled by positional arguments, not the context.
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return {}
    names = code.co_varnames[positional : code.co_argcount + code.co_kwonlyargcount]
    if code.co_flags & 0x08:  # CO_VARKEYWORDS
        taken = set(code.co_varnames[:positional])
        return {k: v for k, v in context.items() if k not in given and k not in taken}
    return {n: context[n] for n in names if n in context and n not in given}
