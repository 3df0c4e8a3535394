"""`classroom-support central backup --to FILE`: a consistent copy of the central SQLite
database while the server keeps writing.

SQLite's online backup API copies the pages inside one read transaction: in WAL mode that
transaction sees one committed snapshot and does not block the server's writers. The copy is
written next to the target under a temporary name, checked (`PRAGMA integrity_check`), switched
to a self-contained rollback journal, flushed to disk, and only then given the target's name, so
a failed or interrupted backup never leaves a half-written FILE. PostgreSQL has its own tool for
this (`pg_dump`); the command says so instead of pretending.

Like central/cli.py, only the standard library at import time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from classroom_support.db_files import fsync_path

COMMANDS = ("backup",)
PG_DUMP_HINT = (
    "PostgreSQL databases are backed up with pg_dump, e.g. "
    "pg_dump --format=custom --file FILE 'postgresql://USER@HOST/DBNAME' (see README, Operations)"
)


class BackupError(Exception):
    """A backup that could not be made; the message is one line for the operator."""


def add_parsers(csub: Any, db_option: Callable[[argparse.ArgumentParser], None]) -> None:
    backup = csub.add_parser(
        "backup",
        help="copy the central SQLite database to FILE while the server runs "
        "(PostgreSQL: use pg_dump)",
    )
    db_option(backup)
    backup.add_argument("--to", required=True, type=Path, metavar="FILE", help="the copy")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")


def run(args: argparse.Namespace, db: str) -> int:
    if "://" in db and not db.startswith("sqlite"):
        print(f"classroom-support central backup: {PG_DUMP_HINT}", file=sys.stderr)
        return 2
    try:
        size = backup_sqlite(_sqlite_path(db), args.to, force=args.force)
    except BackupError as exc:
        print(f"classroom-support central backup: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {args.to} ({size / 1024:.0f} KiB, integrity ok)")
    return 0


def _sqlite_path(db: str) -> Path:
    if db.startswith("sqlite:///"):
        return Path(db.removeprefix("sqlite:///"))
    if "://" in db:
        raise BackupError(f"not a SQLite file URL: {db}")
    return Path(db).expanduser()


def backup_sqlite(source: Path, target: Path, *, force: bool = False) -> int:
    """Copy `source` to `target` consistently; the copy's size in bytes."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if target.is_dir():
        raise BackupError(f"{target} is a folder")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise BackupError(f"no folder {folder}")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise BackupError(f"cannot write in {folder}: {exc.strerror}") from None
    os.close(fd)
    part = Path(temporary)
    try:
        _copy(source, part)
        _check(part)
        if force:
            os.replace(part, target)
        else:
            try:
                os.link(part, target)  # fails if FILE appeared meanwhile: never overwrite
            except FileExistsError:
                raise BackupError(f"{target} exists; pass --force to replace it") from None
        with contextlib.suppress(OSError):  # some file systems cannot open a folder
            fsync_path(folder)
        return target.stat().st_size
    except sqlite3.Error as exc:
        raise BackupError(f"backup failed: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        part.unlink(missing_ok=True)


def _copy(source: Path, part: Path) -> None:
    # mode=rw: never create an empty database where the operator mistyped a path.
    src = sqlite3.connect(f"file:{quote(str(source))}?mode=rw", uri=True, timeout=30)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dst = sqlite3.connect(part)
        try:
            src.backup(dst)  # all pages in one step: one snapshot, writers not blocked (WAL)
            # The copy is one file on its own: no -wal/-shm beside it to forget.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _check(part: Path) -> None:
    conn = sqlite3.connect(f"file:{quote(str(part))}?mode=ro", uri=True)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise BackupError(f"the copy failed its integrity check: {verdict}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "central_counter" not in tables:
            raise BackupError("that database is not a central server database")
    finally:
        conn.close()
    with part.open("rb+") as handle:
        os.fsync(handle.fileno())
