"""Snapshots of definitions for the read model's tests (``deras._snapshot``, branch ``code``)."""

from __future__ import annotations

from typing import Any

import pytest


def snapshot(definitions: Any, instance: Any = None) -> Any:
    """The ``CodeSnapshot`` of ``definitions``; skips the test until ``deras._snapshot`` exists."""
    build = pytest.importorskip("deras._snapshot.build", reason="deras._snapshot (branch code) not merged")
    from deras._snapshot.snapshot import LocationRef

    store = instance.dynamic_partitions_store if instance is not None else None
    return build.snapshot_of(definitions, LocationRef(file="defs.py"), dynamic_partitions_store=store)
