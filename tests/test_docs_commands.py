"""docs/tutorial.md tells the truth: its commands, run in order in a fresh folder, print what it shows.

The tutorial is replayed as a newcomer would type it: every ``$ command`` of its console blocks
runs in bash, in order, in an empty folder with a fresh ``./.deras``; the files it shows as
``# NAME.py`` blocks are written before they are used. Each output is compared with the one
pasted in the document, line by line, after replacing what differs from one session to the
next (run ids, times, durations, the folder, the daemon's id). Run ids the document names are
mapped to the ones this session made, so ``deras runs show RUN_ID`` shows the same run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "docs" / "tutorial.md"
DOC_FOLDER = "/tmp"  # where the pasted session ran (its folder: /tmp/tutorial)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# What changes between sessions; the rest must be as pasted.
VOLATILE = [
    (UUID, "<run id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"), "<tick>"),  # schedule ticks: today-relative
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[.,]\d+)?"), "<time>"),
    (re.compile(r"\d+\.\d+s\b"), "<duration>"),
    (re.compile(r"\S+:\d+:[0-9a-f]{6}\b"), "<daemon>"),
    (re.compile(r"([━─])\1+"), r"\1"),  # table borders are as wide as their columns
    (re.compile(r"\s+"), " "),
]


@dataclass
class Command:
    line: str
    output: list[str]
    stdin: str = ""


@dataclass
class Step:
    command: Command | None = None
    file: tuple[str, str] | None = None  # (name, text) of a `# NAME.py` block


@dataclass
class Session:
    folder: Path
    bin_dir: Path
    cwd: Path
    run_ids: dict[str, str] = field(default_factory=dict)  # the document's id -> this session's
    exit_code: int = 0  # of the last command, for `echo $?`


def tutorial_steps(text: str) -> list[Step]:
    steps: list[Step] = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.M | re.S):
        lines = body.splitlines()
        if lang == "python" and lines and re.fullmatch(r"# \w+\.py", lines[0]):
            steps.append(Step(file=(lines[0][2:], body)))
        elif lang == "console":
            current: Command | None = None
            for line in lines:
                if line.startswith("$ "):
                    current = Command(line[2:], [])
                    steps.append(Step(command=current))
                elif current is not None:
                    if line.startswith("(Pdb) "):  # what was typed at the debugger's prompt
                        current.stdin += line[len("(Pdb) ") :] + "\n"
                    current.output.append(line)
    return steps


def normalized(line: str, folder: Path) -> str:
    line = line.replace(str(folder), DOC_FOLDER)
    for pattern, replacement in VOLATILE:
        line = pattern.sub(replacement, line)
    return line.strip()


def run(session: Session, command: Command) -> list[str]:
    line = command.line.replace("/path/to/deras", str(REPO))
    for doc_id, real_id in session.run_ids.items():
        line = line.replace(doc_id, real_id)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DERAS_", "SHARE_PRICES_"))}
    env["PATH"] = f"{session.bin_dir}{os.pathsep}{env['PATH']}"
    pwd_file = session.folder / ".pwd"
    script = f'cd "{session.cwd}"\n(exit {session.exit_code})\n{line}\nrc=$?\npwd > "{pwd_file}"\nexit $rc\n'
    touch = None
    if line.startswith("deras daemon run"):
        # "8 seconds in, another terminal ran `touch share_prices/data/share_prices.csv`"
        vendor_file = session.cwd / "share_prices" / "data" / "share_prices.csv"
        touch = threading.Timer(8, vendor_file.touch)
        touch.start()
    done = subprocess.run(
        ["bash", "-c", script],
        input=command.stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if touch is not None:
        touch.join()
    session.cwd = Path(pwd_file.read_text().strip())
    session.exit_code = done.returncode
    return done.stdout.splitlines()


def compare(session: Session, command: Command, actual: list[str]) -> None:
    expected = command.output
    if command.stdin:  # a pdb session: piped input is not echoed, so only its ending compares
        expected, actual = expected[-1:], actual[-1:]
    if command.line.startswith("deras daemon run"):
        # How many times the sensor skipped depends on timing: each kind of line, not each line.
        want = {normalized(e, session.folder) for e in expected}
        got = {normalized(a, session.folder) for a in actual}
        assert want <= got, f"{command.line}: missing {sorted(want - got)}\nactual:\n" + "\n".join(actual)
        return
    want_lines = [normalized(e, session.folder) for e in expected]
    got_lines = [normalized(a, session.folder) for a in actual]
    assert got_lines == want_lines, (
        f"$ {command.line}\n--- pasted in docs/tutorial.md:\n"
        + "\n".join(expected)
        + "\n--- printed now:\n"
        + "\n".join(actual)
    )
    for doc_line, real_line in zip(expected, actual, strict=True):
        for doc_id, real_id in zip(UUID.findall(doc_line), UUID.findall(real_line), strict=True):
            session.run_ids.setdefault(doc_id, real_id)


def test_tutorial_commands_print_what_the_tutorial_shows(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, argv in {"deras": f'"{sys.executable}" -m deras', "python": f'"{sys.executable}"'}.items():
        (bin_dir / name).write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
        (bin_dir / name).chmod(0o755)
    folder = tmp_path / "session"
    folder.mkdir()
    session = Session(folder=folder, bin_dir=bin_dir, cwd=folder)
    steps = tutorial_steps(TUTORIAL.read_text(encoding="utf-8"))
    assert sum(1 for s in steps if s.command) > 30, "the tutorial's commands were not found"
    for step in steps:
        if step.file is not None:
            name, text = step.file
            (session.cwd / name).write_text(text, encoding="utf-8")
        elif step.command is not None:
            compare(session, step.command, run(session, step.command))
