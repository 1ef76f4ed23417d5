"""A node's stored traceback starts at the user's code; deras's own failure keeps its frames."""

from __future__ import annotations

import pytest

import deras as dg
from deras._core.events import EventType
from deras._core.user_traceback import format_user_traceback


def _helper_that_fails() -> None:
    raise ValueError("the vendor file is empty")


@dg.asset
def vendor_rows() -> int:
    _helper_that_fails()
    return 1


def test_a_failed_step_traceback_starts_at_the_users_function() -> None:
    result = dg.materialize([vendor_rows], raise_on_error=False)
    (failure,) = [e for e in result.events if e.event_type == EventType.STEP_FAILURE]
    text = failure.data["traceback"]
    assert text.startswith("Traceback (most recent call last):")
    frames = [line for line in text.splitlines() if line.lstrip().startswith("File ")]
    assert [f.split(", in ")[-1] for f in frames] == ["vendor_rows", "_helper_that_fails"]
    assert "ValueError: the vendor file is empty" in text


def test_a_failure_inside_deras_alone_keeps_every_frame() -> None:
    with pytest.raises(dg.DerasError) as info:
        dg.StaticPartitionsDefinition(["a", "a"])
    err = info.value
    assert err.__traceback__ is not None
    err.with_traceback(err.__traceback__.tb_next)  # as caught inside deras: no frame of this test
    text = format_user_traceback(err)
    frames = [line for line in text.splitlines() if line.lstrip().startswith("File ")]
    assert frames and all("/deras/" in f for f in frames)  # deras's frames are the whole story
