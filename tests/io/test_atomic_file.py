"""Writing a value's file: all or nothing, cheap, and never at the expense of a reader."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deras._io.atomic_file import SPARE_FOLDER, SpareFiles, write_atomically


def _spares(folder: Path, wanted: int = 4) -> SpareFiles:
    spares = SpareFiles(folder / SPARE_FOLDER, keep=wanted)
    spares.take()  # starts the thread; wait for it to have made some
    give_up = time.monotonic() + 30
    while time.monotonic() < give_up:
        made = list((folder / SPARE_FOLDER).iterdir()) if (folder / SPARE_FOLDER).exists() else []
        if len(made) >= wanted:
            break
        time.sleep(0.01)
    return spares


def test_a_write_replaces_the_value_and_a_reader_keeps_the_old_one_whole(tmp_path: Path) -> None:
    spares = _spares(tmp_path)
    target = tmp_path / "value"
    write_atomically(target, b"old" * 1000, spares)
    with target.open("rb") as reader:
        write_atomically(target, b"new", spares)
        assert reader.read() == b"old" * 1000  # what it opened, untouched
    assert target.read_bytes() == b"new"
    spares.discard()


def test_the_replaced_file_is_removed_and_no_spare_outlives_the_process(tmp_path: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from deras._io.atomic_file import SPARE_FOLDER, SpareFiles, write_atomically
folder = Path({str(tmp_path)!r})
spares = SpareFiles(folder / SPARE_FOLDER, keep=8)
for i in range(50):
    write_atomically(folder / "value", str(i).encode(), spares)
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert (tmp_path / "value").read_bytes() == b"49"
    assert list((tmp_path / SPARE_FOLDER).iterdir()) == []


def test_a_folder_at_the_values_path_is_an_error_and_stays_where_it_is(tmp_path: Path) -> None:
    spares = _spares(tmp_path)
    target = tmp_path / "asset"
    target.mkdir()
    (target / "2025-01-01").write_bytes(b"a partition")
    with pytest.raises(IsADirectoryError):
        write_atomically(target, b"value", spares)
    assert (target / "2025-01-01").read_bytes() == b"a partition"
    spares.discard()


def test_replacing_one_link_of_a_value_leaves_the_other_links_alone(tmp_path: Path) -> None:
    spares = _spares(tmp_path)
    first, second = tmp_path / "day1", tmp_path / "day2"
    write_atomically(first, b"range value", spares)
    os.link(first, second)  # a single-run range stores one value for several partitions
    write_atomically(first, b"day 1 again", spares)
    assert second.read_bytes() == b"range value"
    spares.discard()


def test_files_left_by_a_dead_process_are_removed_by_the_next(tmp_path: Path) -> None:
    folder = tmp_path / SPARE_FOLDER
    folder.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    orphan = folder / f"{dead.stdout.strip()}-1"
    orphan.touch()
    mine = folder / f"{os.getpid()}-999"
    mine.touch()
    spares = _spares(tmp_path)
    assert not orphan.exists() and mine.exists()
    spares.discard()


def test_without_spares_a_write_is_still_atomic(tmp_path: Path) -> None:
    target = tmp_path / "value"
    write_atomically(target, b"one")
    write_atomically(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["value"]
