"""What every request handler of the web app reaches: the instance, code locations, caches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from .change_feed import ChangeFeed
from .lineage_layout import LayoutCache
from .security import WebSecurity


@dataclass
class WebState:
    instance: Any  # DerasInstance
    code_locations: Any  # deras._code_server.client.CodeLocations, or None: no code loaded
    feed: ChangeFeed
    layouts: LayoutCache
    security: WebSecurity
    # The process is the server's own (deras web): freeze the snapshot and layout out of the
    # garbage collector's walks once built (see long_lived.py). Off for apps inside other programs.
    freeze_long_lived: bool = False


def web_state(request: Request) -> WebState:
    """FastAPI dependency: the app's state."""
    state: WebState = request.app.state.web
    return state
