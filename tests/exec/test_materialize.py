"""Running assets in process: values, checks, failures, retries, timeouts, logs."""

from __future__ import annotations

import time

import pytest

import deras as dg


def test_values_flow_downstream_by_parameter_name() -> None:
    @dg.asset
    def one() -> int:
        return 1

    @dg.asset
    def two(one: int) -> int:
        return one + 1

    result = dg.materialize([one, two])
    assert result.success
    assert result.asset_value("two") == 2


def test_blocking_check_skips_downstream_and_fails_run() -> None:
    @dg.asset
    def source() -> list[int]:
        return [3, 0]

    @dg.asset
    def table(source: list[int]) -> int:
        return len(source)

    @dg.asset
    def report(table: int) -> int:
        return table

    @dg.asset_check(asset=source, blocking=True)
    def no_zero(source: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=0 not in source, metadata={"zeros": source.count(0)})

    result = dg.materialize([source, table, report, no_zero])
    assert not result.success
    statuses = result.node_statuses
    assert statuses["source"] == dg.NodeStatus.SUCCESS
    assert statuses["table"] == dg.NodeStatus.SKIPPED
    assert statuses["report"] == dg.NodeStatus.SKIPPED
    skipped = [e for e in result.events if e.event_type == dg.EventType.STEP_SKIPPED]
    assert {e.data["reason"] for e in skipped} == {"blocked by check no_zero on source"}
    # the checked asset's own materialization is still recorded
    mats = [e.asset_key for e in result.events if e.event_type == dg.EventType.ASSET_MATERIALIZATION]
    assert mats == ["source"]
    [check] = result.check_results()
    assert (check.check_name, check.passed, check.metadata) == ("no_zero", False, {"zeros": 1})


def test_non_blocking_failed_check_neither_skips_nor_raises() -> None:
    @dg.asset
    def source() -> int:
        return -1

    @dg.asset
    def after(source: int) -> int:
        return source

    @dg.asset_check(asset=source)
    def positive(source: int) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=source > 0)

    result = dg.materialize([source, after, positive])
    assert result.success
    assert result.asset_value("after") == -1
    assert [c.passed for c in result.check_results()] == [False]


def test_warn_severity_blocking_check_does_not_block() -> None:
    @dg.asset
    def source() -> int:
        return 1

    @dg.asset
    def after(source: int) -> int:
        return source

    @dg.asset_check(asset=source, blocking=True)
    def soft(source: int) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    assert dg.materialize([source, after, soft]).success


def test_raising_blocking_check_blocks_downstream() -> None:
    @dg.asset
    def source() -> int:
        return 1

    @dg.asset
    def after(source: int) -> int:
        return source

    @dg.asset_check(asset=source, blocking=True)
    def broken(source: int) -> dg.AssetCheckResult:
        raise RuntimeError("cannot read")

    result = dg.materialize([source, after, broken], raise_on_error=False)
    assert result.node_statuses["after"] == dg.NodeStatus.SKIPPED
    assert not result.success


def test_raising_asset_records_traceback_and_keeps_other_nodes_work() -> None:
    @dg.asset
    def good() -> int:
        return 1

    @dg.asset
    def bad(good: int) -> int:
        raise ValueError("vendor sent garbage")

    @dg.asset
    def independent() -> int:
        return 7

    @dg.asset
    def after_bad(bad: int) -> int:
        return bad

    instance = dg.DerasInstance.ephemeral()
    with pytest.raises(dg.RunFailedError, match="vendor sent garbage") as err:
        dg.materialize([good, bad, independent, after_bad], instance=instance)
    run = instance.get_run(err.value.run_id)
    assert run is not None and run.status == dg.RunStatus.FAILURE
    [failure] = [e for e in instance.get_events(run.run_id) if e.event_type == dg.EventType.STEP_FAILURE]
    assert failure.node == "bad"
    assert "Traceback" in failure.data["traceback"] and "vendor sent garbage" in failure.data["traceback"]
    assert instance.get_latest_materialization("good") is not None
    assert instance.get_latest_materialization("independent") is not None
    assert instance.get_latest_materialization("after_bad") is None
    outcomes = instance.store.get_node_outcomes(run.run_id)
    assert outcomes["after_bad"] == dg.NodeStatus.UPSTREAM_FAILED


