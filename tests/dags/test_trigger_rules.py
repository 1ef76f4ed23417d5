"""Trigger rules decide a task's fate from its direct upstream states, as Airflow documents them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import pytest

from deras._core.errors import DefinitionError
from deras._core.task_state import FINISHED, TaskInstanceState
from deras._dags.trigger_rules import Decision, TriggerRule, decide, parse_trigger_rule

S, F, UF, K = "success", "failed", "upstream_failed", "skipped"  # finished
N, Q, R, RT = "none", "queued", "running", "up_for_retry"  # not finished

RUN, WAIT, SKIP, UPF = Decision.RUN, Decision.WAIT, Decision.SKIP, Decision.UPSTREAM_FAILED

CASES: list[tuple[str, list[str], Decision]] = [
    # all_success: every upstream succeeded; gives up as soon as one cannot
    ("all_success", [S, S], RUN),
    ("all_success", [S, F], UPF),
    ("all_success", [S, UF], UPF),
    ("all_success", [S, K], SKIP),
    ("all_success", [K, F], UPF),  # a failure outweighs a skip
    ("all_success", [S, R], WAIT),
    ("all_success", [S, RT], WAIT),  # up_for_retry may still succeed
    ("all_success", [F, R], UPF),  # without waiting for the running one
    ("all_success", [K, R], SKIP),
    ("all_success", [F, F], UPF),
    ("all_success", [K, K], SKIP),
    ("all_success", [S], RUN),
    ("all_success", [F], UPF),
    ("all_success", [R], WAIT),
    ("all_success", [], RUN),
    # all_failed: every upstream failed or upstream_failed
    ("all_failed", [F, F], RUN),
    ("all_failed", [F, UF], RUN),
    ("all_failed", [S, S], SKIP),
    ("all_failed", [F, S], SKIP),
    ("all_failed", [F, K], SKIP),
    ("all_failed", [S, R], SKIP),  # a success can never be undone
    ("all_failed", [F, R], WAIT),
    ("all_failed", [F, RT], WAIT),
    ("all_failed", [K, K], SKIP),
    ("all_failed", [F], RUN),
    ("all_failed", [K], SKIP),
    ("all_failed", [], RUN),  # no upstream: runs, as Airflow runs a root task
    # all_done: every upstream finished, whatever its state
    ("all_done", [S, F, K, UF], RUN),
    ("all_done", [S, S], RUN),
    ("all_done", [F, F], RUN),
    ("all_done", [K, K], RUN),
    ("all_done", [S, R], WAIT),
    ("all_done", [F, N], WAIT),
    ("all_done", [F, Q], WAIT),
    ("all_done", [F, RT], WAIT),
    ("all_done", [K], RUN),
    ("all_done", [Q], WAIT),
    ("all_done", [], RUN),
    # one_success: fires on the first success; when none can come, fails or skips
    ("one_success", [S, R], RUN),
    ("one_success", [S, F], RUN),
    ("one_success", [S, S], RUN),
    ("one_success", [F, R], WAIT),
    ("one_success", [R, R], WAIT),
    ("one_success", [F, F], UPF),
    ("one_success", [F, K], UPF),
    ("one_success", [UF, K], UPF),
    ("one_success", [K, K], SKIP),
    ("one_success", [K], SKIP),
    ("one_success", [UF], UPF),
    ("one_success", [], RUN),  # no upstream: runs, as Airflow runs a root task
    # one_failed: fires on the first failure; skips when none can come
    ("one_failed", [F, R], RUN),
    ("one_failed", [UF, R], RUN),
    ("one_failed", [F, F], RUN),
    ("one_failed", [S, F], RUN),
    ("one_failed", [S, R], WAIT),
    ("one_failed", [S, S], SKIP),
    ("one_failed", [S, K], SKIP),
    ("one_failed", [K, K], SKIP),
    ("one_failed", [S], SKIP),
    ("one_failed", [RT], WAIT),
    ("one_failed", [], RUN),  # no upstream: runs, as Airflow runs a root task
    # none_failed: every upstream succeeded or was skipped
    ("none_failed", [S, S], RUN),
    ("none_failed", [S, K], RUN),
    ("none_failed", [K, K], RUN),
    ("none_failed", [S, R], WAIT),
    ("none_failed", [F, R], UPF),
    ("none_failed", [UF, S], UPF),
    ("none_failed", [F, F], UPF),
    ("none_failed", [K], RUN),
    ("none_failed", [UF], UPF),
    ("none_failed", [], RUN),
    # none_skipped: every upstream finished and none was skipped
    ("none_skipped", [S, S], RUN),
    ("none_skipped", [S, F, UF], RUN),
    ("none_skipped", [F, F], RUN),
    ("none_skipped", [S, R], WAIT),
    ("none_skipped", [K, R], SKIP),
    ("none_skipped", [K, K], SKIP),
    ("none_skipped", [K], SKIP),
    ("none_skipped", [N], WAIT),
    ("none_skipped", [], RUN),
    # all_done_setup_success: deras has no setup tasks, so every upstream finished is enough
    ("all_done_setup_success", [S, F, K], RUN),
    ("all_done_setup_success", [S, R], WAIT),
    ("all_done_setup_success", [], RUN),
    # one_done: fires on the first upstream that ran to an end, success or failure
    ("one_done", [S, R], RUN),
    ("one_done", [F, R], RUN),
    ("one_done", [K, R], WAIT),
    ("one_done", [UF, R], WAIT),  # upstream_failed never ran: it is not "done" here
    ("one_done", [K, K], SKIP),
    ("one_done", [K, UF], SKIP),
    ("one_done", [R, RT], WAIT),
    ("one_done", [], RUN),
    # none_failed_min_one_success: no failure, and at least one success
    ("none_failed_min_one_success", [S, K], RUN),
    ("none_failed_min_one_success", [S, S], RUN),
    ("none_failed_min_one_success", [K, K], SKIP),
    ("none_failed_min_one_success", [S, F], UPF),
    ("none_failed_min_one_success", [UF, R], UPF),
    ("none_failed_min_one_success", [S, R], WAIT),
    ("none_failed_min_one_success", [K, R], WAIT),
    ("none_failed_min_one_success", [], RUN),
    # all_skipped: every upstream skipped; any other end skips it at once
    ("all_skipped", [K, K], RUN),
    ("all_skipped", [K], RUN),
    ("all_skipped", [K, R], WAIT),
    ("all_skipped", [S, R], SKIP),
    ("all_skipped", [F, K], SKIP),
    ("all_skipped", [UF, K], SKIP),
    ("all_skipped", [], RUN),
    # always: never waits
    ("always", [R, R], RUN),
    ("always", [N, Q], RUN),
    ("always", [F, F], RUN),
    ("always", [K, K], RUN),
    ("always", [], RUN),
]


@pytest.mark.parametrize(
    ("rule", "upstream", "expected"),
    CASES,
    ids=[f"{r}-{'+'.join(u) or 'no upstream'}->{e}" for r, u, e in CASES],
)
def test_decision_for_upstream_states(rule: str, upstream: list[str], expected: Decision) -> None:
    assert decide(TriggerRule(rule), [TaskInstanceState(s) for s in upstream]) is expected


def test_cases_cover_every_rule() -> None:
    assert {r for r, _, _ in CASES} == {r.value for r in TriggerRule}


def test_rules_are_exactly_the_documented_ones_with_all_success_first() -> None:
    assert [r.value for r in TriggerRule] == [
        "all_success",
        "all_failed",
        "all_done",
        "all_done_setup_success",
        "one_success",
        "one_failed",
        "one_done",
        "none_failed",
        "none_failed_min_one_success",
        "none_skipped",
        "all_skipped",
        "always",
    ]


def test_one_failed_fires_as_soon_as_an_upstream_fails() -> None:
    assert decide(TriggerRule.ONE_FAILED, [F, R, R, N]) is RUN


def test_one_success_fires_as_soon_as_an_upstream_succeeds() -> None:
    assert decide(TriggerRule.ONE_SUCCESS, [Q, S, R, N]) is RUN


def test_all_success_skips_on_a_skipped_upstream_without_waiting_for_the_others() -> None:
    """As in Airflow: the skip is final even if the running upstream fails afterwards."""
    assert decide(TriggerRule.ALL_SUCCESS, [K, R]) is SKIP
    assert decide(TriggerRule.ALL_SUCCESS, [K, F]) is UPF


@pytest.mark.parametrize("rule", list(TriggerRule))
def test_a_task_without_upstream_runs_whatever_its_rule(rule: TriggerRule) -> None:
    assert decide(rule, []) is RUN
    assert decide(rule, {}, total=0) is RUN


@pytest.mark.parametrize("rule", [r for r in TriggerRule if r is not TriggerRule.ALWAYS])
@pytest.mark.parametrize("upstream", list(itertools.combinations_with_replacement(sorted(FINISHED), 3)))
def test_once_every_upstream_finished_no_rule_waits(rule: TriggerRule, upstream: tuple[str, ...]) -> None:
    assert decide(rule, upstream) is not WAIT


UNFINISHED = [N, Q, R, RT]
MIXED = [
    (finished, unfinished)
    for n in range(3)
    for finished in itertools.combinations_with_replacement(sorted(FINISHED), n)
    for unfinished in itertools.combinations_with_replacement(UNFINISHED, 3 - n)
    if unfinished
]


@pytest.mark.parametrize("rule", list(TriggerRule))
def test_an_early_decision_is_the_one_that_would_be_made_after_the_others_finish(
    rule: TriggerRule,
) -> None:
    """Deciding without waiting is only safe if waiting could not change the answer.

    The one exception is all_success's early skip, which a later failure would turn into
    upstream_failed; Airflow skips as soon as an upstream is skipped all the same.
    """
    for finished, unfinished in MIXED:
        early = decide(rule, [*finished, *unfinished])
        if early is WAIT:
            continue
        for outcome in itertools.product(sorted(FINISHED), repeat=len(unfinished)):
            late = decide(rule, [*finished, *outcome])
            if rule is TriggerRule.ALL_SUCCESS and early is SKIP:
                assert late in (SKIP, UPF)
            else:
                assert late is early, (finished, unfinished, outcome)


def test_a_mapping_of_task_ids_decides_like_a_list_of_states() -> None:
    assert decide(TriggerRule.ALL_SUCCESS, {"extract": S, "transform": F}) is UPF
    assert decide(TriggerRule.ALL_SUCCESS, {"extract": S, "transform": S}) is RUN


def test_missing_mapped_instances_count_as_unfinished() -> None:
    assert decide(TriggerRule.ALL_SUCCESS, [S, S], total=3) is WAIT
    assert decide(TriggerRule.ALL_SUCCESS, [S, S, S], total=3) is RUN
    assert decide(TriggerRule.ONE_FAILED, [S, S], total=3) is WAIT
    assert decide(TriggerRule.ALL_DONE, [], total=2) is WAIT
    assert decide(TriggerRule.ALL_SUCCESS, [F], total=3) is UPF  # no need to wait for the rest


def test_total_smaller_than_the_states_given_is_an_error() -> None:
    with pytest.raises(ValueError, match="total=1"):
        decide(TriggerRule.ALL_DONE, [S, S], total=1)


def test_rule_and_states_may_be_plain_strings() -> None:
    assert decide("none_failed", ["success", "skipped"]) is RUN  # type: ignore[arg-type]


def test_a_misspelt_upstream_state_is_an_error_not_an_eternal_wait() -> None:
    with pytest.raises(ValueError, match="sucess"):
        decide(TriggerRule.ALL_DONE, ["sucess"])  # type: ignore[list-item]


class _ReadOnce(Sequence[TaskInstanceState]):
    """A sequence that fails if the states are read more than once."""

    def __init__(self, states: list[TaskInstanceState]) -> None:
        self._states = states
        self.reads = 0

    def __iter__(self) -> Iterator[TaskInstanceState]:
        self.reads += 1
        assert self.reads == 1, "upstream states read twice"
        return iter(self._states)

    def __len__(self) -> int:
        return len(self._states)

    def __getitem__(self, i: int) -> TaskInstanceState:  # type: ignore[override]
        raise AssertionError("upstream states read by index")


def test_upstream_states_are_read_once() -> None:
    states = _ReadOnce([TaskInstanceState.SUCCESS] * 10_000 + [TaskInstanceState.RUNNING])
    assert decide(TriggerRule.ALL_SUCCESS, states) is WAIT
    assert states.reads == 1


# -- parse_trigger_rule -------------------------------------------------------------------


@pytest.mark.parametrize("rule", list(TriggerRule))
def test_every_rule_parses_from_its_name(rule: TriggerRule) -> None:
    assert parse_trigger_rule(rule.value) is rule
    assert parse_trigger_rule(rule) is rule


def test_a_misspelt_rule_suggests_the_closest() -> None:
    with pytest.raises(DefinitionError) as info:
        parse_trigger_rule("all_sucess")
    message = str(info.value)
    assert "unknown trigger rule 'all_sucess'" in message
    assert "did you mean 'all_success'" in message
    assert "all_success, all_failed, all_done, all_done_setup_success, one_success, one_failed" in message


def test_the_error_says_where_the_rule_was_written() -> None:
    with pytest.raises(DefinitionError, match=r"^task 'load': unknown trigger rule 'al_done'; did you mean"):
        parse_trigger_rule("al_done", where="task 'load'")


def test_a_constant_name_in_capitals_suggests_the_rule() -> None:
    with pytest.raises(DefinitionError, match="did you mean 'all_done'"):
        parse_trigger_rule("ALL_DONE")


def test_a_name_close_to_nothing_gets_no_suggestion() -> None:
    with pytest.raises(DefinitionError) as info:
        parse_trigger_rule("whenever")
    assert "did you mean" not in str(info.value)
    assert "valid trigger rules: all_success" in str(info.value)


@pytest.mark.parametrize(
    ("old", "new"),
    [("dummy", TriggerRule.ALWAYS), ("none_failed_or_skipped", TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)],
)
def test_airflows_deprecated_rule_names_mean_their_new_rule_with_a_warning(
    old: str, new: TriggerRule
) -> None:
    with pytest.warns(DeprecationWarning, match=f"'{old}' is deprecated .*write '{new.value}'"):
        assert parse_trigger_rule(old) is new


def test_the_deprecated_constants_are_aliases_of_their_new_rule() -> None:
    assert TriggerRule.DUMMY is TriggerRule.ALWAYS
    assert TriggerRule.NONE_FAILED_OR_SKIPPED is TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS


def test_an_airflow_rule_deras_lacks_says_so() -> None:
    with pytest.raises(DefinitionError, match="'all_done_min_one_success' is not supported: Airflow has it"):
        parse_trigger_rule("all_done_min_one_success")


def test_a_rule_that_is_not_a_string_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="must be a string or TriggerRule, got int 3"):
        parse_trigger_rule(3)  # type: ignore[arg-type]


def test_decide_with_a_misspelt_rule_raises_the_same_error() -> None:
    with pytest.raises(DefinitionError, match="did you mean 'one_failed'"):
        decide("one_faild", [S])  # type: ignore[arg-type]
