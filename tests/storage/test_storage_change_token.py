"""The change token: how the daemon notices, cheaply, that another process committed."""

from __future__ import annotations

from deras._core.records import RunRecord
from deras._storage import MetadataStore


def test_change_token_moves_when_another_connection_commits(db_url: str) -> None:
    watcher, writer = MetadataStore(db_url), MetadataStore(db_url)
    try:
        before = watcher.change_token()
        if db_url.startswith("postgresql"):
            assert before is None  # no cheap equivalent: the daemon polls on its interval
            return
        assert watcher.change_token() == before  # nothing committed: unchanged
        writer.create_runs([RunRecord("r1", "assets:a")])
        assert watcher.change_token() != before
    finally:
        watcher.dispose()
        writer.dispose()


def test_an_in_memory_store_has_no_change_token() -> None:
    store = MetadataStore.ephemeral()
    try:
        assert store.change_token() is None
    finally:
        store.dispose()
