"""Files that do not belong: a stray -wal, a folder, an empty, cut-short or random file as the
database; `check` and `restore`. Every refusal leaves every file byte for byte as it was."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from disk_support import file_hashes

from classroom_support import db_files
from classroom_support.cli import main
from classroom_support.context import open_context
from classroom_support.db import backup_database
from classroom_support.tickets import QueueQuery, TicketDraft

CONFIG = '[ui]\nlanguage = "en"\n[device]\ntechnician = "Sami"\n'


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def make_db(config: Path, path: Path, titles: list[str]) -> None:
    """A database made through the app's own open path, cleanly closed (no -wal left)."""
    ctx = open_context(config, path)
    try:
        for title in titles:
            ctx.desk.create(TicketDraft(title=title))
    finally:
        ctx.close()
    assert not db_files.wal_path(path).exists()


def titles(prefix: str, n: int) -> list[str]:
    return [f"{prefix} {i} " + "x" * 400 for i in range(n)]


def count_tickets(config: Path, path: Path) -> int:
    ctx = open_context(config, path)
    try:
        return ctx.desk.queue(QueueQuery(statuses=(), limit=10_000)).total
    finally:
        ctx.close()


def wal_with_changes(path: Path, change: list[str]) -> Path:
    """Run `change` on `path` with checkpoints off and copy its -wal out while it is still
    open (what a copy or sync tool picks up from a running machine)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    for sql in change:
        conn.execute(sql)
    copy = path.with_name(path.name + ".wal-copy")
    shutil.copyfile(db_files.wal_path(path), copy)
    conn.close()
    return copy


# --------------------------------------------------------------------------- the stray -wal


@pytest.fixture
def laptop_db(tmp_path: Path, config: Path) -> Path:
    folder = tmp_path / "laptop"
    folder.mkdir()
    path = folder / "classroom-support.sqlite3"
    make_db(config, path, titles("laptop", 120))
    return path


def test_a_wal_from_another_database_is_refused_and_nothing_changes(
    tmp_path: Path, config: Path, laptop_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.sqlite3"
    make_db(config, other, titles("other", 3))
    stray = wal_with_changes(
        other,
        [f"INSERT INTO meta(key, value) VALUES ('k{i}', '{'v' * 900}')" for i in range(60)],
    )
    shutil.copyfile(stray, db_files.wal_path(laptop_db))
    before = file_hashes(laptop_db.parent)

    code, out, err = run(
        capsys, "--config", str(config), "--db", str(laptop_db), "tickets", "list", "--all"
    )
    assert code != 0 and out == ""
    [line] = err.strip().splitlines()
    assert f"{laptop_db}-wal does not belong to {laptop_db}" in line
    assert "move it aside" in line and "classroom-support restore" in line
    assert file_hashes(laptop_db.parent) == before  # every file exactly as it was

    # Moved aside as the message says, the database opens whole.
    os.replace(db_files.wal_path(laptop_db), tmp_path / "stray-wal")
    assert count_tickets(config, laptop_db) == 120


def test_a_wal_from_a_diverged_copy_is_refused_even_when_it_looks_sound(
    tmp_path: Path, config: Path, laptop_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A copy of this very database that went its own way: the frames fit the pages, so
    # SQLite's integrity check passes; the database's own identity does not.
    twin = tmp_path / "twin.sqlite3"
    shutil.copyfile(laptop_db, twin)
    stray = wal_with_changes(
        twin,
        [
            "UPDATE device_identity SET device_id = 'another-laptop'",
            "DELETE FROM ticket_event WHERE rowid % 2 = 0",
        ],
    )
    shutil.copyfile(stray, db_files.wal_path(laptop_db))
    before = file_hashes(laptop_db.parent)
    code, _out, err = run(capsys, "--config", str(config), "--db", str(laptop_db), "check")
    assert code == 1
    assert "does not belong" in err + _out and "another device" in err + _out
    code, out, err = run(
        capsys, "--config", str(config), "--db", str(laptop_db), "tickets", "list", "--all"
    )
    assert code != 0 and out == "" and len(err.strip().splitlines()) == 1
    assert "another device's data" in err
    assert file_hashes(laptop_db.parent) == before


def test_events_lost_through_a_wal_are_refused(
    tmp_path: Path, config: Path, laptop_db: Path
) -> None:
    twin = tmp_path / "twin.sqlite3"
    shutil.copyfile(laptop_db, twin)
    stray = wal_with_changes(twin, ["DELETE FROM ticket_event WHERE rowid % 3 = 0"])
    shutil.copyfile(stray, db_files.wal_path(laptop_db))
    before = file_hashes(laptop_db.parent)
    reason = db_files.foreign_wal_reason(laptop_db)
    assert reason is not None and "drop 40 ticket event(s)" in reason
    assert file_hashes(laptop_db.parent) == before


CRASHING_CHILD = """
import os, signal, sys
from classroom_support.context import open_context
from classroom_support.tickets import TicketDraft
ctx = open_context(sys.argv[1], sys.argv[2])
for i in range(5):
    ctx.desk.create(TicketDraft(title=f"after the crash {i}"))
