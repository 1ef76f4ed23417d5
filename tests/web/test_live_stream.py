"""Live updates: one watcher of the store wakes every open page; a run's stream carries its events."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

from deras._core.events import EventRecord, EventType
from deras._core.new_runs import new_run
from deras._core.records import RunTarget
from deras._storage import MetadataStore
from deras._web.change_feed import ChangeFeed


def _queued_run(store: Any) -> str:
    run = new_run(RunTarget.assets(), selection=["a"])
    store.create_run(run)
    return run.run_id


def _event(run_id: str, kind: EventType, message: str = "", node: str | None = None) -> EventRecord:
    return EventRecord(run_id=run_id, event_type=kind, node=node, message=message, attempt=0)


class StreamReader:
    """Reads an SSE stream in a thread; ``next_of(kind)`` waits for the next message of a kind."""

    def __init__(self, url: str) -> None:
        self.messages: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=60))
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._stop = False
        self._thread.start()

    def _read(self, url: str) -> None:
        try:
            self._read_messages(url)
        except httpx.HTTPError:
            if not self._stop:
                raise

    def _read_messages(self, url: str) -> None:
        with self._client.stream("GET", url) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            kind, data = None, []
            for line in response.iter_lines():
                if self._stop:
                    return
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and kind:
                    self.messages.put((kind, json.loads("\n".join(data))))
                    kind, data = None, []

    def next_of(self, kind: str, timeout: float = 30) -> Any:
        while True:
            got_kind, data = self.messages.get(timeout=timeout)
            if got_kind == kind:
                return data

    def close(self) -> None:
        self._stop = True
        self._client.close()


@pytest.fixture
def stream_reader() -> Iterator[Callable[[str], StreamReader]]:
    readers: list[StreamReader] = []

    def open_stream(url: str) -> StreamReader:
        reader = StreamReader(url)
        readers.append(reader)
        return reader

    yield open_stream
    for reader in readers:
        reader.close()


def test_a_page_hears_of_events_written_by_another_process(
    web_instance: Any,
    live_server: Callable[..., Any],
    stream_reader: Callable[[str], StreamReader],
    no_hang: Callable[[float], AbstractContextManager[None]],
) -> None:
    server = live_server()
    reader = stream_reader(f"{server.url}/api/v1/stream")
    other = MetadataStore(web_instance.store.url)  # a worker's connection of its own
    try:
        with no_hang(60):
            reader.next_of("hello")
            run_id = _queued_run(other)
            other.store_events([_event(run_id, EventType.RUN_START)])
            while run_id not in reader.next_of("change")["run_ids"]:
                pass
    finally:
        other.dispose()


def test_a_runs_stream_sends_its_events_as_they_are_stored(
    web_instance: Any,
    live_server: Callable[..., Any],
    stream_reader: Callable[[str], StreamReader],
    no_hang: Callable[[float], AbstractContextManager[None]],
) -> None:
    server = live_server()
    other = MetadataStore(web_instance.store.url)
    try:
        run_id = _queued_run(other)
        other.store_events([_event(run_id, EventType.RUN_START)])
        with no_hang(60):
            reader = stream_reader(f"{server.url}/api/v1/stream?run_id={run_id}")
            first = reader.next_of("events")
            assert [e["event_type"] for e in first] == ["run_start"]
            assert reader.next_of("run")["status"] == "started"
            other.store_events(
                [
                    _event(run_id, EventType.STEP_START, node="a"),
                    _event(run_id, EventType.LOG, "hello from a", node="a"),
                ]
            )
            later = reader.next_of("events")
            assert [(e["event_type"], e["message"]) for e in later][-1] == ("log", "hello from a")
            assert later[0]["event_id"] > first[-1]["event_id"]  # never the same event twice
            other.store_events(
                [_event(run_id, EventType.STEP_SUCCESS, node="a"), _event(run_id, EventType.RUN_SUCCESS)]
            )
            while not (status := reader.next_of("run"))["finished"]:
                pass
            assert status["status"] == "success"
    finally:
        other.dispose()


def test_a_reconnecting_stream_continues_after_the_last_event_it_saw(
    web_instance: Any, live_server: Callable[..., Any], stream_reader: Callable[[str], StreamReader]
) -> None:
    server = live_server()
    store = web_instance.store
    run_id = _queued_run(store)
    store.store_events([_event(run_id, EventType.LOG, f"line {i}") for i in range(3)])
    last_seen = store.get_events(run_id)[1].id
    reader = stream_reader(f"{server.url}/api/v1/stream?run_id={run_id}&after={last_seen}")
    assert [e["message"] for e in reader.next_of("events")] == ["line 2"]


def test_one_watcher_serves_every_page(web_instance: Any) -> None:
    """Subscribers share the feed's one thread and coalesce what they have not read yet."""
    import asyncio

    feed = ChangeFeed(web_instance.store, interval=0.01)

    def watchers() -> int:
        return sum(t.name == "deras-web-change-feed" for t in threading.enumerate())

    before = watchers()

    async def scenario() -> None:
        feed.start(asyncio.get_running_loop())
        try:
            pages = [feed.subscribe() for _ in range(50)]
            assert watchers() == before + 1
            assert feed.subscriber_count == 50
            run_id = await asyncio.to_thread(_queued_run, web_instance.store)
            for i in range(3):
                events = [_event(run_id, EventType.LOG, str(i))]
                await asyncio.to_thread(web_instance.store.store_events, events)
            for page in pages:
                change = await page.next(timeout=30)
                assert change is not None
            pages[0].close()
            assert feed.subscriber_count == 49
        finally:
            feed.stop()

    asyncio.run(scenario())
    assert watchers() == before


def test_a_huge_runs_stream_starts_from_its_last_events(
    web_instance: Any,
    live_server: Callable[..., Any],
    stream_reader: Callable[[str], StreamReader],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deras._web import events_stream

    monkeypatch.setattr(events_stream, "INITIAL_EVENTS", 5)
    server = live_server()
    store = web_instance.store
    run_id = _queued_run(store)
    store.store_events([_event(run_id, EventType.LOG, f"line {i}") for i in range(12)])
    reader = stream_reader(f"{server.url}/api/v1/stream?run_id={run_id}")
    assert reader.next_of("hello")["older_events_left_out"] is True
    assert [e["message"] for e in reader.next_of("events")] == [f"line {i}" for i in range(7, 12)]
