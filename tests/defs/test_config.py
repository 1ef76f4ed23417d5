"""``dg.Config`` and run config: typed config on ops and assets, checked before a run starts."""

from __future__ import annotations

from typing import Any

import pytest

import deras as dg


class Scale(dg.Config):
    factor: int
    label: str = "x"


@dg.op
def base() -> int:
    return 10


@dg.op
def scaled(context: dg.OpExecutionContext, config: Scale, x: int) -> str:
    context.log.info("op_config %s", sorted(context.op_config.items()))
    return f"{config.label}{x * config.factor}"


@dg.job
def scaling():
    scaled(base())


@dg.asset
def sized(config: Scale) -> list[str]:
    return [config.label] * config.factor


def test_run_config_object_and_dict_form_configure_an_op() -> None:
    by_object = scaling.execute_in_process(run_config=dg.RunConfig(ops={"scaled": Scale(factor=3)}))
    by_dict = scaling.execute_in_process(
        run_config={"ops": {"scaled": {"config": {"factor": 2, "label": "y"}}}}
    )
    assert by_object.output_for_node("scaled") == "x30"
    assert by_dict.output_for_node("scaled") == "y20"
    logs = [e.message for e in by_object.all_events if (e.message or "").startswith("op_config")]
    assert logs == ["op_config [('factor', 3), ('label', 'x')]"]  # validated, defaults filled in


def test_run_config_is_recorded_in_its_dict_form() -> None:
    result = scaling.execute_in_process(run_config=dg.RunConfig(ops={"scaled": Scale(factor=3)}))
    assert result.run.run_config == {"ops": {"scaled": {"config": {"factor": 3, "label": "x"}}}}


def test_config_on_an_asset_through_materialize() -> None:
    result = dg.materialize([sized], run_config=dg.RunConfig(ops={"sized": Scale(factor=2, label="a")}))
    assert result.asset_value("sized") == ["a", "a"]


def test_an_asset_context_has_its_op_config() -> None:
    @dg.asset(key_prefix="raw")
    def seen(context: dg.AssetExecutionContext, config: Scale) -> dict[str, Any] | None:
        return context.op_config

    result = dg.materialize([seen], run_config={"ops": {"raw__seen": {"config": {"factor": 4}}}})
    assert result.asset_value("raw/seen") == {"factor": 4, "label": "x"}


def test_job_config_is_the_default_under_the_run_config() -> None:
    job = scaling.graph_def.to_job(
        name="scaling_default", config={"ops": {"scaled": {"config": {"factor": 5}}}}
    )
    assert job.execute_in_process().output_for_node("scaled") == "x50"
    over = job.execute_in_process(run_config={"ops": {"scaled": {"config": {"label": "z"}}}})
    assert over.output_for_node("scaled") == "z50"


def test_define_asset_job_config_normalizes_run_config_objects() -> None:
    job = dg.define_asset_job(
        "sized_job", selection="sized", config=dg.RunConfig(ops={"sized": Scale(factor=1)})
    )
    assert job.config == {"ops": {"sized": {"config": {"factor": 1, "label": "x"}}}}


@pytest.mark.parametrize(
    ("run_config", "message"),
    [
        ({}, "op 'scaled': config: missing required field 'factor'"),
        (
            {"ops": {"scaled": {"config": {"factor": "many"}}}},
            "op 'scaled': config: field 'factor': Input should be",
        ),
        (
            {"ops": {"scaled": {"config": {"factor": 1, "colour": "red"}}}},
            "unknown field 'colour' (fields: factor, label)",
        ),
        (
            {"ops": {"scaled": {"config": {"factor": 1}}, "scaledd": {"config": {}}}},
            "names op 'scaledd', but there is no op or asset of that name (ops: ['base', 'scaled']). "
            "Did you mean 'scaled'?",
        ),
        (
            {"ops": {"scaled": {"config": {"factor": 1}}, "base": {"config": {"n": 1}}}},
            "op 'base' takes no config",
        ),
    ],
)
def test_invalid_run_config_raises_before_anything_runs(run_config: dict[str, Any], message: str) -> None:
    instance = dg.DerasInstance.ephemeral()
    with pytest.raises(dg.ConfigError, match="invalid run config") as err:
        scaling.execute_in_process(run_config=run_config, instance=instance)
    assert message in str(err.value)
    assert instance.get_runs() == []  # no run was recorded


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(dg.ConfigError) as err:
        scaling.execute_in_process(run_config={"ops": {"nope": {}}})
    assert "names op 'nope'" in str(err.value) and "missing required field 'factor'" in str(err.value)