def test_retry_policy_retries_until_success_with_retry_number() -> None:
    seen: list[int] = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky(context: dg.AssetExecutionContext) -> int:
        seen.append(context.retry_number)
        if context.retry_number < 2:
            raise ConnectionError("try again")
        return 5

    instance = dg.DerasInstance.ephemeral()
    result = dg.materialize([flaky], instance=instance)
    assert result.success and seen == [0, 1, 2]
    attempts = instance.get_attempts(result.run_id, "flaky")
    assert [a.status for a in attempts] == [
        dg.NodeStatus.UP_FOR_RETRY,
        dg.NodeStatus.UP_FOR_RETRY,
        dg.NodeStatus.SUCCESS,
    ]


def test_retries_exhausted_fail_the_node() -> None:
    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def always_bad() -> int:
        raise RuntimeError("no")

    result = dg.materialize([always_bad], raise_on_error=False)
    assert result.node_statuses["always_bad"] == dg.NodeStatus.FAILED
    retries = [e for e in result.events if e.event_type == dg.EventType.STEP_RETRY]
    assert len(retries) == 1


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (dg.RetryPolicy(max_retries=3, delay=1), [1, 1, 1]),
        (dg.RetryPolicy(max_retries=3, delay=1, backoff=dg.Backoff.LINEAR), [1, 2, 3]),
        (dg.RetryPolicy(max_retries=3, delay=1, backoff=dg.Backoff.EXPONENTIAL), [1, 2, 4]),
        (dg.RetryPolicy(max_retries=3, delay=1, backoff=dg.Backoff.EXPONENTIAL, max_delay=3), [1, 2, 3]),
    ],
)
def test_retry_delay_backoff(policy: dg.RetryPolicy, expected: list[float]) -> None:
    assert [policy.delay_for(n) for n in (1, 2, 3)] == expected


def test_retry_jitter_stays_within_bounds() -> None:
    import random

    rng = random.Random(3)
    policy = dg.RetryPolicy(max_retries=5, delay=2, jitter=dg.Jitter.FULL)
    delays = [policy.delay_for(1, rng) for _ in range(200)]
    assert all(0 <= d <= 2 for d in delays) and len(set(delays)) > 100
    plus_minus = dg.RetryPolicy(max_retries=1, delay=2, jitter=dg.Jitter.PLUS_MINUS)
    assert all(1 <= plus_minus.delay_for(1, rng) <= 3 for _ in range(200))


def test_timeout_stops_the_attempt_and_retries_by_policy(no_hang) -> None:
    calls: list[int] = []

    @dg.asset(timeout=0.2, retry_policy=dg.RetryPolicy(max_retries=1))
    def slow(context: dg.AssetExecutionContext) -> int:
        calls.append(context.retry_number)
        if context.retry_number == 0:
            time.sleep(30)
        return 1

    with no_hang(20):  # the first attempt sleeps 30 s unless the timeout stops it
        result = dg.materialize([slow])
    assert result.success and calls == [0, 1]
    [retry] = [e for e in result.events if e.event_type == dg.EventType.STEP_RETRY]
    assert "timed out after 0.2 s" in retry.data["error"]


