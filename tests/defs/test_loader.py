"""The loader: @definitions, a module-level Definitions, or bare module-level objects."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

import deras as dg
from deras._defs.loader import load_definitions

BASE = """
import deras as dg

@dg.asset
def raw():
    return [1, 0]

@dg.asset
def clean(raw):
    return [x for x in raw if x]

@dg.asset_check(asset=raw, blocking=True)
def no_zero(raw):
    return dg.AssetCheckResult(passed=0 not in raw)
"""


def _write(tmp_path: Path, body: str, name: str = "code.py") -> Path:
    path = tmp_path / name
    path.write_text(BASE + body)
    return path


def test_definitions_function_with_omitted_check_still_runs_it(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    path = _write(
        tmp_path, "\n@dg.definitions\ndef defs():\n    return dg.Definitions(assets=[raw, clean])\n"
    )
    with caplog.at_level(logging.INFO, logger="deras.loader"):
        loaded = load_definitions(file=path)
    assert "raw:no_zero" in loaded.definitions.asset_graph.nodes
    assert "including check no_zero on raw" in caplog.text
    assert loaded.location == {"file": str(path.resolve())}


def test_module_level_definitions_object_is_used(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ndefs = dg.Definitions(assets=[raw])\n")
    graph = load_definitions(file=path).definitions.asset_graph
    assert set(graph.nodes) == {"raw", "raw:no_zero"}  # clean is not in Definitions


def test_bare_module_objects_are_collected(tmp_path: Path) -> None:
    path = _write(tmp_path, "\njob = dg.define_asset_job('all_of_it')\n")
    defs = load_definitions(file=path).definitions
    assert set(defs.asset_graph.nodes) == {"raw", "clean", "raw:no_zero"}
    assert defs.get_job("all_of_it").node_ids == frozenset({"raw", "clean", "raw:no_zero"})


def test_bare_module_schedules_and_sensors_are_collected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
job = dg.define_asset_job('all_of_it')
nightly = dg.ScheduleDefinition(job=job, cron_schedule='0 2 * * *')

@dg.sensor(job=job)
def on_file(context):
    return dg.SkipReason('no file')
""",
    )
    defs = load_definitions(file=path).definitions
    assert [s.name for s in defs.schedules] == ["all_of_it_schedule"]
    assert [s.name for s in defs.sensors] == ["on_file"]


def test_module_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "", name="my_pipeline_mod.py")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    loaded = load_definitions(module="my_pipeline_mod")
    assert loaded.location["module"] == "my_pipeline_mod"
    assert "clean" in loaded.definitions.asset_graph.nodes


def test_two_definitions_objects_are_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "\na = dg.Definitions(assets=[raw])\nb = dg.Definitions(assets=[raw])\n")
    with pytest.raises(dg.DefinitionError, match="several definitions objects"):
        load_definitions(file=path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(dg.DerasError, match="no such file"):
        load_definitions(file=tmp_path / "nope.py")
