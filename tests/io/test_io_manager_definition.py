"""``dg.fs_io_manager`` and ``dg.mem_io_manager`` as resources."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import deras as dg


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)


def test_fs_io_manager_writes_under_its_configured_base_dir(tmp_path: Path) -> None:
    io = dg.fs_io_manager.configured({"base_dir": str(tmp_path)})
    result = dg.materialize([numbers, total], resources={"io_manager": io})
    assert result.asset_value("total") == 6
    assert pickle.loads((tmp_path / "numbers").read_bytes()) == [1, 2, 3]


def test_fs_io_manager_without_base_dir_uses_the_instance_storage(tmp_path: Path) -> None:
    instance = dg.DerasInstance.get(tmp_path)
    dg.materialize([numbers], resources={"io_manager": dg.fs_io_manager}, instance=instance)
    assert (tmp_path / "storage" / "numbers").exists()


def test_fs_io_manager_without_base_dir_on_an_ephemeral_instance_uses_a_temp_dir() -> None:
    result = dg.materialize([numbers, total], resources={"io_manager": dg.fs_io_manager})
    assert result.asset_value("total") == 6


def test_mem_io_manager_keeps_values_per_run() -> None:
    first = dg.materialize([numbers, total], resources={"io_manager": dg.mem_io_manager})
    assert first.asset_value("total") == 6
    # a new run gets a new store: the value of the first run is not there
    second = dg.materialize(
        [dg.AssetSpec("numbers"), total], resources={"io_manager": dg.mem_io_manager}, raise_on_error=False
    )
    assert not second.success
    assert "has no stored value in this process's memory" in second.failure_events()[0].message


def test_unknown_config_is_a_clear_error() -> None:
    with pytest.raises(dg.ConfigError, match=r"unknown option\(s\) \['path'\] \(it takes: base_dir\)"):
        dg.fs_io_manager.configured({"path": "/tmp"})
    with pytest.raises(dg.ConfigError, match=r"configured\(\) takes a dict"):
        dg.mem_io_manager.configured("x")  # type: ignore[arg-type]


def test_materialize_to_memory_refuses_an_io_manager_definition() -> None:
    with pytest.raises(dg.DerasError, match="got IO manager"):
        dg.materialize_to_memory([numbers], resources={"io_manager": dg.fs_io_manager})
