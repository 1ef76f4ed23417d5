"""What execution uses of the parts around it, as types: the instance, its settings, event sinks.

The instance (``_instance.DerasInstance``) sits above execution, so execution names it only
through ``InstanceLike``; the metadata store sits below (``_storage.MetadataStore``) and is named
as it is. ``tests/test_layers.py`` keeps the layers from importing upwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .._core.events import EventRecord
from .._core.records import AttemptRecord, RunRecord

if TYPE_CHECKING:  # types only: the store and IO managers load when a run needs them
    from .._defs.io_manager import IOManager
    from .._storage.store import MetadataStore
    from .xcom import XComStore


class EventSink(Protocol):
    """Where an ``EventWriter`` stores its batches: the metadata store, a pool worker's pipe,
    or a Celery step's claim."""

    def write(self, *, runs: Sequence[RunRecord] = (), events: Sequence[EventRecord] = ()) -> None: ...


class InstanceSettings(Protocol):
    """An instance's home and its deras.yaml."""

    @property
    def home(self) -> Path: ...

    @property
    def config(self) -> Mapping[str, Any]: ...


class RunMonitoring(Protocol):
    @property
    def heartbeat_interval_seconds(self) -> float: ...


class RunSettings(Protocol):
    """What a run reads of deras.yaml's validated run settings (``DaemonSettings``)."""

    @property
    def pools(self) -> Mapping[str, int]: ...

    @property
    def run_monitoring(self) -> RunMonitoring: ...


class InstanceLike(Protocol):
    """What a run uses of its instance (``DerasInstance``)."""

    @property
    def store(self) -> MetadataStore: ...

    @property
    def is_ephemeral(self) -> bool: ...

    @property
    def settings(self) -> InstanceSettings | None: ...

    @property
    def home(self) -> Path | None: ...

    @property
    def daemon_settings(self) -> RunSettings: ...

    @property
    def dynamic_partitions_store(self) -> MetadataStore: ...

    @property
    def default_io_manager(self) -> IOManager: ...

    @property
    def xcom_store(self) -> XComStore: ...

    def get_run(self, run_id: str) -> RunRecord | None: ...

    def get_attempts(self, run_id: str, node: str | None = None) -> list[AttemptRecord]: ...

    def use_temporary_storage(self) -> None: ...

    def after_fork(self) -> None: ...
