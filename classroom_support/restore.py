"""`classroom-support restore FROM`: put a backup in place of the database, safely.

FROM is validated first on a private copy (a SQLite file of ours: known schema revision, the
ticket tables, `integrity_check` ok, its own `-wal` verified if it has one), while nothing of
the current database is touched. The restore is refused while any process holds the database.
The current database is kept aside under a timestamped name: its own `-wal` is folded in first,
so the kept file is whole by itself and no `-wal` of the old database is ever left beside the
restored one (db_files explains why that matters); a `-wal` that is not its own goes with it
unfolded. The new file is written beside the target, fsynced, and renamed over it, so the path
holds the old database or the new one at every moment, never none.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from classroom_support.db_files import (
    FileRefused,
    check_main_file,
    check_wal_belongs,
    foreign_wal_reason,
    fsync_path,
    has_frames,
    held_by_another_process,
    integrity_problems,
    shm_path,
    wal_path,
)

REQUIRED_TABLES = ("alembic_version", "ticket", "ticket_event")


class RestoreRefused(Exception):
    """Nothing was changed; the message says why and what to do."""


@dataclass(frozen=True)
class RestoreResult:
    database: Path
    source: Path
    kept_aside: Path | None
    tickets: int
    revision: str


def restore_backup(source: Path, target: Path, now: datetime | None = None) -> RestoreResult:
    from classroom_support.db import _OPEN_HERE, _known_revisions

    source, target = Path(source), Path(target)
    if not source.is_file():
        raise RestoreRefused(f"{source} is not a file")
    if source.resolve() == target.resolve():
        raise RestoreRefused(f"{source} is the database itself; name a backup to restore from")
    try:
        check_main_file(source)
        check_wal_belongs(source)
    except FileRefused as exc:
        raise RestoreRefused(f"the backup is refused: {exc}") from None
    if target.resolve() in _OPEN_HERE or held_by_another_process(target):
        raise RestoreRefused(
            f"{target} is open in classroom-support (the app or a command): close it, "
            "then restore again"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = _stage(source, target.parent)
    try:
        tickets, revision = _validate(staged, source, _known_revisions())
        fsync_path(staged)
        kept = _set_aside(target, now or datetime.now(UTC))
        os.replace(staged, target)
        fsync_path(target.parent)
    except BaseException:
        for leftover in (staged, wal_path(staged), shm_path(staged)):
            leftover.unlink(missing_ok=True)
        raise
    return RestoreResult(target, source, kept, tickets, revision)


def _stage(source: Path, folder: Path) -> Path:
    """A standalone copy of FROM (its -wal folded in) beside the target, via a scratch copy so
    that FROM itself is only ever read."""
    fd, name = tempfile.mkstemp(prefix=".restore-", suffix=".sqlite3", dir=folder)
    os.close(fd)
    staged = Path(name)
    with tempfile.TemporaryDirectory(prefix="classroom-support-restore-") as scratch:
        copy = Path(scratch) / source.name
        shutil.copyfile(source, copy)
        if wal_path(source).exists():
            shutil.copyfile(wal_path(source), wal_path(copy))
        try:
            src = sqlite3.connect(copy)
            dst = sqlite3.connect(staged)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to rename
            finally:
                dst.close()
                src.close()
        except sqlite3.DatabaseError as exc:
            staged.unlink(missing_ok=True)
            raise RestoreRefused(f"the backup {source} cannot be read: {exc}") from None
    return staged


def _validate(staged: Path, source: Path, known: set[str]) -> tuple[int, str]:
    conn = sqlite3.connect(staged)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise RestoreRefused(
                f"{source} is not a classroom-support database (no {', '.join(missing)} table)"
            )
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else ""
        if revision not in known:
            raise RestoreRefused(
                f"{source} has schema revision {revision!r}, which this program does not know; "
                "restore it with the classroom-support version that wrote it"
            )
        problems = integrity_problems(conn, 5)
        if problems:
            raise RestoreRefused(f"{source} fails its integrity check: {'; '.join(problems)}")
        tickets = conn.execute("SELECT count(*) FROM ticket").fetchone()[0]
        conn.execute("PRAGMA journal_mode=WAL")  # what the app expects; set before it opens
        return int(tickets), str(revision)
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"{source} cannot be read as a database: {exc}") from None
    finally:
        conn.close()


def _set_aside(target: Path, now: datetime) -> Path | None:
    """Keep the current database under a timestamped name, with no moment in which the path
    holds no database. Its own -wal is folded in first (a checkpoint), so the file is whole by
    itself; then it gets a second name (a hard link, or a copy where links are refused), and the
    caller's rename swaps the new file in. A -wal that is not its own is never folded in: it is
    moved to the kept name with the file it sat beside."""
    if not os.path.lexists(target):
        for stray in (wal_path(target), shm_path(target)):
            if stray.exists():  # a -wal without its database must not meet the new file
                os.replace(stray, stray.with_name(f"{stray.name}.before-restore"))
        return None
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    aside = target.with_name(f"{target.stem}-before-restore-{stamp}{target.suffix}")
    n = 1
    while os.path.lexists(aside):
        n += 1
        aside = target.with_name(f"{target.stem}-before-restore-{stamp}-{n}{target.suffix}")
    if has_frames(wal_path(target)) and foreign_wal_reason(target) is None:
        _fold_wal(target)
    for old, new in ((wal_path(target), wal_path(aside)), (shm_path(target), shm_path(aside))):
        if old.exists():
            os.replace(old, new)
    try:
        os.link(target, aside)
    except OSError:
        shutil.copyfile(target, aside)
        fsync_path(aside)
    fsync_path(target.parent)
    return aside


def _fold_wal(path: Path) -> None:
    """Checkpoint the database's own -wal into it; the last connection's close removes it."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"cannot fold {wal_path(path)} into {path}: {exc}") from None
    if busy:
        raise RestoreRefused(f"{path} is in use: close classroom-support, then restore again")
