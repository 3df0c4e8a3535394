"""Mistyped paths and values on the scripting CLI: one line on stderr, non-zero, no traceback,
and nothing created on the way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from classroom_support.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--lang", "en", *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_db_that_is_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "tickets", "list", "--db", str(tmp_path))
    assert code == 2 and "--db" in one_line(err) and "folder" in err


def test_db_in_a_missing_folder_is_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "typo" / "desk.sqlite3"
    code, _, err = run(capsys, "tickets", "add", "--title", "x", "--db", str(target))
    assert code == 2 and str(tmp_path / "typo") in one_line(err)
    assert not (tmp_path / "typo").exists()


def test_breaches_csv_folder_and_missing_parent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "db.sqlite3")
    code, _, err = run(capsys, "breaches", "--db", db, "--csv", str(tmp_path))
    assert code == 2 and "--csv" in one_line(err) and "folder" in err
    code, _, err = run(capsys, "breaches", "--db", db, "--csv", str(tmp_path / "no" / "b.csv"))
    assert code == 2 and "--csv" in one_line(err)
    assert not (tmp_path / "no").exists()
    code, _out, _ = run(capsys, "breaches", "--db", db, "--csv", str(tmp_path / "b.csv"))
    assert code == 0 and (tmp_path / "b.csv").is_file()


@pytest.mark.parametrize("form", [("--target", "-3h"), ("--target=-3h",)])
def test_negative_target_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, form: tuple[str, ...]
) -> None:
    db = str(tmp_path / "db.sqlite3")
    code, _, err = run(capsys, "sla", "due", "now", "--db", db, *form)
    assert code == 2 and "'-3h'" in one_line(err) and "usage" not in err


def test_named_config_that_is_missing_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "db.sqlite3")
    code, _, err = run(capsys, "tickets", "list", "--db", db, "--config", str(tmp_path / "m.toml"))
    assert code == 2 and "m.toml" in one_line(err)
    assert not (tmp_path / "db.sqlite3").exists()
    # the default config path missing is normal
    code, _, err = run(capsys, "tickets", "list", "--db", db)
    assert code == 0, err


def test_process_prints_no_traceback(tmp_path: Path) -> None:
    """The real entry point, as a shell runs it."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "classroom_support.cli",
            "--lang",
            "en",
            "sla",
            "due",
            "now",
            "--target",
            "-3h",
            "--db",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_demo_database_is_removed_on_exit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--demo` is a throwaway: its folder is gone when the app ends, even by an error."""
    import sqlite3
    import tempfile
    from contextlib import closing

    from classroom_support.app import ClassroomSupportApp

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen: list[Path] = []

    def fake_run(self: ClassroomSupportApp) -> None:
        seen.append(self.ctx.db.path)
        assert self.ctx.db.path.is_file()
        with closing(sqlite3.connect(self.ctx.db.path)) as db:  # the demo's tickets are there
            assert db.execute("SELECT count(*) FROM ticket WHERE is_open").fetchone()[0] > 0

    monkeypatch.setattr(ClassroomSupportApp, "run", fake_run)
    assert main(["--lang", "en", "--demo"]) == 0
    assert seen and seen[0].is_relative_to(scratch)
    assert list(scratch.iterdir()) == []

    def crash(self: ClassroomSupportApp) -> None:
        raise RuntimeError("the terminal went away")

    monkeypatch.setattr(ClassroomSupportApp, "run", crash)
    with pytest.raises(RuntimeError):
        main(["--lang", "en", "--demo"])
    assert list(scratch.iterdir()) == []
