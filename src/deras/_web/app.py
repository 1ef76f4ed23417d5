"""``create_app``: the FastAPI application behind ``deras web`` and ``deras dev``.

>>> from deras._instance.instance import DerasInstance
>>> app = create_app(DerasInstance.ephemeral(), None)
>>> app.openapi_url
'/api/v1/openapi.json'
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import (
    api_assets,
    api_backfills,
    api_dags,
    api_health,
    api_instigators,
    api_locations,
    api_runs,
    events_stream,
    metrics,
    pages,
)
from .change_feed import ChangeFeed
from .code_access import warm_lineage
from .lineage_layout import LayoutCache
from .security import SecurityMiddleware, WebSecurity
from .state import WebState

API_PREFIX = "/api/v1"
# The modules whose routers serve the HTTP API, under API_PREFIX (metrics and pages: at the root).
API_MODULES = (
    api_runs,
    api_assets,
    api_dags,
    api_instigators,
    api_backfills,
    api_locations,
    api_health,
    events_stream,
)
STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    instance: Any,
    code_locations: Any,
    *,
    auth_token: str | None = None,
    allowed_hosts: Collection[str] | None = None,
    secure_cookies: bool = False,
    feed_interval: float = 0.2,
    freeze_long_lived: bool = False,
) -> FastAPI:
    """The web app over ``instance``; ``code_locations`` (``deras._code_server.client.CodeLocations``,
    or None) gives snapshots of the definitions and launches runs.

    ``auth_token`` set: the API wants ``Authorization: Bearer`` and pages a login. ``allowed_hosts``:
    the ``Host`` names served (None: any) — a tokenless loopback server passes the loopback names.
    ``freeze_long_lived``: the process is this server's alone, so the code snapshot and lineage
    layout are frozen out of the garbage collector's walks once built (``long_lived.py``).
    """
    security = WebSecurity(auth_token=auth_token, allowed_hosts=allowed_hosts, secure_cookies=secure_cookies)
    state = WebState(
        instance=instance,
        code_locations=code_locations,
        feed=ChangeFeed(instance.store, interval=feed_interval),
        layouts=LayoutCache(),
        security=security,
        freeze_long_lived=freeze_long_lived,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state.feed.start(asyncio.get_running_loop())
        warm_lineage(state)
        try:
            yield
        finally:
            state.feed.stop()

    app = FastAPI(
        title="deras",
        version=_version(),
        summary="The deras HTTP API: runs, assets, DAGs, schedules, sensors, backfills, code locations.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads scripts from a CDN and inline: not under this CSP
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = state
    for module in API_MODULES:
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(metrics.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, follow_symlink=False), name="static")
    app.add_middleware(SecurityMiddleware, security=security)
    return app


def _version() -> str:
    try:
        return version("deras")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"
