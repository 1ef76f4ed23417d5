"""``GET /api/v1/stream``: Server-Sent Events for a page, fed by the app's one :class:`ChangeFeed`.

Every stream starts with ``hello`` (``{"event_id": N}``: it is listening from now on).
Without ``run_id`` a page gets ``change`` events (``{"run_ids": [...], "event_id": N}``) and
refetches what it shows. With ``run_id`` it gets the run's new events themselves (``events``:
a list, oldest first, each with its ``id``), read once per change that touches the run, then
``run`` (the run's status) so the page can stop listening once the run has ended. Both send a
comment every ``keepalive`` seconds so proxies keep the connection open.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from .._instance.views import runs as run_views
from .state import WebState, web_state

router = APIRouter(tags=["live"])
KEEPALIVE_SECONDS = 15.0
EVENTS_PER_MESSAGE = 500
INITIAL_EVENTS = 5000


def _message(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get(
    "/stream",
    summary="Live changes (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "an event stream"}},
)
async def stream(
    request: Request,
    state: WebState = Depends(web_state),
    run_id: str | None = Query(None, description="stream this run's events"),
    after: int | None = Query(None, description="events after this event id (default: all of the run's)"),
) -> StreamingResponse:
    """Changes for any page; with ``run_id``, that run's events as they are stored."""
    last_event_header = request.headers.get("last-event-id")
    if after is None and last_event_header and last_event_header.isdigit():
        after = int(last_event_header)  # the browser reconnected: continue where it was
    subscription = state.feed.subscribe()
    instance = state.instance
    older_left = False
    if run_id is not None and after is None:
        # A page opening a huge run starts from its last events (the API pages the older ones).
        after = await run_in_threadpool(_tail_start, instance, run_id)
        older_left = after is not None

    async def messages() -> AsyncIterator[str]:
        cursor = after
        try:
            hello = {"event_id": state.feed.event_id, "older_events_left_out": older_left}
            yield "retry: 2000\n\n" + _message("hello", hello)
            if run_id is not None:
                cursor, out = await run_in_threadpool(_run_messages, instance, run_id, cursor)
                for item in out:
                    yield item
            while not await request.is_disconnected():
                change = await subscription.next(KEEPALIVE_SECONDS)
                if change is None:
                    yield ": keepalive\n\n"
                elif run_id is None:
                    yield _message("change", {"run_ids": sorted(change.run_ids), "event_id": change.event_id})
                elif run_id in change.run_ids or not change.run_ids:
                    cursor, out = await run_in_threadpool(_run_messages, instance, run_id, cursor)
                    for item in out:
                        yield item
        finally:
            subscription.close()

    return StreamingResponse(messages(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})


def _tail_start(instance: Any, run_id: str) -> int | None:
    """The event id to stream a run's events after: None (from its first) unless it has more
    than ``INITIAL_EVENTS``; then just before the newest ``INITIAL_EVENTS``."""
    newest = instance.store.get_events(run_id, limit=INITIAL_EVENTS + 1, newest_first=True)
    if len(newest) <= INITIAL_EVENTS:
        return None
    return int(newest[-1].id)


def _run_messages(instance: Any, run_id: str, after: int | None) -> tuple[int | None, list[str]]:
    """The run's events after ``after`` as messages, then its status; and the new cursor."""
    out: list[str] = []
    while True:
        page = run_views.run_events(instance, run_id, after, EVENTS_PER_MESSAGE)
        if not page.items:
            break
        after = page.items[-1].event_id
        out.append(_message("events", [e.to_json() for e in page.items], after))
        if page.next_cursor is None:
            break
    run = instance.get_run(run_id)
    if run is None:
        out.append(_message("run", {"run_id": run_id, "status": None, "finished": True, "missing": True}))
    else:
        status = {
            "run_id": run_id,
            "status": str(run.status),
            "start_time": run.start_time,
            "end_time": run.end_time,
            "finished": run.status.is_finished,
        }
        out.append(_message("run", status))
    return after, out