print("saved", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_databases_own_wal_after_a_crash_is_accepted(config: Path, laptop_db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_CHILD, str(config), str(laptop_db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL and "saved" in done.stdout, done.stderr
    assert db_files.wal_path(laptop_db).stat().st_size > db_files.WAL_HEADER_SIZE
    assert db_files.foreign_wal_reason(laptop_db) is None
    assert count_tickets(config, laptop_db) == 125


HOLDING_CHILD = """
import sys, time
from classroom_support.context import open_context
from classroom_support.tickets import TicketDraft
ctx = open_context(sys.argv[1], sys.argv[2])
ctx.desk.create(TicketDraft(title="from the running app"))
print("ready", flush=True)
sys.stdin.readline()
ctx.close()
"""


@pytest.fixture
def running_app(config: Path, laptop_db: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process with the database open and a -wal of its own."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDING_CHILD, str(config), str(laptop_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        yield child
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=60)


def test_a_wal_held_by_a_running_process_is_not_second_guessed(
    config: Path,
    laptop_db: Path,
    running_app: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert db_files.wal_path(laptop_db).stat().st_size > db_files.WAL_HEADER_SIZE
    assert db_files.held_by_another_process(laptop_db)

    def must_not_run(path: Path) -> str | None:
        raise AssertionError("a live database's -wal must not be copied and verified")

    monkeypatch.setattr(db_files, "foreign_wal_reason", must_not_run)
    assert count_tickets(config, laptop_db) == 121


def test_a_clean_database_costs_no_verification(
    config: Path, laptop_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(path: Path) -> str | None:
        raise AssertionError("no -wal: nothing to verify")

    monkeypatch.setattr(db_files, "foreign_wal_reason", must_not_run)
    assert not db_files.held_by_another_process(laptop_db)
    assert count_tickets(config, laptop_db) == 120


# --------------------------------------------------------------------------- not a database


def _truncated(folder: Path, config: Path) -> Path:
    path = folder / "cut.sqlite3"
    make_db(config, path, titles("cut", 60))
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)
    return path


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("folder", "is a folder"),  # the CLI names it before the database layer would
        ("empty", "is an empty file"),
        ("truncated", "is cut short"),
        ("random", "is not an SQLite database"),
    ],
)
def test_what_is_not_a_database_gets_one_line_and_stays_as_it_was(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str], kind: str, says: str
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    if kind == "folder":
        path = folder / "db.sqlite3"
        path.mkdir()
        (path / "inside.txt").write_text("keep me", encoding="utf-8")
    elif kind == "empty":
        path = folder / "db.sqlite3"
        path.touch()
    elif kind == "truncated":
        path = _truncated(folder, config)
    else:
        path = folder / "db.sqlite3"
        path.write_bytes(os.urandom(64 * 1024))
    before = file_hashes(folder)
    names = sorted(p.name for p in folder.iterdir())
    for command in (["tickets", "list"], ["tickets", "add", "--title", "x"], ["check"]):
        code, out, err = run(capsys, "--config", str(config), "--db", str(path), *command)
        assert code != 0, command
        text = (out + err).strip()
        assert len(text.splitlines()) == 1, text
        assert says in text and "Traceback" not in text
    assert file_hashes(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == names  # no -wal/-shm appeared


# --------------------------------------------------------------------------- check


def test_check_passes_a_sound_database_and_names_each_problem(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "db.sqlite3"
    make_db(config, path, ["one", "two", "three"])
    code, out, _err = run(capsys, "--config", str(config), "--db", str(path), "check")
    assert code == 0 and out.startswith("ok:") and "3 ticket(s)" in out

    conn = sqlite3.connect(path)
    refs = [r[0] for r in conn.execute("SELECT ref FROM ticket ORDER BY device_seq")]
    conn.execute("UPDATE ticket SET status = 'verified' WHERE ref = ?", (refs[0],))
    conn.execute("UPDATE ticket SET title = 'edited behind its back' WHERE ref = ?", (refs[2],))
    conn.commit()
    conn.close()
    code, out, _err = run(capsys, "--config", str(config), "--db", str(path), "check")
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert f"ticket {refs[0]}: row differs from the fold of its events" in lines[0]
    assert "status" in lines[0] and "title" in lines[1] and refs[2] in lines[1]

    code, out, _err = run(capsys, "--config", str(config), "--db", str(path), "check", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["tickets"] == 3
    assert len(report["problems"]) == 2


def test_check_reports_a_damaged_file(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "db.sqlite3"
    make_db(config, path, titles("t", 60))
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ticket'").fetchone()[0]
    conn.close()
    with path.open("r+b") as f:  # scribble over the ticket table's root page
        f.seek((root - 1) * page_size + 8)
        f.write(b"\xff" * 64)
    code, out, err = run(capsys, "--config", str(config), "--db", str(path), "check")
    assert code == 1
    assert any(line.startswith("integrity:") for line in out.splitlines()), out + err


# --------------------------------------------------------------------------- restore


def test_restore_puts_a_backup_in_place_and_keeps_the_current_one_aside(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "data" / "db.sqlite3"
    make_db(config, path, ["before the backup"])
    backup = backup_database(path, tmp_path / "backups", "manual")
    make_db(config, path, ["after the backup"])
    current = file_hashes(path.parent)

    code, out, err = run(
        capsys, "--config", str(config), "--db", str(path), "restore", str(backup), "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    aside = Path(result["kept_aside"])
    assert result["tickets"] == 1 and aside.parent == path.parent
    # The previous database, byte for byte, under its timestamped name.
    assert {aside.name: current[path.name]}.items() <= file_hashes(path.parent).items()
    assert not db_files.wal_path(path).exists()
    ctx = open_context(config, path)
    try:
        rows = ctx.desk.queue(QueueQuery(statuses=())).rows
        assert [t.title for t in rows] == ["before the backup"]
    finally:
        ctx.close()
    code, out, _err = run(capsys, "--config", str(config), "--db", str(path), "check")
    assert code == 0, out


def test_restore_keeps_the_old_database_whole_with_its_own_wal_folded_in(
    tmp_path: Path, config: Path, laptop_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = backup_database(laptop_db, tmp_path / "backups", "manual")
    done = subprocess.run(  # the app was killed: its -wal is still beside the database
        [sys.executable, "-c", CRASHING_CHILD, str(config), str(laptop_db)],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL
    assert db_files.has_frames(db_files.wal_path(laptop_db))
    code, out, err = run(
        capsys, "--config", str(config), "--db", str(laptop_db), "restore", str(backup), "--json"
    )
    assert code == 0, err
    aside = Path(json.loads(out)["kept_aside"])
    assert "before-restore" in aside.name
    # No -wal is left beside either file: the kept database holds the 5 tickets that were
    # only in its -wal, by itself.
    assert [p.name for p in laptop_db.parent.iterdir() if p.name.endswith(("-wal", "-shm"))] == []
    assert count_tickets(config, aside) == 125
    assert count_tickets(config, laptop_db) == 120


def test_restore_moves_a_wal_that_is_not_its_own_aside_unfolded(
    tmp_path: Path, config: Path, laptop_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = backup_database(laptop_db, tmp_path / "backups", "manual")
    other = tmp_path / "other" / "db.sqlite3"
    make_db(config, other, titles("other", 3))
    stray = wal_with_changes(other, ["DELETE FROM ticket_event", "DELETE FROM ticket"])
    shutil.copyfile(stray, db_files.wal_path(laptop_db))
    before = file_hashes(laptop_db.parent)
    code, out, err = run(
        capsys, "--config", str(config), "--db", str(laptop_db), "restore", str(backup), "--json"
    )
    assert code == 0, err
    aside = Path(json.loads(out)["kept_aside"])
    after = file_hashes(laptop_db.parent)
    assert after[aside.name] == before[laptop_db.name]  # not folded: the file as it was
    assert after[db_files.wal_path(aside).name] == before[db_files.wal_path(laptop_db).name]
    assert not db_files.wal_path(laptop_db).exists()
    assert count_tickets(config, laptop_db) == 120


def test_a_restore_cut_short_at_the_swap_leaves_the_old_database_in_place(
    tmp_path: Path,
    config: Path,
    laptop_db: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Power lost between keeping the old file aside and renaming the new one in: the path
    must still hold a whole database, never nothing (a fresh empty one would be made there)."""
    backup = backup_database(laptop_db, tmp_path / "backups", "manual")
    make_db(config, laptop_db, ["after the backup"])
    real_replace = os.replace

    def cut_at_the_swap(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if Path(dst) == laptop_db:
            raise OSError(5, "Input/output error (power lost)")
        real_replace(src, dst)

    monkeypatch.setattr("classroom_support.restore.os.replace", cut_at_the_swap)
    code, _out, err = run(
        capsys, "--config", str(config), "--db", str(laptop_db), "restore", str(backup)
    )
    assert code != 0 and len(err.strip().splitlines()) == 1, err
    monkeypatch.undo()
    assert laptop_db.is_file()
    assert count_tickets(config, laptop_db) == 121
    assert [p.name for p in laptop_db.parent.iterdir() if p.name.startswith(".restore-")] == []


def test_restore_refuses_while_the_database_is_open(
    tmp_path: Path,
    config: Path,
    laptop_db: Path,
    running_app: subprocess.Popen[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    backup = backup_database(laptop_db, tmp_path / "backups", "manual")
    before = file_hashes(laptop_db.parent)
    code, out, err = run(
        capsys, "--config", str(config), "--db", str(laptop_db), "restore", str(backup)
    )
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "is open in classroom-support" in err
    assert file_hashes(laptop_db.parent) == before


@pytest.mark.parametrize("bad", ["random", "foreign", "damaged", "missing"])
def test_restore_refuses_a_bad_backup_and_changes_nothing(
    tmp_path: Path, config: Path, laptop_db: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    source = tmp_path / "from.sqlite3"
    if bad == "random":
        source.write_bytes(os.urandom(8192))
    elif bad == "foreign":
        conn = sqlite3.connect(source)
        conn.execute("CREATE TABLE photos (id INTEGER)")
        conn.commit()
        conn.close()
    elif bad == "damaged":
        shutil.copyfile(backup_database(laptop_db, tmp_path / "backups", "manual"), source)
        conn = sqlite3.connect(source)
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name='ticket'").fetchone()
        conn.close()
        with source.open("r+b") as f:
            f.seek((root[0] - 1) * page_size + 8)
            f.write(b"\xff" * 64)
    before = file_hashes(laptop_db.parent)
    code, out, err = run(
        capsys, "--config", str(config), "--db", str(laptop_db), "restore", str(source)
    )
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "nothing restored" in err, err
    assert file_hashes(laptop_db.parent) == before
