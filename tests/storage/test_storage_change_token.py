"""The change token: how an idle daemon notices, cheaply, that another process queued work."""

from __future__ import annotations

import time

from deras._core.records import BackfillRecord, RunRecord
from deras._core.status import BackfillStatus
from deras._storage import MetadataStore


def _changed_token(watcher: MetadataStore, old: int | None) -> int | None:
    """The token once it differs from ``old``: a Postgres notice arrives shortly after the
    commit that sends it, not with it (the bound only catches a hang)."""
    deadline = time.monotonic() + 5
    while (token := watcher.change_token()) == old and time.monotonic() < deadline:
        time.sleep(0.01)
    return token


def test_change_token_moves_when_another_connection_queues_runs(db_url: str) -> None:
    watcher, writer = MetadataStore(db_url), MetadataStore(db_url)
    try:
        before = watcher.change_token()
        assert before is not None
        assert watcher.change_token() == before  # nothing committed: unchanged
        writer.create_runs([RunRecord("r1", "assets:a")])
        after_runs = _changed_token(watcher, before)
        assert after_runs != before
        writer.backfills.create_backfill(
            BackfillRecord("b1", BackfillStatus.REQUESTED, {"kind": "assets"}, create_time=1.0), []
        )
        assert _changed_token(watcher, after_runs) != after_runs
    finally:
        watcher.dispose()
        writer.dispose()


def test_an_in_memory_store_has_no_change_token() -> None:
    store = MetadataStore.ephemeral()
    try:
        assert store.change_token() is None
    finally:
        store.dispose()
