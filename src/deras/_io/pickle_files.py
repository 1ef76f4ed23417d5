"""The default IO manager: one pickle file per asset (and partition) under a base directory."""

from __future__ import annotations

import contextlib
import errno
import os
import pickle
from pathlib import Path
from typing import Any

from .._defs.io_manager import InputContext, IOManager, OutputContext


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
        write_atomically(path, data, parent / f".{path.name}.{os.getpid()}.tmp")


def write_atomically(path: Path | str, data: bytes, tmp: Path | str) -> None:
    """Write ``data`` to ``tmp`` and rename it over ``path``: readers see all or nothing.

    Raw ``os.open``/``os.write`` rather than ``open()``: a buffered file object costs extra
    system calls per file, which a run writing a thousand small values pays a thousand times.
    A failed write removes ``tmp``: a half-written value left behind on a full disk would make
    the next, small write fail too. A full disk or a file-size limit is said in plain words.
    """
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        explained = _explained(err, path, len(data))
        if explained is err:
            raise
        raise explained from err


def _explained(err: OSError, path: Path | str, size: int) -> OSError:
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        what = "disk full (no space left on device)" if err.errno == errno.ENOSPC else "disk quota exceeded"
        return OSError(
            err.errno, f"{what}: cannot write {size:,} bytes to {path}. Fix: free space on its filesystem"
        )
    if err.errno == errno.EFBIG:
        return OSError(
            err.errno,
            f"file too large: {size:,} bytes to {path} exceed the file size limit (of the filesystem, "
            "or the process's `ulimit -f`)",
        )
    return err
