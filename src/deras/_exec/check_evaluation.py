"""Recording check verdicts: a check's own step, or the checks an asset step yields itself."""

from __future__ import annotations

from typing import Any

from .._core.errors import DerasError
from .._core.events import EventType
from .._core.metadata import normalize_metadata
from .._defs.results import AssetCheckResult
from .._graph.node import CheckTarget, Node
from .step_scope import StepScope


class BlockingCheckFailed(Exception):
    _deras_no_retry = True
    _deras_no_traceback = True  # the check's verdict says it all


class MissingCheckResult(DerasError):
    _deras_no_retry = True  # the same code would leave it out again


def record_check(
    scope: StepScope,
    node: Node,
    target: CheckTarget,
    keys: list[str],
    attempt: int,
    verdict: AssetCheckResult,
) -> None:
    """One ``ASSET_CHECK_EVALUATION`` event; raising is left to ``raise_blocking``."""
    severity = str(verdict.severity)
    data = {
        "asset_key": str(target.asset_key),
        "check_name": target.check_name,
        "passed": bool(verdict.passed),
        "severity": severity,
        "metadata": normalize_metadata(verdict.metadata),
        "blocking": target.blocking,
    }
    if len(keys) == 1:
        data["partition"] = keys[0]
    outcome = "passed" if verdict.passed else "failed"
    scope.events.add(
        scope.run_id,
        EventType.ASSET_CHECK_EVALUATION,
        node.id,
        attempt,
        f"check {target.check_name} on {target.asset_key} {outcome}",
        None if verdict.passed else "WARNING",
        data,
    )


def raise_blocking(results: list[tuple[CheckTarget, AssetCheckResult]]) -> None:
    """Fail the step on the first blocking check that failed with severity ERROR."""
    for target, verdict in results:
        if not verdict.passed and target.blocking and str(verdict.severity) == "ERROR":
            raise BlockingCheckFailed(
                f"blocking check {target.check_name} on {target.asset_key} failed"
                + (f": {verdict.description}" if verdict.description else "")
            )


def raise_missing(node: Node, results: list[tuple[CheckTarget, Any]]) -> None:
    """A spec'd check without a result fails the step, as a required output would."""
    done = {id(t) for t, _ in results}
    missing = [f"{t.asset_key}:{t.check_name}" for t in node.check_targets if id(t) not in done]
    if missing:
        raise MissingCheckResult(
            f"{node.id} yielded no AssetCheckResult for check(s) {', '.join(missing)}. Fix: yield "
            "dg.AssetCheckResult(check_name=..., passed=...) for each of its check specs."
        )
