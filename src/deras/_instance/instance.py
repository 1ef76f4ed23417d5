"""``DerasInstance``: a deras home — metadata database, local storage — and its Python API."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._core.errors import DerasError
from .._core.events import EventRecord
from .._core.keys import AssetKey
from .._core.records import AttemptRecord, CheckResultRecord, MaterializationRecord, RunRecord
from .._core.status import RunStatus
from .logs import LOGGED_EVENT_TYPES, render_logs
from .partition_status import PartitionStatus
from .settings import Settings, database_retry_seconds

if TYPE_CHECKING:  # loaded on first use, so `import deras` stays light
    from .._exec.xcom import XComStore
    from .._storage.store import MetadataStore
    from .daemon_settings import DaemonSettings

_inherited: list[Any] = []  # a forked worker's parent's stores: referenced, never used or closed


class DerasInstance:
    """Where runs, events and asset values are kept.

    ``DerasInstance.get()`` opens ``$DERAS_HOME`` (default ``./.deras``): SQLite at
    ``$DERAS_HOME/deras.db`` unless ``DERAS_DATABASE_URL`` is set, values under
    ``$DERAS_HOME/storage``. ``DerasInstance.ephemeral()`` keeps everything in memory.

    >>> instance = DerasInstance.ephemeral()
    >>> instance.get_runs()
    []
    """

    def __init__(self, settings: Settings | None, *, ephemeral: bool = False) -> None:
        self.settings = settings
        self.is_ephemeral = ephemeral
        self._store: MetadataStore | None = None
        self._io_manager: Any = None
        self._xcom_store: XComStore | None = None
        self._daemon_settings: DaemonSettings | None = None
        self._temporary_storage: Any = None  # a TemporaryDirectory for an in-memory instance's values

    @classmethod
    def get(cls, home: str | os.PathLike[str] | None = None) -> DerasInstance:
        return cls(Settings.from_env(home))

    @classmethod
    def ephemeral(cls) -> DerasInstance:
        return cls(None, ephemeral=True)

    # -- parts, created on first use so `import deras` stays light --------------------------
    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            from .._storage import MetadataStore

            if self.settings is None:
                self._store = MetadataStore.ephemeral()
            else:
                if self.settings.database_url.startswith("sqlite:///"):
                    self.settings.home.mkdir(parents=True, exist_ok=True)
                self._store = _open_store(self.settings.database_url, database_retry_seconds(self.settings))
        return self._store

    @property
    def home(self) -> Path | None:
        return self.settings.home if self.settings else None

    @property
    def storage_dir(self) -> Path | None:
        if self.settings is not None:
            return self.settings.home / "storage"
        if self._temporary_storage is not None:
            return Path(self._temporary_storage.name)
        return None

    def use_temporary_storage(self) -> None:
        """Keep values (and XComs) in a temporary folder, removed with this instance: what an
        in-memory instance needs when steps run in other processes."""
        if self.storage_dir is not None:
            return
        import tempfile

        self._temporary_storage = tempfile.TemporaryDirectory(prefix="deras-values-")
        self._io_manager = self._xcom_store = None

    def after_fork(self) -> None:
        """In a forked worker: open a connection of its own to a stored database when it needs
        one. The parent's connections are never touched (nor closed, which would end them for
        the parent too): they are kept referenced until the worker exits."""
        if self._store is not None and not self.is_ephemeral:
            _inherited.append(self._store)
            self._store = None

    @property
    def default_io_manager(self) -> Any:
        if self._io_manager is None:
            if self.storage_dir is None:
                from .._defs.io_manager import InMemoryIOManager

                self._io_manager = InMemoryIOManager()
            else:
                from .._io.pickle_files import PickleFileIOManager

                self._io_manager = PickleFileIOManager(self.storage_dir)
        return self._io_manager

    @property
    def xcom_store(self) -> XComStore:
        """Where task return values and pushed XComs live (files under storage, or memory)."""
        if self._xcom_store is None:
            from .._exec.xcom import XComStore

            self._xcom_store = XComStore(self.storage_dir / "_xcom" if self.storage_dir else None)
        return self._xcom_store

    @property
    def daemon_settings(self) -> DaemonSettings:
        """Run queue, pools, retries and daemon settings from deras.yaml (validated once)."""
        if self._daemon_settings is None:
            from .daemon_settings import DaemonSettings

            config = self.settings.config if self.settings else {}
            where = str(self.settings.home / "deras.yaml") if self.settings else "settings"
            self._daemon_settings = DaemonSettings.from_config(config, where)
        return self._daemon_settings

    @property
    def dynamic_partitions_store(self) -> MetadataStore:
        return self.store

    def dispose(self) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None
        if self._temporary_storage is not None:
            self._temporary_storage.cleanup()
            self._temporary_storage = None

    # -- runs and events ----------------------------------------------------------------
    def get_run(self, run_id: str) -> RunRecord | None:
        return self.store.get_run(run_id)

    def get_runs(
        self,
        limit: int | None = None,
        status: RunStatus | Sequence[RunStatus] | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        dag_id: str | None = None,
        before: str | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first; a DAG's by logical date with ``dag_id``; ``before`` pages them.

        See :meth:`MetadataStore.get_runs`.
        """
        return self.store.get_runs(limit=limit, status=status, tags=tags, dag_id=dag_id, before=before)

    def get_events(self, run_id: str, node: str | None = None) -> list[EventRecord]:
        return self.store.get_events(run_id, node=node)

    def get_logs(
        self, run_id: str, node: str | None = None, *, limit: int | None = None, offset: int = 0
    ) -> str:
        """The log of the run (or of one node), as text: every record, or a page of them.

        ``limit`` records from the ``offset``-th (0 is the first); a negative ``offset`` counts
        from the end, so ``offset=-20`` is the last 20 records.
        """
        if self.get_run(run_id) is None:
            raise DerasError(f"no run with id {run_id}")
        if limit is not None and limit < 0:
            raise DerasError(f"limit={limit}: give a number of records >= 0, or None for all")
        read = functools.partial(self.store.get_events, run_id, node=node, event_types=LOGGED_EVENT_TYPES)
        if offset >= 0:
            events = read(limit=limit, offset=offset)
        else:  # from the end: the newest -offset records, oldest first
            events = read(limit=-offset, newest_first=True)[::-1][:limit]
        return render_logs(events)

    def get_attempts(self, run_id: str, node: str | None = None) -> list[AttemptRecord]:
        return self.store.get_attempts(run_id, node)

    # -- assets -----------------------------------------------------------------------------
    def get_latest_materialization(
        self, asset_key: AssetKey | str, partition: str | None = None
    ) -> MaterializationRecord | None:
        return self.store.get_latest_materialization(str(AssetKey.coerce(asset_key)), partition)

    def get_materializations(
        self, asset_key: AssetKey | str, limit: int | None = None
    ) -> list[MaterializationRecord]:
        return self.store.get_materializations(str(AssetKey.coerce(asset_key)), limit)

    def get_check_results(
        self, asset_key: AssetKey | str | None = None, run_id: str | None = None
    ) -> list[CheckResultRecord]:
        key = str(AssetKey.coerce(asset_key)) if asset_key is not None else None
        return self.store.get_check_results(asset_key=key, run_id=run_id)

    def get_partition_status(self, asset_key: AssetKey | str, partitions_def: Any = None) -> PartitionStatus:
        """Materialized / failed / in-progress partitions of an asset, as ranges.

        Give ``partitions_def`` to count missing partitions and list keys.
        """
        key = str(AssetKey.coerce(asset_key))
        def_id, ranges = self.store.get_partition_status(key)
        total = None
        if partitions_def is not None:
            if def_id is not None and def_id != partitions_def.index_space_id:
                ranges = {}  # recorded under another partitions definition: indices mean other keys
            # Only partitions that exist now count: the definition may have shrunk since.
            current = partitions_def.all_index_ranges(dynamic_partitions_store=self.store)
            ranges = {state: r.intersection(current) for state, r in ranges.items()}
            total = partitions_def.get_num_partitions(dynamic_partitions_store=self.store)
        return PartitionStatus.build(key, ranges, partitions_def, total, self.store)

    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        self.store.add_dynamic_partitions(name, list(keys))

    def get_dynamic_partitions(self, name: str) -> list[str]:
        return self.store.get_dynamic_partitions(name)

    def delete_dynamic_partition(self, name: str, key: str) -> None:
        self.store.delete_dynamic_partition(name, key)

    # -- re-execution -------------------------------------------------------------------------
    def reexecute(
        self, run_id: str, from_failure: bool = True, definitions: Any = None, **kwargs: Any
    ) -> Any:
        """Run a past run again; with ``from_failure`` only the nodes that did not succeed.

        Succeeded nodes are not run again: their stored outputs are loaded by the IO managers.
        ``definitions`` default to loading the run's recorded code location.
        """
        from .._exec.reexecute import reexecute_run

        return reexecute_run(self, run_id, from_failure=from_failure, definitions=definitions, **kwargs)

    # -- backfills and the run queue -------------------------------------------------------
    def launch_backfill(
        self,
        target: Any,
        partition_keys: Sequence[str] | None = None,
        partition_range: tuple[str, str] | None = None,
        *,
        definitions: Any = None,
        code_location: dict[str, str] | str | None = None,
        tags: Mapping[str, str] | None = None,
        run_config: Mapping[str, Any] | None = None,
    ) -> str:
        """Store a backfill of ``target`` (a job or DAG, its name, or an asset selection) over
        ``partition_keys`` or ``partition_range=(first, last)`` (DAGs: logical dates); the
        daemon queues its runs. Returns the backfill id.

        ``code_location`` (``{"file": ...}``, ``{"module": ...}``, or a string: a path ending in
        ``.py`` is a file, anything else a module) is how workers load the code; it defaults to
        deras.yaml's ``code_location``, and ``definitions`` to loading it.
        """
        from .backfills import launch_backfill

        definitions, location = self._code(definitions, code_location)
        return launch_backfill(
            self,
            definitions,
            location,
            target,
            partition_keys=partition_keys,
            partition_range=partition_range,
            tags=tags,
            run_config=run_config,
        )

    def get_backfill(self, backfill_id: str) -> Any:
        """The backfill (``.status``, ``.partition_status``, ``.counts``, ``.run_ids``) or None."""
        from .backfills import BackfillView

        record = self.store.backfills.get_backfill(backfill_id)
        if record is None:
            return None
        return BackfillView(record, self.store.backfills.get_units(backfill_id))

    def get_backfills(self, limit: int | None = None, status: Any = None) -> list[Any]:
        return self.store.backfills.get_backfills(limit=limit, status=status)

    def cancel_backfill(self, backfill_id: str) -> None:
        """Ask the daemon to cancel the backfill: no new runs, queued ones canceled, running ones
        asked to stop."""
        from .._core.status import BackfillStatus

        if self.store.backfills.get_backfill(backfill_id) is None:
            raise DerasError(f"no backfill with id {backfill_id}")
        import time

        self.store.backfills.set_status(
            backfill_id, BackfillStatus.CANCELING, now=time.time(), expected=[BackfillStatus.REQUESTED]
        )

    def retry_failed_backfill(
        self, backfill_id: str, *, definitions: Any = None, code_location: dict[str, str] | None = None
    ) -> str:
        """A new backfill of the same target over the partitions that failed or were skipped."""
        from .backfills import launch_backfill

        view = self.get_backfill(backfill_id)
        if view is None:
            raise DerasError(f"no backfill with id {backfill_id}")
        if not view.status.is_finished:
            raise DerasError(
                f"backfill {backfill_id} is {view.status}; retry its failures once it has finished"
            )
        failed = [k for k, s in view.partition_status.items() if s in ("failure", "skipped", "canceled")]
        if not failed:
            raise DerasError(f"backfill {backfill_id} has no failed partitions")
        definitions, location = self._code(definitions, code_location or view.record.code_location)
        target = view.record.target
        ref = target.get("dag_id") or target.get("name") or target["node_ids"]
        return launch_backfill(
            self,
            definitions,
            location,
            ref,
            partition_keys=failed,
            tags=view.record.tags,
            run_config=view.record.run_config,
            parent_backfill_id=backfill_id,
        )

    def cancel_run(self, run_id: str) -> Any:
        """Cancel a run: a queued one at once, a running one between its nodes. Returns its status.

        A running run whose process is gone (killed, crashed) ends canceled at once, its pool
        slots freed: nobody is left to stop it between nodes. So does a running run that
        recorded no process at all (started by a deras that did not record owners).
        """
        import time

        from .._exec.run_owner import DeadOwner, dead_owner

        now = time.time()
        queue = self.store.run_queue
        status = queue.cancel(run_id, now)
        if status is None:
            raise DerasError(f"no run with id {run_id}")
        run = self.get_run(run_id) if status == RunStatus.CANCELING else None
        if run is not None:
            dead = dead_owner(run, now, self.daemon_settings.run_monitoring.heartbeat_timeout_seconds)
            if dead is None and run.worker is None and run.heartbeat is None:
                why = "the run recorded no process executing it (an older deras started it)"
                dead = DeadOwner(f"{why}: none would hear the cancel", float("inf"))
            message = f"canceled: {dead.message}" if dead is not None else ""
            if dead is not None and queue.fail_stale_run(run_id, dead.stale_before, message, now, run.worker):
                return RunStatus.CANCELED
        return status

    def _code(
        self, definitions: Any, location: dict[str, str] | str | None
    ) -> tuple[Any, dict[str, str] | None]:
        location = _code_location_dict(location)
        if location is None and self.settings is not None:
            configured = self.settings.config.get("code_location")
            if isinstance(configured, dict):
                from .._defs.loader import configured_location

                location = configured_location(configured, self.settings.home)
        if definitions is None:
            if location is None:
                raise DerasError(
                    "no code location: pass definitions= and code_location=, or set "
                    "code_location in deras.yaml"
                )
            from .._defs.loader import load_definitions

            definitions = load_definitions(**location).definitions
        return definitions, location

    def __repr__(self) -> str:
        where = "ephemeral" if self.settings is None else str(self.settings.home)
        return f"<DerasInstance {where}>"


