"""The metadata store: runs, the event log and what is derived from it (SQLite or Postgres)."""

from .store import MetadataStore

__all__ = ["MetadataStore"]
