"""Every trigger rule in real DAG runs: two upstream tasks that succeed (S), fail (F) or skip (K)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import deras as dg

CASES = ["SS", "SF", "SK", "FF", "KK", "FK"]
S, F, K, UF = "success", "failed", "skipped", "upstream_failed"
# The downstream task's state for each case, in CASES' order (as docs/dags.md shows it).
EXPECTED = {
    "all_success": [S, UF, K, UF, K, UF],
    "all_failed": [K, K, K, S, K, K],
    "all_done": [S, S, S, S, S, S],
    "all_done_setup_success": [S, S, S, S, S, S],
    "one_success": [S, S, S, UF, K, UF],
    "one_failed": [K, S, K, S, K, S],
    "one_done": [S, S, S, S, K, S],
    "none_failed": [S, UF, S, UF, S, UF],
    "none_failed_min_one_success": [S, UF, S, UF, K, UF],
    "none_skipped": [S, S, K, S, K, K],
    "all_skipped": [K, K, K, K, S, K],
    "always": [S, S, S, S, S, S],
}


def ok() -> int:
    return 1


def fail() -> None:
    raise RuntimeError("boom")


def skip() -> None:
    raise dg.SkipTask("nothing to do")


FN = {"S": ok, "F": fail, "K": skip}


def test_every_rule_has_its_expected_row() -> None:
    assert set(EXPECTED) == {r.value for r in dg.TriggerRule}


@pytest.mark.parametrize("rule", list(EXPECTED))
def test_a_rule_decides_the_downstream_state_in_a_run(rule: str) -> None:
    states = []
    for case in CASES:
        with dg.DAG(f"r_{rule}_{case}") as d:
            ups = [dg.PythonOperator(task_id=f"u{i}", python_callable=FN[c]) for i, c in enumerate(case)]
            down = dg.PythonOperator(task_id="down", python_callable=ok, trigger_rule=rule)
            ups >> down
        run = d.test(logical_date=datetime(2025, 1, 1, tzinfo=UTC))
        states.append(run.get_task_instance("down").state)
    assert states == EXPECTED[rule]


def test_a_join_after_a_branch_runs_with_none_failed_min_one_success() -> None:
    @dg.dag
    def branching():
        @dg.task.branch
        def choose() -> str:
            return "left"

        @dg.task
        def left() -> str:
            return "left"

        @dg.task
        def right() -> str:
            return "right"

        @dg.task(trigger_rule=dg.TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
        def join() -> str:
            return "joined"

        chosen = choose()
        a, b = left(), right()
        chosen >> [a, b]
        [a, b] >> join()

    run = branching().test(logical_date=datetime(2025, 1, 1, tzinfo=UTC))
    assert {ti.task_id: ti.state for ti in run.task_instances} == {
        "choose": S,
        "left": S,
        "right": K,
        "join": S,
    }