def _code_location_dict(location: dict[str, str] | str | None) -> dict[str, str] | None:
    """``"defs.py"`` means ``{"file": "defs.py"}`` and ``"pkg.defs"`` ``{"module": "pkg.defs"}``."""
    if location is None or isinstance(location, dict):
        return location
    if not isinstance(location, str):
        raise DerasError(
            f"code_location must be {{'file': ...}}, {{'module': ...}}, {{'dags_folder': ...}} or a string, "
            f"not {type(location).__name__}"
        )
    if location.endswith(".py") or "/" in location:
        return {"file": str(Path(location).resolve())}
    return {"module": location}


def _open_store(url: str, retry_seconds: float | None) -> Any:
    """Open the metadata store; a bad URL or an unreachable server is a one-line error."""
    from sqlalchemy.exc import SQLAlchemyError

    from .._storage import MetadataStore

    try:
        if retry_seconds is None:
            return MetadataStore(url)
        return MetadataStore(url, retry_seconds=retry_seconds)
    except DerasError:
        raise
    except (SQLAlchemyError, ValueError, ImportError, OSError) as err:
        from sqlalchemy.engine import make_url

        try:
            shown = make_url(url).render_as_string(hide_password=True)
        except Exception:
            shown = "<unparseable URL>"
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        fix = (
            "check DERAS_DATABASE_URL (sqlite:///path/to/deras.db) and the file's permissions"
            if shown.startswith("sqlite")
            else "check DERAS_DATABASE_URL (postgresql+psycopg://user@host/db) and that the server is running"
        )
        raise DerasError(f"cannot open the metadata database at {shown}: {first_line}. Fix: {fix}.") from err


# Dagster code names the instance ``DagsterInstance`` (``.ephemeral()``, ``.get()``): the same class.
DagsterInstance = DerasInstance
