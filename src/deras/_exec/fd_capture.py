"""Capturing what an attempt writes to file descriptors 1 and 2: prints, ``os.write``, children.

While an :class:`AttemptCapture` is entered, fds 1 and 2 of this process point at two unnamed
temporary files, so whatever writes there — ``print``, ``sys.stdout.buffer``, ``os.write(1, ...)``,
a ``subprocess.run`` child, a C library — lands in them; on exit the fds are restored and the
files read. ``sys.stdout`` and ``sys.stderr`` are meanwhile real text streams on fds 1 and 2
(``.buffer``, ``.fileno()``) whose encoder never raises: a lone surrogate, as in a file name
``os.listdir`` could not decode, is written backslash-escaped. The captured bytes are decoded
the same way, so the text is always valid.

Files, not pipes: nothing waits for an end of file, so a child that daemonizes with the fd open
cannot hang the run, and no thread is needed per attempt. The files are reused (truncated)
from one attempt to the next; a nested run (a node calling ``materialize``) takes another pair.
Capture is per attempt and shares no "current node", but fds are per process: two attempts
running in threads of one process at once would mix their output.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
import tempfile
import threading
from collections.abc import Set
from types import TracebackType
from typing import TextIO

from .secret_mask import MaskedStream

ECHO_INTERVAL_SECONDS = 0.05  # how often echoed output is passed on to the terminal
_ERRORS = "backslashreplace"

_spare: list[tuple[int, int]] = []  # (stdout file, stderr file) pairs not in use
_spare_lock = threading.Lock()
_streams: tuple[TextIO, TextIO] | None = None


class RunFds:
    """Copies of fds 1 and 2 as a run found them: what each of its attempts' captures restores.

    Made once per run, so an attempt costs six system calls (two redirects, two restores, two
    sizes) rather than ten.
    """

    def __init__(self) -> None:
        self.fds: tuple[int | None, int | None] = (_dup(1), _dup(2))

    def close(self) -> None:
        for fd in self.fds:
            if fd is not None:
                os.close(fd)
        self.fds = (None, None)


class AttemptCapture:
    """Fds 1 and 2 (and ``sys.stdout``/``sys.stderr``) captured for the ``with`` block.

    After the block, :attr:`stdout` and :attr:`stderr` hold what was written. With ``echo``,
    the output is also passed on to the original fds as it comes, every secret in ``secrets``
    masked. ``run_fds`` are the fds to restore (else they are copied and closed here).
    """

    def __init__(
        self, *, echo: bool = False, secrets: Set[str] = frozenset(), run_fds: RunFds | None = None
    ) -> None:
        self._echo = echo
        self._secrets = secrets
        self._run_fds = run_fds
        self.stdout = ""
        self.stderr = ""
        self._files: tuple[int, int] | None = None
        self._saved_fds: tuple[int | None, int | None] = (None, None)
        self._saved_streams: tuple[TextIO, TextIO] | None = None
        self._tail: _Tail | None = None

    def __enter__(self) -> AttemptCapture:
        _flush_python_streams()
        files = self._files = _take_files()
        self._saved_fds = self._run_fds.fds if self._run_fds is not None else (_dup(1), _dup(2))
        os.dup2(files[0], 1)
        os.dup2(files[1], 2)
        self._saved_streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _text_streams()
        if self._echo:
            targets = [fd if fd is not None else -1 for fd in self._saved_fds]
            self._tail = _Tail(files, (targets[0], targets[1]), self._secrets)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _flush_python_streams()
        assert self._files is not None and self._saved_streams is not None
        if self._tail is not None:  # before the fds it echoes to are closed
            self._tail.stop()
        sys.stdout, sys.stderr = self._saved_streams
        for fd, saved in zip((1, 2), self._saved_fds, strict=True):
            if saved is None:  # the fd was closed before the attempt: closed again
                os.close(fd)
            else:
                os.dup2(saved, fd)
                if self._run_fds is None:
                    os.close(saved)
        self.stdout, self.stderr = (_read_and_clear(fd) for fd in self._files)
        _give_back(self._files)
        self._files = None


def _take_files() -> tuple[int, int]:
    with _spare_lock:
        if _spare:
            return _spare.pop()
    return _temp_file(), _temp_file()


def _give_back(files: tuple[int, int]) -> None:
    with _spare_lock:
        _spare.append(files)


def _temp_file() -> int:
    fd, path = tempfile.mkstemp(prefix="deras-output-")
    try:
        # Append mode: a child's writes and ours never overwrite each other, whatever offsets say.
        return os.open(path, os.O_RDWR | os.O_APPEND)
    finally:
        os.close(fd)
        os.unlink(path)  # unnamed: nothing to clean up, whatever ends this process


def _forget_files() -> None:
    # A forked child must not share (and truncate) its parent's files: it makes its own. The
    # lock is new too: a thread of the parent may have held it at the fork.
    global _spare_lock
    _spare_lock = threading.Lock()
    for pair in _spare:
        for fd in pair:
            os.close(fd)
    _spare.clear()


if hasattr(os, "register_at_fork"):  # POSIX: there is no fork elsewhere
    os.register_at_fork(after_in_child=_forget_files)


def _read_and_clear(fd: int) -> str:
    size = os.lseek(fd, 0, os.SEEK_END)  # cheaper than fstat on the hot path
    if not size:
        return ""
    data = os.pread(fd, size, 0)
    os.ftruncate(fd, 0)
    return data.decode("utf-8", _ERRORS)


def _dup(fd: int) -> int | None:
    try:
        return os.dup(fd)
    except OSError:  # not open in this process
        return None


def _text_streams() -> tuple[TextIO, TextIO]:
    """``sys.stdout``/``sys.stderr`` for attempts: made once, they write to whatever fds 1/2 are."""
    global _streams
    if _streams is None or _streams[0].closed or _streams[1].closed:  # a node may close sys.stdout
        _streams = (
            _fd_stream(1, line_buffering=True),
            _fd_stream(2, line_buffering=False, write_through=True),
        )
    return _streams


def _fd_stream(fd: int, *, line_buffering: bool, write_through: bool = False) -> TextIO:
    # No binary buffer: ``sys.stdout.buffer.write`` reaches the fd at once, in order with
    # ``os.write`` and children (the text layer still gathers a line into one write).
    return io.TextIOWrapper(
        io.FileIO(fd, "w", closefd=False),
        encoding="utf-8",
        errors=_ERRORS,
        line_buffering=line_buffering,
        write_through=write_through,
    )


def _flush_python_streams() -> None:
    """Python-buffered text reaches its fd before the fd changes (ours, and the originals)."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or its fd is gone: nothing to keep
            continue


