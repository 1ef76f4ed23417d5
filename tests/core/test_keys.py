"""Asset keys: parts, the "a/b" user string, and what is refused."""

from __future__ import annotations

import pytest

from deras._core.keys import AssetKey


def test_a_user_string_splits_into_parts_and_round_trips() -> None:
    key = AssetKey.from_user_string("prices/raw")
    assert key.path == ("prices", "raw") and key.to_user_string() == "prices/raw"
    assert key == AssetKey(["prices", "raw"]) and hash(key) == hash(AssetKey(["prices", "raw"]))
    assert AssetKey("prices").path == ("prices",)


@pytest.mark.parametrize("text", ["", "/a", "a/", "a//b"])
def test_a_user_string_with_an_empty_part_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="parts must be non-empty strings"):
        AssetKey.from_user_string(text)


@pytest.mark.parametrize("path", ["", "a/b", [], ["a", ""], ["a/b"], ["a", 1]])
def test_a_key_with_an_empty_or_slashed_part_is_refused(path: object) -> None:
    with pytest.raises(ValueError, match="invalid asset key"):
        AssetKey(path)  # type: ignore[arg-type]
