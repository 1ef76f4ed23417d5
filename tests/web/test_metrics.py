"""``/metrics``: Prometheus' text format, every metric with its HELP and TYPE, tick lag included."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from web_code import SnapshotLocation, record_runs

FAMILIES = {
    "deras_runs": "gauge",
    "deras_run_queue_depth": "gauge",
    "deras_tick_lag_seconds": "gauge",
    "deras_step_duration_seconds": "histogram",
}
# A sample line: a name, optional labels, a number (Prometheus text format 0.0.4).
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\n"])*"'
SAMPLE = re.compile(rf"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{{{_LABEL}(?:,{_LABEL})*\}})? (-?[0-9.e+-]+|\+Inf|NaN)")


def _metrics(web_instance: Any, make_client: Callable[..., Any]) -> str:
    location = SnapshotLocation()
    record_runs(web_instance, location)
    # nightly started by hand a day ago and never ticked: its 02:00 tick is owed
    web_instance.store.ticks.set_status("schedule:nightly", "running", time.time() - 86_400)
    response = make_client(location).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return str(response.text)


def test_every_metric_has_help_and_type_and_every_line_parses(
    web_instance: Any, make_client: Callable[..., Any]
) -> None:
    text = _metrics(web_instance, make_client)
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert help_text, line
            helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            types[name] = kind
        else:
            match = SAMPLE.fullmatch(line)
            assert match, f"not a sample line: {line!r}"
            family = re.sub(r"_(bucket|sum|count)$", "", match[1]) if match[1] not in types else match[1]
            assert family in types and family in helps, f"{match[1]} has no HELP/TYPE before it"
    assert types == FAMILIES and set(helps) == set(FAMILIES)


def test_prometheus_reads_the_numbers(web_instance: Any, make_client: Callable[..., Any]) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(_metrics(web_instance, make_client))}
    assert {name: f.type for name, f in families.items()} == FAMILIES
    runs = {s.labels["status"]: s.value for s in families["deras_runs"].samples}
    assert runs["success"] == 4 and runs["failure"] == 1 and runs["queued"] == 0
    lags = {s.labels["instigator"]: s.value for s in families["deras_tick_lag_seconds"].samples}
    assert lags["schedule:nightly"] > 0
    steps = {s.name: s for s in families["deras_step_duration_seconds"].samples}
    assert steps["deras_step_duration_seconds_count"].value >= 5
    infinite = [s for s in families["deras_step_duration_seconds"].samples if s.labels.get("le") == "+Inf"]
    assert [s.value for s in infinite] == [steps["deras_step_duration_seconds_count"].value]
