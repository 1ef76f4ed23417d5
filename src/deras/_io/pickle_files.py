"""The default IO manager: one pickle file per asset (and partition) under a base directory."""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path
from typing import Any

from .._defs.io_manager import InputContext, IOManager, OutputContext
from .atomic_file import SPARE_FOLDER, SpareFiles, write_atomically


class PickleFileIOManager(IOManager):
    """Pickles values to ``<base_dir>/<asset key path>[/<partition>]``.

    Writes are atomic (temp file + rename) so a reader never sees half a value. A value for a
    range of partitions (a single-run backfill) that is a dict keyed by partition is split
    into one file per partition; any other value is stored once and linked per partition.
    """

    _deras_exact_roundtrip = True  # pickled values round-trip: in-process runs may cache them

    def __init__(self, base_dir: str | os.PathLike[str]) -> None:
        self.base_dir = Path(base_dir)
        self._made: set[Path] = set()
        self._spares = SpareFiles(self.base_dir / SPARE_FOLDER)

    def path_for(self, asset_key: Any, partition_key: str | None) -> Path:
        path = self.base_dir.joinpath(*asset_key.path)
        return path / partition_key if partition_key is not None else path

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        keys = context.partition_keys or ([context.partition_key] if context.partition_key else [])
        if len(keys) <= 1:
            path = self.path_for(context.asset_key, keys[0] if keys else None)
            data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)  # here: a pickling error is the node's
            self._write(path, data)
            context.add_output_metadata({"path": str(path)})
            return
        if isinstance(obj, dict) and set(obj) <= set(keys):
            for key, value in obj.items():
                self._write(
                    self.path_for(context.asset_key, key), pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
                )
            return
        first = self.path_for(context.asset_key, keys[0])
        self._write(first, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
        for key in keys[1:]:
            target = self.path_for(context.asset_key, key)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.lnk")
            try:
                os.link(first, tmp)
                os.replace(tmp, target)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    def load_input(self, context: InputContext) -> Any:
        path = self.path_for(context.asset_key, context.partition_key)
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            part = f" partition '{context.partition_key}'" if context.partition_key else ""
            raise FileNotFoundError(
                f"asset '{context.asset_key}'{part} has no stored value at {path}. "
                f"Fix: materialize it first (deras materialize --select {context.asset_key}"
                + (f" --partition {context.partition_key}" if context.partition_key else "")
                + ")."
            ) from None

    def _write(self, path: Path, data: bytes) -> None:
        parent = path.parent
        if parent not in self._made:
            parent.mkdir(parents=True, exist_ok=True)
            self._made.add(parent)
        write_atomically(path, data, self._spares)
