"""What a user sees when their definitions do not load: their file, line and error, not ours."""

from __future__ import annotations

from pathlib import Path

import pytest

SYNTAX_ERROR = "import deras as dg\n\n\n@dg.asset\ndef prices() -> int:\n    return 1 +\n"
INTERNALS = ("deras/_defs/loader.py", "deras/_cli/code.py", "importlib", "<frozen")


def _no_internals(text: str) -> bool:
    return not any(frame in text for frame in INTERNALS)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["materialize"],
        ["schedule", "list"],
        ["sensor", "list"],
        ["backfill", "launch", "--select", "prices", "--partitions", "a"],
        ["daemon", "run", "--max-seconds", "1"],
        ["dags", "list"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_syntax_error_shows_the_users_file_and_line_only(deras, tmp_path: Path, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "pipeline.py"
    broken.write_text(SYNTAX_ERROR)
    proc = deras(*command, "-f", str(broken))
    assert proc.returncode == 1
    assert f'File "{broken}", line 6' in proc.stderr
    assert "return 1 +" in proc.stderr and "SyntaxError: invalid syntax" in proc.stderr
    assert _no_internals(proc.stderr), proc.stderr


@pytest.mark.slow
def test_verbose_shows_derass_own_frames_too(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "pipeline.py"
    broken.write_text(SYNTAX_ERROR)
    quiet = deras("check", "-f", str(broken))
    assert "--verbose" in quiet.stderr
    loud = deras("check", "-f", str(broken), "--verbose")
    assert loud.returncode == 1
    assert "deras/_defs/loader.py" in loud.stderr and "SyntaxError: invalid syntax" in loud.stderr


@pytest.mark.slow
def test_an_exception_at_import_shows_the_users_frames_and_the_error(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "pipeline.py"
    code.write_text(
        "import deras as dg\n\ndef settings():\n    raise RuntimeError('cannot import me')\n\nsettings()\n"
    )
    proc = deras("materialize", "-f", str(code))
    assert proc.returncode == 1
    assert f'File "{code}", line 6, in <module>' in proc.stderr
    assert f'File "{code}", line 4, in settings' in proc.stderr
    assert "RuntimeError: cannot import me" in proc.stderr
    assert "error: could not load pipeline.py: RuntimeError: cannot import me" in proc.stderr
    assert _no_internals(proc.stderr), proc.stderr


@pytest.mark.slow
def test_an_import_error_in_user_code_by_module_name_names_the_missing_module(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pipeline.py").write_text("import deras as dg\nimport vendor_sdk\n")
    proc = deras("check", "-m", "pipeline")
    assert proc.returncode == 1
    assert 'pipeline.py", line 2, in <module>' in proc.stderr
    assert "No module named 'vendor_sdk'" in proc.stderr
    assert _no_internals(proc.stderr), proc.stderr


@pytest.mark.slow
def test_a_module_that_does_not_exist_is_one_clear_line(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc = deras("check", "-m", "pipline")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: no module named 'pipline' (the import path has the current directory, {tmp_path}): "
        "run deras from the folder that holds it, or pass -f FILE"
    ]


@pytest.mark.slow
def test_a_definition_error_shows_the_users_line_that_raised_it(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "pipeline.py"
    code.write_text(
        "import deras as dg\n\n@dg.asset\ndef total(numbrs) -> int:\n    return 1\n\n"
        "defs = dg.Definitions(assets=[total])\n"
    )
    proc = deras("check", "-f", str(code))
    assert proc.returncode == 1
    assert f'File "{code}", line 7, in <module>' in proc.stderr
    assert "error: asset 'total'" in proc.stderr and "'numbrs'" in proc.stderr
    assert "Traceback" not in proc.stderr and _no_internals(proc.stderr), proc.stderr


@pytest.mark.slow
def test_a_dag_file_that_fails_to_import_shows_its_own_frames(deras, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "broken.py").write_text("import deras as dg\nraise ImportError('no module named vendor_sdk')\n")
    proc = deras("dags", "list", "-d", str(folder), "--json")
    assert proc.returncode == 1
    import json

    (text,) = json.loads(proc.stdout)["import_errors"].values()
    assert 'broken.py", line 2, in <module>' in text and "vendor_sdk" in text
    assert _no_internals(text), text
    verbose = deras("dags", "list", "-d", str(folder), "--json", "--verbose")
    (full,) = json.loads(verbose.stdout)["import_errors"].values()
    assert "deras/_defs/dag_folder.py" in full  # deras's frames, which the short form leaves out
