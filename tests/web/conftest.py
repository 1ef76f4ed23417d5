"""Fixtures of the web tests: an app over a real instance (SQLite file, then Postgres), a
TestClient, and a real uvicorn server on a free loopback port (for streams and the browser)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web_server import LiveServer


@pytest.fixture
def web_instance(instance: Any) -> Any:
    """The instance the app serves (``instance``: SQLite file, then Postgres)."""
    return instance


@pytest.fixture
def make_client(web_instance: Any) -> Iterator[Callable[..., Any]]:
    """``make_client(code_locations=None, **create_app_kwargs)``: a TestClient with the app started."""
    from fastapi.testclient import TestClient

    from deras._web.app import create_app

    opened: list[Any] = []

    def make(code_locations: Any = None, **kwargs: Any) -> Any:
        app = create_app(web_instance, code_locations, feed_interval=0.05, **kwargs)
        client = TestClient(app)
        client.__enter__()  # runs the lifespan: the change feed's thread
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    """A TestClient of an open (tokenless) app without code locations."""
    return make_client()


@pytest.fixture
def live_server(web_instance: Any) -> Iterator[Callable[..., LiveServer]]:
    """``live_server(code_locations=None, **create_app_kwargs)``: a started LiveServer."""
    from deras._web.app import create_app

    started: list[LiveServer] = []

    def start(code_locations: Any = None, **kwargs: Any) -> LiveServer:
        app = create_app(web_instance, code_locations, feed_interval=0.05, **kwargs)
        server = LiveServer(app).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


@pytest.fixture
def example_file() -> Path:
    return Path(__file__).resolve().parents[2] / "examples" / "share_prices" / "definitions.py"