def test_context_log_and_prints_are_captured_per_attempt() -> None:
    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def chatty(context: dg.AssetExecutionContext) -> int:
        context.log.info("attempt %d says hello", context.retry_number)
        print(f"printed on attempt {context.retry_number}")
        if context.retry_number == 0:
            raise RuntimeError("first try fails")
        return 1

    instance = dg.DerasInstance.ephemeral()
    result = dg.materialize([chatty], instance=instance)
    logs = [e for e in instance.get_events(result.run_id, node="chatty") if e.event_type == dg.EventType.LOG]
    by_attempt = {(e.attempt, e.level, e.message) for e in logs}
    assert (0, "INFO", "attempt 0 says hello") in by_attempt
    assert (1, "INFO", "attempt 1 says hello") in by_attempt
    assert (0, "STDOUT", "printed on attempt 0") in by_attempt
    assert (1, "STDOUT", "printed on attempt 1") in by_attempt
    text = instance.get_logs(result.run_id, node="chatty")
    assert "attempt 1 says hello" in text and "printed on attempt 0" in text


def test_materialize_result_records_metadata_without_storing() -> None:
    @dg.asset
    def table() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 10, "doc": dg.MetadataValue.md("# hi")})

    instance = dg.DerasInstance.ephemeral()
    result = dg.materialize([table], instance=instance)
    mat = instance.get_latest_materialization("table")
    assert mat is not None and mat.run_id == result.run_id
    assert mat.metadata["rows"] == 10
    assert mat.metadata["doc"] == {"__metadata__": "md", "value": "# hi"}
    with pytest.raises(FileNotFoundError):
        result.asset_value("table")


def test_add_output_metadata_lands_on_the_materialization() -> None:
    @dg.asset
    def table(context: dg.AssetExecutionContext) -> list[int]:
        context.add_output_metadata({"row_count": 3})
        return [1, 2, 3]

    instance = dg.DerasInstance.ephemeral()
    dg.materialize([table], instance=instance)
    mat = instance.get_latest_materialization("table")
    assert mat is not None and mat.metadata["row_count"] == 3


def test_multi_asset_tuple_and_outputs() -> None:
    @dg.multi_asset(outs={"left": dg.AssetOut(), "right": dg.AssetOut(key_prefix="side")})
    def split() -> tuple[int, int]:
        return 1, 2

    @dg.asset
    def joined(left: int, right: int) -> int:
        return left * 10 + right

    result = dg.materialize([split, joined])
    assert result.asset_value("joined") == 12
    assert result.asset_value("side/right") == 2

    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def yielded():  # type: ignore[no-untyped-def]
        yield dg.Output(1, output_name="a")
        yield dg.MaterializeResult(asset_key="b", metadata={"external": True})

    res = dg.materialize([yielded])
    assert res.asset_value("a") == 1
    mats = {e.asset_key: e.metadata for e in res.events if e.event_type == dg.EventType.ASSET_MATERIALIZATION}
    assert mats["b"] == {"external": True}


def test_ins_renames_and_deps_orders_without_loading() -> None:
    order: list[str] = []

    @dg.asset(key_prefix="vendor")
    def raw() -> int:
        order.append("raw")
        return 4

    @dg.asset
    def side_effect() -> None:
        order.append("side_effect")

    @dg.asset(ins={"numbers": dg.AssetIn(key="vendor/raw")}, deps=[side_effect])
    def doubled(numbers: int) -> int:
        order.append("doubled")
        return numbers * 2

    result = dg.materialize([raw, side_effect, doubled])
    assert result.asset_value("doubled") == 8
    assert order.index("doubled") > order.index("side_effect")


def test_selection_runs_subset_and_loads_unselected_upstream() -> None:
    @dg.asset
    def up() -> int:
        return 3

    @dg.asset
    def down(up: int) -> int:
        return up + 1

    instance = dg.DerasInstance.ephemeral()
    dg.materialize([up, down], instance=instance)
    result = dg.materialize([up, down], instance=instance, selection="down")
    assert result.node_statuses == {"down": dg.NodeStatus.SUCCESS}
    assert result.asset_value("down") == 4


def test_missing_upstream_value_fails_with_fix() -> None:
    @dg.asset
    def up() -> int:
        return 3

    @dg.asset
    def down(up: int) -> int:
        return up + 1

    result = dg.materialize([up, down], selection="down", raise_on_error=False)
    [failure] = result.failure_events()
    assert "has no stored value" in failure.data["error"] and "Fix" in failure.data["error"]


