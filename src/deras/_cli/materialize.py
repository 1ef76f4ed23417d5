"""``deras materialize``: run a selection of assets now, in this process."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from .._core.errors import ConfigError, DerasError
from .._core.records import RunTarget
from .._core.status import NodeStatus
from .._defs.executor_choice import choose_executor
from .._exec.event_writer import EventWriter
from .._exec.launch import execute_run
from .._graph.selection import resolve_selection
from .._instance.instance import DerasInstance
from .._plan.plan import RunPlan, plan_run
from .code import code_options, fail, load_code
from .executor_options import cli_executor, executor_options
from .json_stdout import reserve_stdout_for_json
from .progress import node_progress


def run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What every command that runs assets takes: code, executor, partitions, tags, output."""
    for option in reversed(
        [
            code_options,
            executor_options,
            click.option("--partition", "partition", default=None, help="Partition key to materialize."),
            click.option(
                "--partition-range",
                "partition_range",
                default=None,
                help="FIRST...LAST: every partition in the range (one run, or one per partition).",
            ),
            click.option("--tag", "tags", multiple=True, help="Run tag KEY=VALUE (repeatable)."),
            click.option(
                "--config",
                "config_file",
                default=None,
                type=click.Path(dir_okay=False),
                help="Run config YAML ({ops: {NAME: {config: {...}}}}), over the job's own config.",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print {run_id, status} as JSON."),
            click.option("--no-progress", is_flag=True, help="Do not draw the progress bar."),
        ]
    ):
        fn = option(fn)
    return fn


@click.command("materialize")
@run_options
@click.option(
    "--select", "selection", default=None, help="Selection string, e.g. 'group:prices' or '+report'."
)
@click.option("--job", "job_name", default=None, help="Run the assets of this job.")
def materialize_command(
    file: str | None,
    module: str | None,
    selection: str | None,
    job_name: str | None,
    partition: str | None,
    partition_range: str | None,
    tags: tuple[str, ...],
    config_file: str | None,
    as_json: bool,
    no_progress: bool,
) -> None:
    """Materialize assets (and run their checks); exit 1 if the run fails."""
    materialize_now(
        file, module, selection, job_name, partition, partition_range, tags, as_json, no_progress, config_file
    )


@click.group("job")
def job_group() -> None:
    """Jobs: asset jobs (define_asset_job) and op jobs (@job, graph.to_job)."""


@job_group.command("run")
@click.argument("name")
@run_options
def run_job(
    name: str,
    file: str | None,
    module: str | None,
    partition: str | None,
    partition_range: str | None,
    tags: tuple[str, ...],
    config_file: str | None,
    as_json: bool,
    no_progress: bool,
) -> None:
    """Run job NAME (assets or ops) now (as `materialize --job NAME`); exit 1 if the run fails."""
    materialize_now(
        file, module, None, name, partition, partition_range, tags, as_json, no_progress, config_file
    )


def materialize_now(
    file: str | None,
    module: str | None,
    selection: str | None,
    job_name: str | None,
    partition: str | None,
    partition_range: str | None,
    tags: tuple[str, ...],
    as_json: bool,
    no_progress: bool,
    config_file: str | None = None,
) -> None:
    json_out = reserve_stdout_for_json() if as_json else None
    loaded = load_code(file, module)
    defs = loaded.definitions
    instance = DerasInstance.get()
    run_tags = dict(_parse_tag(t) for t in tags)
    job = defs.get_job(job_name) if job_name else None
    run_config = _run_config(config_file, job)
    try:
        executor = choose_executor(
            cli_executor(), getattr(job, "executor", None), defs.executor, instance=instance
        )
    except DerasError as err:
        fail(str(err))
        return
    if job is not None:
        node_ids: Any = set(job.node_ids)
        if selection:  # a selection narrows the job, it never reaches outside it
            node_ids &= resolve_selection(defs.asset_graph, selection)
        selection_arg: Any = None
        run_tags = {**job.tags, **run_tags}
    else:
        selection_arg, node_ids = selection, None
    try:
        base = plan_run(
            defs.asset_graph,
            selection_arg,
            node_ids=node_ids,
            partition_key=partition,
            dynamic_partitions_store=instance.dynamic_partitions_store,
            **(
                {"partition_keys": _range_keys(defs, selection_arg, node_ids, partition_range, instance)}
                if partition_range
                else {}
            ),
        )
    except DerasError as err:
        fail(str(err))
        return
    plans = _split_by_policy(base)
    target = f"job:{job_name}" if job_name else f"assets:{selection or '*'}"
    show = not (as_json or no_progress) and sys.stderr.isatty()
    run = functools.partial(
        execute_run,
        instance,
        resources=defs.resources,
        target=RunTarget.job(job_name) if job_name else RunTarget.assets(),
        label=target,
        tags=run_tags,
        run_config=run_config,
        code_location=loaded.location,
        executor=executor,
    )
    try:
        if len(plans) == 1:
            plan = plans[0]
            part = plan.partition_key or "…".join(plan.partition_range or ())
            with node_progress(len(plan.node_ids), f"{target} {part}".strip(), show) as on_done:
                results = [run(plan, on_node_done=on_done)]
        else:
            results = _run_many(
                run, plans, instance, f"{target} {base.partition_keys[0]}…{base.partition_keys[-1]}", show
            )
    except ConfigError as err:  # checked before the run starts: nothing ran
        fail(str(err))
        return
    if as_json:
        payload = [_result_json(r, p) for r, p in zip(results, plans, strict=True)]
        click.echo(json.dumps(payload[0] if len(payload) == 1 else payload), file=json_out)
    else:
        for result, plan in zip(results, plans, strict=True):
            _print_result(result, plan)
    if any(not r.success for r in results):
        sys.exit(1)


def _result_json(result: Any, plan: RunPlan) -> dict[str, Any]:
    """``{run_id, status}``, and which partition(s) the run was for."""
    data: dict[str, Any] = {"run_id": result.run_id, "status": str(result.status)}
    if plan.partition_key is not None:
        data["partition_key"] = plan.partition_key
    elif plan.partition_range is not None:
        data["partition_range"] = list(plan.partition_range)
    return data


def _run_many(run: Any, plans: list[RunPlan], instance: Any, label: str, show: bool) -> list[Any]:
    """Consecutive runs (one per partition or chunk) share one event writer: few transactions."""
    writer = EventWriter(instance.store)
    results = []
    try:
        with node_progress(len(plans), label, show) as on_done:
            for plan in plans:
                result = run(plan, writer=writer)
                results.append(result)
                if on_done is not None:
                    on_done(
                        plan.partition_key or "…".join(plan.partition_range or ()),
                        NodeStatus.SUCCESS if result.success else NodeStatus.FAILED,
                    )
    finally:
        writer.close()
    return results


def _print_result(result: Any, plan: RunPlan) -> None:
    part = plan.partition_key or "…".join(plan.partition_range or ())
    click.echo(f"run {result.run_id} {result.status}" + (f" ({part})" if part else ""))
    for event in result.failure_events():
        click.echo(f"  ✗ {event.node}: {event.data.get('error')}", err=True)
    not_run = ((NodeStatus.UPSTREAM_FAILED, "not run (upstream failed)"), (NodeStatus.SKIPPED, "skipped"))
    for status, label in not_run:
        nodes = [n for n, s in result.node_statuses.items() if s == status]
        if nodes:
            more = f" and {len(nodes) - 10} more" if len(nodes) > 10 else ""
            click.echo(f"  {label}: {', '.join(nodes[:10])}{more}", err=True)


def _range_keys(defs: Any, selection: Any, node_ids: Any, text: str, instance: Any) -> list[str]:
    if "..." not in text:
        fail(f"--partition-range {text!r}: expected FIRST...LAST")
    first, last = text.split("...", 1)
    probe = plan_run(
        defs.asset_graph,
        selection,
        node_ids=node_ids,
        partition_key=first,
        dynamic_partitions_store=instance.dynamic_partitions_store,
    )
    keys: list[str] = probe.partitions_def.get_partition_keys_in_range(first, last)
    return keys


def _split_by_policy(plan: RunPlan) -> list[RunPlan]:
    """Runs of at most the smallest ``max_partitions_per_run`` of the partitioned nodes.

    No policy means one partition per run; ``BackfillPolicy.single_run()`` everywhere means
    one run for the whole range.
    """
    if len(plan.partition_keys) <= 1:
        return [plan]
    sizes = []
    for nid in plan.node_ids:
        node = plan.graph.nodes[nid]
        if node.partitions_def is None or node.check is not None:
            continue
        policy = node.backfill_policy
        sizes.append(1 if policy is None else (policy.max_partitions_per_run or len(plan.partition_keys)))
    size = min(sizes, default=1)
    keys = plan.partition_keys
    return [plan.with_partitions(keys[i : i + size]) for i in range(0, len(keys), size)]


def _run_config(config_file: str | None, job: Any) -> dict[str, Any]:
    """The file's run config over the job's own (``define_asset_job(config=)``, ``to_job(config=)``)."""
    from .._defs.run_config import merge_run_config, normalize_run_config

    given: Any = {}
    if config_file is not None:
        import yaml

        try:
            with open(config_file, encoding="utf-8") as f:
                given = yaml.safe_load(f) or {}
        except OSError as err:
            fail(f"--config {config_file}: {err.strerror or err}")
        except yaml.YAMLError as err:
            fail(f"--config {config_file}: not valid YAML: {err}")
        if not isinstance(given, dict):
            fail(f"--config {config_file}: a run config is a mapping like {{ops: {{NAME: {{config: ...}}}}}}")
    try:
        return merge_run_config(getattr(job, "config", None), normalize_run_config(given))
    except ConfigError as err:
        fail(str(err))
        return {}


def _parse_tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        fail(f"--tag {text!r}: expected KEY=VALUE")
    return key, value
