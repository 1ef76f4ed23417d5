"""Where a user's definition was written, so errors can point at it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceInfo:
    file: str
    line: int
    function: str

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> SourceInfo:
        code = getattr(fn, "__code__", None)
        if code is None:
            return cls("<unknown>", 0, getattr(fn, "__name__", repr(fn)))
        return cls(code.co_filename, code.co_firstlineno, fn.__name__)

    def __str__(self) -> str:
        try:
            path = os.path.relpath(self.file)
        except ValueError:
            path = self.file
        if path.startswith(".."):
            path = self.file
        return f"function {self.function} in {path}:{self.line}"
