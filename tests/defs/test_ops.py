"""Ops, graphs and op jobs (Dagster's API) running on deras's engine."""

from __future__ import annotations

from typing import Any

import pytest

import deras as dg
from deras._core.events import EventType


@dg.op
def one() -> int:
    return 1


@dg.op
def plus_one(x: int) -> int:
    return x + 1


@dg.op(out={"small": dg.Out(), "big": dg.Out()})
def split(x: int) -> tuple[int, int]:
    return x, x * 100


@dg.op
def add(a: int, b: int) -> int:
    return a + b


def test_job_passes_values_between_ops() -> None:
    @dg.job
    def chain():
        plus_one(plus_one(one()))

    result = chain.execute_in_process()
    assert result.success
    assert result.output_for_node("one") == 1
    assert result.output_for_node("plus_one_2") == 3  # a second call of an op gets a new name


def test_multiple_outputs_from_a_tuple_unpack_in_the_graph() -> None:
    @dg.job
    def fan():
        small, big = split(one())
        add(small, big)

    result = fan.execute_in_process()
    assert result.output_for_node("split", "big") == 100
    assert result.output_for_node("add") == 101


def test_yielded_outputs_by_name() -> None:
    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def gen():
        yield dg.Output(2, output_name="b")
        yield dg.Output(1, output_name="a")

    @dg.job
    def job_gen():
        outs = gen()
        add(outs.a, outs.b)

    assert job_gen.execute_in_process().output_for_node("add") == 3


def test_nothing_input_orders_without_passing_a_value() -> None:
    seen: list[str] = []

    @dg.op(out=dg.Out(dg.Nothing))
    def first() -> None:
        seen.append("first")

    @dg.op(ins={"after": dg.In(dg.Nothing)})
    def second() -> str:
        seen.append("second")
        return "ok"

    @dg.job
    def ordered():
        second(after=first())

    result = ordered.execute_in_process()
    assert result.success and seen == ["first", "second"]
    assert result.output_for_node("second") == "ok"


def test_fan_in_list_of_outputs() -> None:
    @dg.op
    def total(values: list[int]) -> int:
        return sum(values)

    @dg.job
    def fan_in():
        total([one(), plus_one(one()), one.alias("uno")()])

    assert fan_in.execute_in_process().output_for_node("total") == 4


def test_graph_to_job_with_nested_graph() -> None:
    @dg.graph
    def inner(x):
        return plus_one(x)

    @dg.graph
    def outer():
        plus_one(inner(one()))

    job = outer.to_job(name="outer_job")
    result = job.execute_in_process()
    assert job.name == "outer_job"
    assert result.output_for_node("inner.plus_one") == 2
    assert result.output_for_node("plus_one") == 3


def test_context_logs_into_the_run_and_knows_the_run() -> None:
    @dg.op
    def talk(context: dg.OpExecutionContext) -> str:
        context.log.info("hello from %s", context.op_name)
        return context.run_id

    @dg.job
    def talking():
        talk()

    result = talking.execute_in_process()
    assert result.output_for_node("talk") == result.run_id
    logs = [e.message for e in result.all_events if e.event_type == EventType.LOG]
    assert "hello from talk" in logs


class Greeter(dg.ConfigurableResource):
    word: str


def test_resources_by_required_keys_and_by_annotation() -> None:
    @dg.op(required_resource_keys={"prefix"})
    def via_context(context: dg.OpExecutionContext) -> str:
        return context.resources.prefix + "!"

    @dg.op
    def via_param(greeter: Greeter, text: str) -> str:
        return f"{greeter.word} {text}"

    @dg.job(resource_defs={"prefix": "hi", "greeter": Greeter(word="hello")})
    def greeting():
        via_param(via_context())

    assert greeting.execute_in_process().output_for_node("via_param") == "hello hi!"
    overridden = greeting.execute_in_process(resources={"prefix": "yo"})
    assert overridden.output_for_node("via_param") == "hello yo!"


