"""EnvVar values are never served: not by the API, the event stream, the logs or a page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import deras as dg

SECRET = "web-secret-8c1f2e77d4"


class Api(dg.ConfigurableResource):
    token: str


def test_a_secret_a_run_printed_and_failed_with_is_served_masked(
    web_instance: Any, make_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_TEST_TOKEN", SECRET)

    @dg.asset
    def calls_api(context: dg.AssetExecutionContext, api: Api) -> None:
        print("token is", api.token)
        context.log.info("using %s", api.token)
        raise RuntimeError(f"the API refused {api.token}")

    result = dg.materialize(
        [calls_api],
        resources={"api": Api(token=dg.EnvVar("WEB_TEST_TOKEN"))},
        instance=web_instance,
        raise_on_error=False,
    )
    client = make_client()
    run = result.run_id
    served = [
        client.get(f"/api/v1/runs/{run}").text,
        client.get(f"/api/v1/runs/{run}/events").text,
        client.get(f"/api/v1/runs/{run}/logs").text,
        client.get("/api/v1/runs").text,
        client.get(f"/runs/{run}").text,
    ]
    for text in served:
        assert SECRET not in text
    assert "*****" in served[2]  # the log says where the secret was
