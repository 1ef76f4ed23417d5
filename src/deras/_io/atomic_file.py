"""Writing a value's file atomically, durably before the step goes on, and cheaply.

A value is written to a file of its own and swapped in for its path: readers see the old value
or the new one, never half of either, and a reader that has the old one open keeps reading it.
What costs is not the data but the inodes: creating a file takes 150-300 µs on an ordinary ext4
volume, and replacing one frees the old file's inode and blocks, as much again — ten times the
write itself, which a run of a thousand small values would pay on its critical path. So a folder
of values keeps :class:`SpareFiles`: a daemon thread makes empty files ahead of need and removes
the replaced ones afterwards. A write fills a spare and exchanges it with the old file in one
``renameat2(RENAME_EXCHANGE)`` (Linux); the old file, now at the spare's name, is left to the
thread. Without a spare, or where the exchange is not supported, a write makes a temporary file
and renames it over the path, as it would without any of this.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import stat
import threading
import weakref
from pathlib import Path
from typing import Any

SPARE_FOLDER = ".spare"  # inside a folder of values; a name no asset key produces as a file


class SpareFiles:
    """Empty files in ``folder``, made ahead of need (``keep`` at most), and files to remove.

    One daemon thread does both, off the steps' critical path. File names carry the process id:
    a process that dies leaves its files, which the next process to use the folder removes.
    """

    def __init__(self, folder: Path, keep: int = 64) -> None:
        self.folder = folder
        self.keep = keep
        self._ready: list[str] = []
        self._retired: list[str] = []
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._count = 0
        self._closed = False  # the folder cannot hold spares (read-only, gone), or the process exits
        _pools.add(self)

    def take(self) -> str | None:
        """The path of an empty file to write a value into, or None if none is ready."""
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._work, name="deras-spare-files", daemon=True)
                self._thread.start()
            spare = self._ready.pop() if self._ready else None
            if len(self._ready) < self.keep:
                self._wanted.notify()
            return spare

    def retire(self, path: str) -> None:
        """Have ``path`` (a replaced value) removed by the thread."""
        with self._lock:
            self._retired.append(path)
            self._wanted.notify()

    def _work(self) -> None:
        prefix = f"{os.getpid()}-"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _remove_orphans(self.folder)
        except OSError:
            self._close()
            return
        while True:
            with self._lock:
                while not self._retired and len(self._ready) >= self.keep and not self._closed:
                    self._wanted.wait()
                if self._closed:
                    return
                retired, self._retired = self._retired, []
                self._count += 1
                name = str(self.folder / f"{prefix}{self._count}")
            _unlink_all(retired)
            try:
                os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            except OSError:  # a full disk or a removed folder: writes make their own files
                self._close()
                return
            with self._lock:
                if self._closed:  # discarded meanwhile
                    _unlink_all([name])
                    return
                self._ready.append(name)

    def _close(self) -> list[str]:
        with self._lock:
            self._closed = True
            self._wanted.notify()
            left, self._ready, self._retired = self._ready + self._retired, [], []
        return left

    def discard(self) -> None:
        """Remove the spares not taken and the files not yet removed; make no more (at exit)."""
        left = self._close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)  # let it finish the files it is removing
        _unlink_all(left + self._close())

    def _forget(self) -> None:
        # In a forked child: the parent's files are the parent's, and its thread is not here.
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._ready, self._retired = [], []
        self._thread = None


_pools: weakref.WeakSet[SpareFiles] = weakref.WeakSet()


def _unlink_all(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _remove_orphans(folder: Path) -> None:
    """Files of processes that are gone (their names start with their pid)."""
    for entry in os.scandir(folder):
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _discard_all() -> None:
    for pool in list(_pools):
        pool.discard()


def _forget_all() -> None:
    for pool in list(_pools):
        pool._forget()


atexit.register(_discard_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_all)


def write_atomically(path: Path | str, data: bytes, spares: SpareFiles | None = None) -> None:
    """Write ``data`` to a file of its own and swap it in for ``path``: all or nothing.

    A spare from ``spares`` is used when one is ready; otherwise (or if that fails) a temporary
    file beside ``path``. Raw ``os.open``/``os.write`` rather than ``open()``: a buffered file
    object costs extra system calls per file. A failed write removes its file: a half-written
    value left behind on a full disk would make the next, small write fail too. A full disk or
    a file-size limit is said in plain words.
    """
    spare = spares.take() if spares is not None else None
    if spare is not None:
        assert spares is not None
        try:
            _fill(os.open(spare, os.O_WRONLY), data)
            if _exchange(spare, str(path)):
                spares.retire(spare)  # the old value, now at the spare's name
            else:
                os.rename(spare, path)
            return
        except OSError:  # the same again without the spare, which names what went wrong
            with contextlib.suppress(OSError):
                os.unlink(spare)
    tmp = f"{os.path.dirname(path)}/.{os.path.basename(path)}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        _fill(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), data)
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        explained = _explained(err, path, len(data))
        if explained is err:
            raise
        raise explained from err


def _fill(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Any = None  # libc's renameat2, or False where there is none


def _exchange(a: str, b: str) -> bool:
    """Swap the files at ``a`` and ``b`` atomically; False if ``b`` is not a regular file (a
    folder must not be swapped away) or this system cannot (then nothing happened)."""
    global _renameat2
    if _renameat2 is None:
        _renameat2 = _load_renameat2()
    if _renameat2 is False:
        return False
    try:
        if not stat.S_ISREG(os.lstat(b).st_mode):
            return False
    except FileNotFoundError:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # this filesystem cannot
        _renameat2 = False
    if code in (errno.ENOENT, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), b)


def _load_renameat2() -> Any:
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library older than glibc 2.28
        return False
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


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