def catch_up_echo() -> None:
    """Echo now what the echoed captures received so far (a debugger does before its prompt)."""
    _flush_python_streams()
    for tail in list(_echoing):
        tail.pass_on()


_echoing: set[_Tail] = set()


class _Tail:
    """Passes what the capture files receive on to the terminal's fds, masked, as it comes."""

    def __init__(self, files: tuple[int, int], targets: tuple[int, int], secrets: Set[str]) -> None:
        self._sources = list(zip(files, targets, strict=True))
        self._offsets = [0, 0]
        self._decoders = [codecs.getincrementaldecoder("utf-8")(_ERRORS) for _ in files]
        self._masks = [MaskedStream(secrets) for _ in files]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="deras-echo", daemon=True)
        self._thread.start()
        _echoing.add(self)

    def stop(self) -> None:
        _echoing.discard(self)
        self._stop.set()
        self._thread.join()
        self.pass_on(final=True)

    def _run(self) -> None:
        while not self._stop.wait(ECHO_INTERVAL_SECONDS):
            self.pass_on()

    def pass_on(self, *, final: bool = False) -> None:
        with self._lock:
            self._pass_on(final)

    def _pass_on(self, final: bool) -> None:
        for i, (source, target) in enumerate(self._sources):
            size, offset = os.fstat(source).st_size, self._offsets[i]
            data = os.pread(source, size - offset, offset) if size > offset else b""
            self._offsets[i] += len(data)
            text = self._masks[i].feed(self._decoders[i].decode(data, final=final))
            if final:
                text += self._masks[i].finish()
            if text and target >= 0:
                _write_all(target, text.encode("utf-8", _ERRORS))


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:  # the terminal went away: the output is still stored
        pass