def test_user_io_manager_handles_and_loads() -> None:
    class DictIO(dg.IOManager):
        def __init__(self) -> None:
            self.stored: dict[str, object] = {}

        def handle_output(self, context: dg.OutputContext, obj: object) -> None:
            self.stored[str(context.asset_key)] = ("wrapped", obj)

        def load_input(self, context: dg.InputContext) -> object:
            return self.stored[str(context.asset_key)][1]  # type: ignore[index]

    io = DictIO()

    @dg.asset(io_manager_key="dict_io")
    def a() -> int:
        return 1

    @dg.asset
    def b(a: int) -> int:
        return a + 1

    result = dg.materialize([a, b], resources={"dict_io": io})
    assert io.stored["a"] == ("wrapped", 1)
    assert result.asset_value("b") == 2


def test_filesystem_io_manager_writes_pickles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pickle

    @dg.asset
    def a() -> dict[str, int]:
        return {"x": 1}

    dg.materialize([a], resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))})
    assert pickle.loads((tmp_path / "a").read_bytes()) == {"x": 1}


def test_env_var_value_never_reaches_events_or_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DERAS_TEST_SECRET", "hunter2-very-secret")

    class Api(dg.ConfigurableResource):
        token: str

    @dg.asset
    def leaky(context: dg.AssetExecutionContext, api: Api) -> int:
        context.log.info("token is %s", api.token)
        print("printing", api.token)
        assert api.token == "hunter2-very-secret"
        raise RuntimeError(f"auth failed for {api.token}")

    instance = dg.DerasInstance.ephemeral()
    result = dg.materialize(
        [leaky],
        resources={"api": Api(token=dg.EnvVar("DERAS_TEST_SECRET"))},
        instance=instance,
        raise_on_error=False,
    )
    events = instance.get_events(result.run_id)
    blob = repr([(e.message, e.data) for e in events]) + instance.get_logs(result.run_id)
    assert "hunter2-very-secret" not in blob
    assert "*****" in blob
    assert "hunter2" not in repr(Api(token=dg.EnvVar("DERAS_TEST_SECRET")))


def test_missing_env_var_fails_the_node_with_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DERAS_NOT_SET", raising=False)

    class Api(dg.ConfigurableResource):
        token: str

    @dg.asset
    def uses(api: Api) -> int:
        return 1

    result = dg.materialize(
        [uses], resources={"api": Api(token=dg.EnvVar("DERAS_NOT_SET"))}, raise_on_error=False
    )
    assert "DERAS_NOT_SET is not set" in result.failure_events()[0].data["error"]


def test_bad_resource_config_is_a_clear_error() -> None:
    from deras.duckdb import DuckDBResource

    with pytest.raises(dg.ConfigError, match="DuckDBResource: field 'database'"):
        DuckDBResource(database=["not", "a", "path"])  # type: ignore[arg-type]


def test_resources_set_up_once_and_torn_down_after_failure() -> None:
    calls: list[str] = []

    class Tracked(dg.ConfigurableResource):
        name: str

        def setup_for_execution(self, context: object) -> None:
            calls.append("setup")

        def teardown_after_execution(self, context: object) -> None:
            calls.append("teardown")

    @dg.asset
    def a(res: Tracked) -> int:
        return 1

    @dg.asset
    def b(a: int, res: Tracked) -> int:
        raise RuntimeError("boom")

    dg.materialize([a, b], resources={"res": Tracked(name="x")}, raise_on_error=False)
    assert calls == ["setup", "teardown"]


def test_check_returning_wrong_type_fails_with_fix() -> None:
    @dg.asset
    def a() -> int:
        return 1

    @dg.asset_check(asset=a)
    def wrong(a: int) -> bool:
        return True

    result = dg.materialize([a, wrong], raise_on_error=False)
    assert "not dg.AssetCheckResult" in result.failure_events()[0].data["error"]
