"""``/metrics``: Prometheus text format, rendered by hand from the read model's numbers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from .code_access import current_snapshot
from .read_model import read_model
from .state import WebState, web_state

router = APIRouter(tags=["metrics"])
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def metrics(state: WebState = Depends(web_state)) -> PlainTextResponse:
    metric_views = read_model("metrics")

    numbers = metric_views.metrics(state.instance, current_snapshot(state))
    return PlainTextResponse(render(numbers.to_json()), media_type=CONTENT_TYPE)


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(numbers: dict[str, Any]) -> str:
    """Prometheus exposition text of the metrics view's JSON."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    family("deras_runs", "gauge", "Runs in the store by status.")
    for status, count in sorted((numbers.get("runs_by_status") or {}).items()):
        lines.append(f'deras_runs{{status="{_label(status)}"}} {count}')
    family("deras_run_queue_depth", "gauge", "Runs queued for the daemon.")
    lines.append(f"deras_run_queue_depth {numbers.get('queue_depth', 0)}")
    family(
        "deras_tick_lag_seconds",
        "gauge",
        "How late each running schedule's or sensor's next tick is, in seconds (0: on time).",
    )
    for name, lag in sorted((numbers.get("tick_lag_seconds") or {}).items()):
        if lag is not None:
            lines.append(f'deras_tick_lag_seconds{{instigator="{_label(name)}"}} {float(lag)}')
    steps = numbers.get("step_durations") or {}
    family("deras_step_duration_seconds", "histogram", "Durations of step attempts that finished.")
    for bound, count in steps.get("buckets", []):
        le = "+Inf" if bound in (None, "+Inf", float("inf")) else repr(float(bound))
        lines.append(f'deras_step_duration_seconds_bucket{{le="{le}"}} {count}')
    lines.append(f"deras_step_duration_seconds_sum {float(steps.get('sum', 0.0))}")
    lines.append(f"deras_step_duration_seconds_count {int(steps.get('count', 0))}")
    return "\n".join(lines) + "\n"
