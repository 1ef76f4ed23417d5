"""Snapshots of definitions for the read model's tests, as a code server would send them."""

from __future__ import annotations

from typing import Any

from deras._snapshot.build import snapshot_of
from deras._snapshot.snapshot import LocationRef


def snapshot(definitions: Any, instance: Any = None) -> Any:
    """The ``CodeSnapshot`` of ``definitions`` (dynamic partitions counted from ``instance``)."""
    store = instance.dynamic_partitions_store if instance is not None else None
    return snapshot_of(definitions, LocationRef(file="defs.py"), dynamic_partitions_store=store)