def test_missing_resource_is_a_definition_error_naming_op_and_key() -> None:
    @dg.op(required_resource_keys={"db"})
    def needs_db() -> None: ...

    @dg.job
    def no_db():
        needs_db()

    with pytest.raises(dg.DefinitionError, match="op 'needs_db' of job 'no_db' needs resource 'db'"):
        no_db.execute_in_process()
    with pytest.raises(dg.DefinitionError, match="needs resource 'db'"):
        dg.Definitions(jobs=[no_db])


def test_op_retries_by_its_retry_policy() -> None:
    attempts: list[int] = []

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky(context: dg.OpExecutionContext) -> int:
        attempts.append(context.retry_number)
        if context.retry_number < 2:
            raise RuntimeError("not yet")
        return 7

    @dg.job
    def retrying():
        flaky()

    result = retrying.execute_in_process()
    assert result.success and attempts == [0, 1, 2]
    assert sum(e.event_type == EventType.STEP_RETRY for e in result.all_events) == 2


def test_failed_op_raises_or_reports_and_skips_downstream() -> None:
    @dg.op
    def boom() -> int:
        raise ValueError("bad input")

    @dg.job
    def failing():
        plus_one(boom())

    with pytest.raises(dg.RunFailedError, match="bad input"):
        failing.execute_in_process()
    result = failing.execute_in_process(raise_on_error=False)
    assert not result.success
    assert result.node_statuses["failing.plus_one"] == dg.NodeStatus.UPSTREAM_FAILED


def test_optional_output_not_yielded_skips_downstream() -> None:
    @dg.op(out={"maybe": dg.Out(is_required=False), "always": dg.Out()})
    def sometimes():
        yield dg.Output(1, output_name="always")

    @dg.job
    def optional():
        maybe, always = sometimes()
        plus_one(maybe)
        plus_one.alias("other")(always)

    result = optional.execute_in_process()
    assert result.success
    assert result.node_statuses["optional.plus_one"] == dg.NodeStatus.SKIPPED
    assert result.output_for_node("other") == 2


def test_dagster_type_check_failing_on_output_fails_the_step() -> None:
    positive = dg.DagsterType(name="Positive", type_check_fn=lambda _, v: isinstance(v, int) and v > 0)

    @dg.op(out=dg.Out(positive))
    def negative() -> int:
        return -3

    @dg.job
    def checked():
        negative()

    result = checked.execute_in_process(raise_on_error=False)
    assert not result.success
    error = result.failure_events()[0].data["error"]
    assert "op 'negative' output 'result' failed the type check of 'Positive'" in error


def test_dagster_type_check_on_input_with_description() -> None:
    even = dg.DagsterType(
        name="Even", type_check_fn=lambda _, v: dg.TypeCheck(v % 2 == 0, description=f"{v} is odd")
    )

    @dg.op(ins={"x": dg.In(even)})
    def halve(x: int) -> int:
        return x // 2

    @dg.job
    def halving():
        halve(one())

    result = halving.execute_in_process(raise_on_error=False)
    assert (
        "op 'halve' input 'x' failed the type check of 'Even' (value 1): 1 is odd"
        in (result.failure_events()[0].data["error"])
    )


def test_a_wrongly_wired_graph_is_a_definition_error() -> None:
    with pytest.raises(dg.DefinitionError, match="input 'x' is not connected"):

        @dg.job
        def unconnected():
            plus_one()

    with pytest.raises(dg.DefinitionError, match="pass the outputs of other ops"):

        @dg.job
        def constant():
            plus_one(5)

    with pytest.raises(dg.DefinitionError, match="has no parameter 'y'"):

        @dg.op(ins={"y": dg.In()})
        def no_y(x: int) -> int:
            return x


def test_calling_an_op_directly_calls_its_function() -> None:
    @dg.op
    def greet(context: dg.OpExecutionContext, name: str) -> str:
        return f"{context.resources.greeting} {name}"

    assert plus_one(1) == 2
    assert greet(dg.build_op_context(resources={"greeting": "hi"}), "ana") == "hi ana"
    with pytest.raises(TypeError, match="build_op_context"):
        greet("ana")


