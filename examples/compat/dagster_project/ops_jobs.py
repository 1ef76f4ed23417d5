"""Ops, graphs and jobs with typed config; a schedule and a sensor that launch the jobs."""

import dagster as dg


class ScaleConfig(dg.Config):
    factor: int = 2
    label: str = "scaled"


@dg.op
def numbers() -> list[int]:
    return [1, 2, 3, 4]


@dg.op
def scale(context: dg.OpExecutionContext, config: ScaleConfig, values: list[int]) -> list[int]:
    context.log.info("scaling by %d", config.factor)
    return [v * config.factor for v in values]


@dg.op(out={"total": dg.Out(int), "count": dg.Out(int)})
def summarize(values: list[int]):
    return sum(values), len(values)


@dg.op
def report(total: int, count: int) -> str:
    return f"{count} values, total {total}"


@dg.graph
def scaling():
    total, count = summarize(scale(numbers()))
    return report(total, count)


scaling_job = scaling.to_job(
    name="scaling_job",
    config=dg.RunConfig(ops={"scale": ScaleConfig(factor=3)}),
)


@dg.job
def doubling_job():
    summarize(scale(numbers()))


nightly = dg.ScheduleDefinition(
    job=doubling_job,
    cron_schedule="0 2 * * *",
    run_config={"ops": {"scale": {"config": {"factor": 10}}}},
)


@dg.sensor(job=scaling_job, minimum_interval_seconds=30)
def on_request(context: dg.SensorEvaluationContext):
    yield dg.RunRequest(
        run_key="first",
        run_config=dg.RunConfig(ops={"scale": ScaleConfig(factor=5, label="from sensor")}),
    )
