"""schemathesis over /api/v1/openapi.json: whatever a client sends that the schema allows, no 5xx.

(501 is allowed: it names a view the read model does not have yet. The event stream, which
never ends, is left out.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from web_code import WEB_DEFS, SnapshotLocation, record_runs

pytestmark = pytest.mark.slow


@pytest.fixture
def api_schema(tmp_path: Path) -> Iterator[Any]:
    from deras._code_server.client import CodeLocations
    from deras._instance.instance import DerasInstance
    from deras._instance.settings import Settings
    from deras._web.app import create_app

    instance = DerasInstance(Settings(tmp_path / "home", f"sqlite:///{tmp_path / 'deras.db'}"))
    record_runs(instance, SnapshotLocation())
    locations = CodeLocations.single({"file": str(WEB_DEFS)}, instance=instance)  # a real code server
    try:
        yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(instance, locations))
    finally:
        locations.stop()
        instance.dispose()


def test_no_request_the_schema_allows_is_a_server_error(api_schema: Any) -> None:
    checked, calls = [], []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/stream":
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: Any) -> None:
            calls.append(case.method)
            response = case.call()
            assert response.status_code < 500 or response.status_code == 501, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
            )

        call()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert len(checked) >= 25, checked
    assert len(calls) >= 5 * len(checked)  # hypothesis did try several requests of each
