"""Trigger rules: when a DAG task runs, given the states of its direct upstream task instances.

The semantics are Airflow's: ``all_success`` waits for every upstream to succeed and gives up
(``upstream_failed`` / ``skip``) as soon as one cannot; the ``one_*`` rules fire as soon as one
upstream qualifies, without waiting for the others. A task with no upstream runs whatever
its rule, as a root task does in Airflow.
"""

from __future__ import annotations

import difflib
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import assert_never

from deras._core.errors import DefinitionError
from deras._core.task_state import TaskInstanceState


class TriggerRule(StrEnum):
    """Which upstream outcomes let a task run; ``ALL_SUCCESS`` is the default.

    >>> decide(TriggerRule.ALL_DONE, ["success", "failed"])
    <Decision.RUN: 'run'>
    >>> decide(TriggerRule.ALL_SUCCESS, ["success", "running"])
    <Decision.WAIT: 'wait'>
    """

    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    # Airflow's rule for setup/teardown tasks; deras has no setup tasks, so it is all_done.
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALL_SKIPPED = "all_skipped"
    ALWAYS = "always"
    # Airflow's deprecated names, kept as aliases so ``TriggerRule.DUMMY`` in a DAG file works.
    DUMMY = "always"
    NONE_FAILED_OR_SKIPPED = "none_failed_min_one_success"


class Decision(StrEnum):
    """What happens to the downstream task instance now.

    ``SKIP`` and ``UPSTREAM_FAILED`` are final: the instance ends in that state without a try.
    ``WAIT`` means ask again when another upstream finishes.

    >>> decide(TriggerRule.ALL_SUCCESS, {"extract": "failed", "other": "running"})
    <Decision.UPSTREAM_FAILED: 'upstream_failed'>
    """

    RUN = "run"
    WAIT = "wait"
    SKIP = "skip"
    UPSTREAM_FAILED = "upstream_failed"


# Airflow's deprecated rule names and the rules they mean now: accepted, with a warning.
_DEPRECATED: Mapping[str, TriggerRule] = {
    "dummy": TriggerRule.ALWAYS,
    "none_failed_or_skipped": TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
}

# Airflow rule names deras does not implement, with what to use instead: someone porting a DAG
# gets told why their rule is refused instead of only "unknown".
_AIRFLOW_ONLY: Mapping[str, str] = {
    "all_done_min_one_success": "Airflow has it, deras does not (yet); 'all_done' is closest",
}


def parse_trigger_rule(value: str | TriggerRule, *, where: str = "") -> TriggerRule:
    """The ``TriggerRule`` named by ``value``; ``DefinitionError`` naming the closest rule if none.

    ``where`` (e.g. ``"task 'load'"``) prefixes the message so it says which definition is wrong.

    >>> parse_trigger_rule("none_failed")
    <TriggerRule.NONE_FAILED: 'none_failed'>
    """
    if isinstance(value, TriggerRule):
        return value
    prefix = f"{where}: " if where else ""
    valid = [r.value for r in TriggerRule]
    listing = "valid trigger rules: " + ", ".join(valid)
    if not isinstance(value, str):
        raise DefinitionError(
            f"{prefix}trigger_rule must be a string or TriggerRule, got {type(value).__name__} "
            f"{value!r}; {listing}"
        )
    try:
        return TriggerRule(value)
    except ValueError:
        pass
    renamed = _DEPRECATED.get(value.lower())
    if renamed is not None:
        warnings.warn(
            f"{prefix}trigger rule {value!r} is deprecated (as in Airflow): write {renamed.value!r}",
            DeprecationWarning,
            stacklevel=3,
        )
        return renamed
    hint = _AIRFLOW_ONLY.get(value.lower())
    if hint is not None:
        raise DefinitionError(f"{prefix}trigger rule {value!r} is not supported: {hint}; {listing}")
    # Lowercased so that a constant's name written as a string ("ALL_DONE") still finds its rule.
    close = difflib.get_close_matches(value.lower(), valid, n=1)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    raise DefinitionError(f"{prefix}unknown trigger rule {value!r}{suggestion} ({listing})")