def test_op_job_in_definitions_runs_by_job_name_and_not_in_asset_selections() -> None:
    @dg.asset
    def numbers() -> list[int]:
        return [1, 2]

    @dg.job
    def ops_job():
        plus_one(one())

    defs = dg.Definitions(assets=[numbers], jobs=[ops_job])
    assert defs.get_job("ops_job") is ops_job
    assert ops_job.node_ids == {"ops_job.one", "ops_job.plus_one"}
    from deras._graph.selection import resolve_selection

    assert resolve_selection(defs.asset_graph, "*") == {"numbers"}
    with pytest.raises(dg.SelectionError, match="names an op of a job"):
        resolve_selection(defs.asset_graph, "ops_job.one")


def test_op_job_runs_in_a_stored_instance_and_reexecutes_from_failure(instance: Any) -> None:
    state = {"fail": True}

    @dg.op
    def maybe_fail(x: int) -> int:
        if state["fail"]:
            raise RuntimeError("first time")
        return x * 10

    @dg.job
    def resumable():
        maybe_fail(one())

    defs = dg.Definitions(jobs=[resumable])
    failed = resumable.execute_in_process(instance=instance, raise_on_error=False)
    assert not failed.success
    assert instance.get_run(failed.run_id).job_name == "resumable"
    state["fail"] = False
    again = instance.reexecute(failed.run_id, definitions=defs)
    assert again.success
    assert [e.node for e in again.events if e.event_type == EventType.STEP_START] == ["resumable.maybe_fail"]
    assert again.output_for_node("maybe_fail") == 10  # its input came from the parent run


def test_unconnected_input_with_a_default_value_gets_it() -> None:
    @dg.op(ins={"step": dg.In(default_value=5)})
    def bump(x: int, step: int) -> int:
        return x + step

    @dg.job
    def bumping():
        bump(one())

    assert bumping.execute_in_process().output_for_node("bump") == 6


def test_op_selection_runs_only_the_named_ops() -> None:
    @dg.job
    def partial():
        plus_one(one())
        one.alias("other")()

    result = partial.execute_in_process(op_selection=["other"])
    assert set(result.node_statuses) == {"partial.other"}
    with pytest.raises(dg.DefinitionError, match=r"op_selection names \['nope'\]"):
        partial.execute_in_process(op_selection=["nope"])


def test_output_for_node_names_the_ops_it_knows() -> None:
    @dg.job
    def single():
        one()

    result = single.execute_in_process()
    with pytest.raises(KeyError, match="no op 'two'"):
        result.output_for_node("two")
    with pytest.raises(KeyError, match="has no output 'other'"):
        result.output_for_node("one", "other")


def test_definitions_give_the_job_back_by_dagster_name() -> None:
    @dg.job
    def deployed():
        one()

    defs = dg.Definitions(jobs=[deployed])
    assert defs.get_job_def("deployed").execute_in_process().output_for_node("one") == 1


def test_retry_requested_by_the_op_runs_it_again_up_to_its_count() -> None:
    attempts: list[int] = []

    @dg.op
    def polling(context: dg.OpExecutionContext) -> int:
        attempts.append(context.retry_number)
        if context.retry_number < 2:
            raise dg.RetryRequested(max_retries=2, seconds_to_wait=0)
        return context.retry_number

    @dg.op
    def never_ready() -> None:
        raise dg.RetryRequested(max_retries=1)

    @dg.job
    def polls():
        polling()

    @dg.job
    def gives_up():
        never_ready()

    assert polls.execute_in_process().output_for_node("polling") == 2 and attempts == [0, 1, 2]
    failed = gives_up.execute_in_process(raise_on_error=False)
    starts = [e for e in failed.all_events if e.event_type == EventType.STEP_START]
    assert not failed.success and len(starts) == 2


def test_a_value_not_matching_the_return_annotation_fails_the_op() -> None:
    @dg.op
    def liar() -> int:
        return "five"  # type: ignore[return-value]

    @dg.job
    def lying():
        liar()

    error = lying.execute_in_process(raise_on_error=False).failure_events()[0].data["error"]
    assert "op 'liar' returned str, but its return annotation is int" in error


def test_the_loader_finds_module_level_op_jobs(write_code: Any) -> None:
    loaded = write_code(
        """
        import deras as dg

        @dg.op
        def hello() -> str:
            return "hi"

        @dg.job
        def greeting():
            hello()
        """
    )
    assert loaded.definitions.get_job("greeting").node_ids == {"greeting.hello"}
