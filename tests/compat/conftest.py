"""Compat is process-wide (a finder on sys.meta_path): every test here ends with it off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deras._compat.finder import use_compat


@pytest.fixture(autouse=True)
def compat_off_afterwards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("DERAS_COMPAT", raising=False)
    yield
    use_compat(frozenset())
