"""``materialize_to_memory``: every IO manager replaced by one in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

import deras as dg


def test_values_stay_in_memory_even_with_a_persistent_instance(tmp_path: Path) -> None:
    @dg.asset(io_manager_key="warehouse")
    def table() -> list[int]:
        return [1, 2]

    @dg.asset
    def total(table: list[int]) -> int:
        return sum(table)

    instance = dg.DerasInstance.get(tmp_path)
    result = dg.materialize_to_memory([table, total], instance=instance)
    assert result.output_for_node("total") == 3
    assert result.asset_value("table") == [1, 2]
    assert not list(tmp_path.rglob("total*"))  # nothing was written as a file


def test_an_io_manager_in_resources_is_an_error() -> None:
    @dg.asset
    def a() -> int:
        return 1

    with pytest.raises(dg.DerasError, match="got IO manager\\(s\\) in resources: custom"):
        dg.materialize_to_memory([a], resources={"custom": dg.InMemoryIOManager()})