def decide(
    rule: TriggerRule,
    upstream: Sequence[TaskInstanceState] | Mapping[str, TaskInstanceState],
    *,
    total: int | None = None,
) -> Decision:
    """Decide what the downstream task instance does, from its direct upstream instances' states.

    ``upstream`` holds every known upstream instance's state, finished or not (a mapping of task
    id to state works too). ``total`` is how many upstream instances there will be, for mapped
    upstream tasks not yet expanded: the ones missing from ``upstream`` count as unfinished.
    Each state is counted once, so this is linear in the number of upstream instances.

    >>> decide(TriggerRule.ONE_SUCCESS, ["success", "running"])
    <Decision.RUN: 'run'>
    >>> decide(TriggerRule.ALL_SUCCESS, ["success"], total=2)
    <Decision.WAIT: 'wait'>
    """
    if not isinstance(rule, TriggerRule):
        rule = parse_trigger_rule(rule)  # a plain string works too; a misspelt one says so
    states = upstream.values() if isinstance(upstream, Mapping) else upstream
    # Converting catches a misspelt state: counted as unfinished it would make the task wait forever.
    counts = Counter(TaskInstanceState(s) for s in states)
    known = counts.total()
    if total is None:
        total = known
    elif total < known:
        raise ValueError(f"decide(total={total}): {known} upstream states were given, more than the total")

    # Airflow passes a task without upstream before it looks at the rule: a root task always runs.
    if total == 0 or rule is TriggerRule.ALWAYS:
        return Decision.RUN

    success = counts[TaskInstanceState.SUCCESS]
    skipped = counts[TaskInstanceState.SKIPPED]
    # An upstream that never ran because its own upstream failed counts as failed, as in Airflow.
    failed = counts[TaskInstanceState.FAILED] + counts[TaskInstanceState.UPSTREAM_FAILED]
    all_done = success + skipped + failed == total

    match rule:
        case TriggerRule.ALL_SUCCESS:
            if failed:
                return Decision.UPSTREAM_FAILED
            if skipped:
                return Decision.SKIP
            return Decision.RUN if success == total else Decision.WAIT
        case TriggerRule.ALL_FAILED:
            if success or skipped:
                return Decision.SKIP
            return Decision.RUN if failed == total else Decision.WAIT
        case TriggerRule.ALL_DONE | TriggerRule.ALL_DONE_SETUP_SUCCESS:
            return Decision.RUN if all_done else Decision.WAIT
        case TriggerRule.ONE_SUCCESS:
            if success:
                return Decision.RUN
            if not all_done:
                return Decision.WAIT
            return Decision.UPSTREAM_FAILED if failed else Decision.SKIP
        case TriggerRule.ONE_FAILED:
            if failed:
                return Decision.RUN
            return Decision.SKIP if all_done else Decision.WAIT
        case TriggerRule.ONE_DONE:
            # Done means ran to an end: a success or a failure of its own, not upstream_failed.
            if success or counts[TaskInstanceState.FAILED]:
                return Decision.RUN
            return Decision.SKIP if all_done else Decision.WAIT
        case TriggerRule.NONE_FAILED:
            if failed:
                return Decision.UPSTREAM_FAILED
            return Decision.RUN if all_done else Decision.WAIT
        case TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS | TriggerRule.NONE_FAILED_OR_SKIPPED:  # alias: for mypy
            if failed:
                return Decision.UPSTREAM_FAILED
            if not all_done:
                return Decision.WAIT
            return Decision.RUN if success else Decision.SKIP
        case TriggerRule.NONE_SKIPPED:
            if skipped:
                return Decision.SKIP
            return Decision.RUN if all_done else Decision.WAIT
        case TriggerRule.ALL_SKIPPED:
            if success or failed:
                return Decision.SKIP
            return Decision.RUN if skipped == total else Decision.WAIT
        case TriggerRule.ALWAYS | TriggerRule.DUMMY:  # handled above; kept so the match stays exhaustive
            return Decision.RUN
        case _:
            assert_never(rule)