def test_asset_config_errors_name_the_asset() -> None:
    with pytest.raises(dg.ConfigError, match="asset 'sized': config: missing required field 'factor'"):
        dg.materialize([sized])


def test_run_config_without_ops_passes_through_for_context_run_config() -> None:
    @dg.asset
    def reads(context: dg.AssetExecutionContext) -> int:
        return int(context.run_config["n"])

    assert dg.materialize([reads], run_config={"n": 4}).asset_value("reads") == 4


def test_config_schema_dict_and_op_config() -> None:
    @dg.op(config_schema={"rows": int})
    def limited(context: dg.OpExecutionContext) -> int:
        return context.op_config["rows"]

    @dg.job
    def limiting():
        limited()

    assert (
        limiting.execute_in_process(run_config={"ops": {"limited": {"config": {"rows": 7}}}}).output_for_node(
            "limited"
        )
        == 7
    )
    with pytest.raises(dg.ConfigError, match="op 'limited': config: missing required field 'rows'"):
        limiting.execute_in_process()


def test_nested_graph_ops_are_configured_under_their_graph() -> None:
    @dg.graph
    def inner(x):
        return scaled(x)

    @dg.job
    def nesting():
        inner(base())

    config = {"ops": {"inner": {"ops": {"scaled": {"config": {"factor": 2}}}}}}
    assert nesting.execute_in_process(run_config=config).output_for_node("inner.scaled") == "x20"


def test_build_op_context_gives_config_to_a_direct_call() -> None:
    assert scaled(dg.build_op_context(op_config={"factor": 4}), 2) == "x8"
    assert scaled(dg.build_op_context(config=Scale(factor=2, label="q")), 1) == "q2"
    with pytest.raises(TypeError, match="not both"):
        dg.build_op_context(op_config={}, config={})


def test_config_object_with_a_bad_value_is_a_config_error() -> None:
    with pytest.raises(dg.ConfigError, match="Scale: field 'factor'"):
        Scale(factor="lots")


def test_config_param_without_config_annotation_is_a_definition_error() -> None:
    with pytest.raises(dg.DefinitionError, match="parameter 'config' has no dg\\.Config annotation"):

        @dg.op
        def untyped(config) -> None: ...


def test_schedule_and_run_request_accept_run_config_objects() -> None:
    request = dg.RunRequest(run_config=dg.RunConfig(ops={"scaled": Scale(factor=1)}))
    assert request.run_config == {"ops": {"scaled": {"config": {"factor": 1, "label": "x"}}}}
    schedule = dg.ScheduleDefinition(
        job=scaling, cron_schedule="@daily", run_config=dg.RunConfig(ops={"scaled": Scale(factor=2)})
    )
    assert schedule.run_config == {"ops": {"scaled": {"config": {"factor": 2, "label": "x"}}}}


def test_reexecution_from_failure_keeps_the_config_of_steps_it_does_not_rerun(instance: Any) -> None:
    state = {"fail": True}

    @dg.op
    def flaky(x: str) -> str:
        if state["fail"]:
            raise RuntimeError("once")
        return x + "!"

    @dg.job
    def configured():
        flaky(scaled(base()))

    failed = configured.execute_in_process(
        run_config={"ops": {"scaled": {"config": {"factor": 2}}}}, instance=instance, raise_on_error=False
    )
    state["fail"] = False
    again = instance.reexecute(failed.run_id, definitions=dg.Definitions(jobs=[configured]))
    assert again.success and again.output_for_node("flaky") == "x20!"
    assert again.run.run_config == {"ops": {"scaled": {"config": {"factor": 2}}}}
