"""Files that do not belong: refuse them at open, before SQLite touches anything.

SQLite trusts whatever sits beside a database: a `-wal` left by a copy, a restore or a sync tool
from *another* database is replayed into this one on the first open and checkpointed for good
(nothing in the WAL header ties it to its main file). So before the first connection:

- the path must be a non-empty SQLite file, not cut short (`check_main_file`);
- a `-wal` with frames, when no other process holds the database, is verified on a throw-away
  copy (main + wal in a temporary folder): the merged copy must pass `integrity_check`, keep
  this database's own device identity and schema revision, and still hold every ticket event
  the main file alone holds (events are append-only, so a real WAL never loses one).

On any doubt the open stops with one line that names the file and what to do, and every file
is left byte for byte as it was. With no `-wal` (the normal case after a clean exit) or with
one that a running process holds, the cost is a `stat` and a lock query.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import struct
import tempfile
from pathlib import Path
from typing import NamedTuple

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
WAL_HEADER_SIZE = 32
# The unix VFS lock bytes: a connection in WAL mode keeps a read lock on the main file's
# SHARED range for as long as it is open; the -shm "DMS" byte marks users of the -shm.
PENDING_BYTE = 0x40000000
SHARED_FIRST, SHARED_SIZE = PENDING_BYTE + 2, 510
SHM_DMS = 128
_FLOCK = "hhqqi"  # struct flock on Linux: type, whence, start, len, pid


class FileRefused(Exception):
    """The file at --db (or beside it) must not be opened; the message says what to do."""


def fsync_path(path: Path) -> None:
    """Flush a file to the disk, or a folder's entries after a rename or a new file in it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def wal_path(path: Path) -> Path:
    return Path(f"{path}-wal")


def shm_path(path: Path) -> Path:
    return Path(f"{path}-shm")


def check_main_file(path: Path) -> None:
    """A directory, an empty file, random bytes or a file cut short: refuse with one line."""
    if not os.path.lexists(path):
        return  # a new database will be created here
    if path.is_dir():
        raise FileRefused(f"{path} is a folder, not a database file; pass a file path with --db")
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            header = f.read(HEADER_SIZE)
    except OSError as exc:
        raise FileRefused(f"cannot read {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise FileRefused(
            f"{path} is an empty file, not a classroom-support database; delete it to start "
            "a new database there, or pass another --db"
        )
    if not header.startswith(SQLITE_MAGIC) or len(header) < HEADER_SIZE:
        raise FileRefused(
            f"{path} is not an SQLite database (it does not start with the SQLite header); "
            "pass the right file with --db, or restore one with `classroom-support restore`"
        )
    expected = _size_from_header(header)
    if expected and size < expected and not has_frames(wal_path(path)):
        raise FileRefused(
            f"{path} is cut short ({size} of {expected} bytes): it was truncated by a copy or "
            "a full disk; restore a backup with `classroom-support restore FROM`"
        )


def _size_from_header(header: bytes) -> int | None:
    """The database size the header vouches for, or None when the header does not vouch."""
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid only when "version-valid-for" equals the change counter.
    if header[92:96] != header[24:28] or not pages or page_size < 512:
        return None
    return pages * page_size


def has_frames(wal: Path) -> bool:
    try:
        return wal.stat().st_size > WAL_HEADER_SIZE
    except OSError:
        return False


def held_by_another_process(path: Path) -> bool:
    """Whether another process has the database open (its locks, queried, never taken).

    Only call this when this process has no connection to `path`: closing any descriptor of a
    file drops the process's own POSIX locks on it, SQLite's included."""
    for file, start, length in ((path, SHARED_FIRST, SHARED_SIZE), (shm_path(path), SHM_DMS, 1)):
        try:
            fd = os.open(file, os.O_RDONLY)
        except OSError:
            continue
        try:
            query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
            answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
            if struct.unpack(_FLOCK, answer)[0] != fcntl.F_UNLCK:
                return True
        except OSError:
            return True  # cannot tell: treat as held, never verify a live database's WAL
        finally:
            os.close(fd)
    return False


def integrity_problems(conn: sqlite3.Connection, limit: int = 50) -> list[str]:
    """SQLite's integrity_check as a list of one-line problems (empty when sound)."""
    try:
        rows = [str(r[0]) for r in conn.execute(f"PRAGMA integrity_check({limit})")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    lines = [line for row in rows for line in row.splitlines()]
    return [line for line in lines if line != "ok" and not line.startswith("*** in database")]


class Identity(NamedTuple):
    """What a database says about itself; `events` is every ticket event id it holds."""

    device_id: str | None
    revision: str | None
    events: frozenset[str]
    integrity: str


def read_identity(path: Path, *, integrity: bool) -> Identity:
    conn = sqlite3.connect(path)  # a scratch copy: SQLite may write its -shm beside it
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        result = "ok"
        if integrity:
            result = "; ".join(integrity_problems(conn, 5)) or "ok"
        device = None
        if "device_identity" in tables:
            row = conn.execute("SELECT device_id FROM device_identity WHERE id = 1").fetchone()
            device = row[0] if row else None
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        events: frozenset[str] = frozenset()
        if "ticket_event" in tables:
            events = frozenset(r[0] for r in conn.execute("SELECT id FROM ticket_event"))
        return Identity(device, revision, events, result)
    finally:
        conn.close()


def foreign_wal_reason(path: Path) -> str | None:
    """Why the -wal beside `path` does not belong to it, or None when it does (or is absent).
    Reads copies only: no file of `path` is opened for writing."""
    wal = wal_path(path)
    if not has_frames(wal):
        return None
    with _scratch(path) as scratch:
        copy = scratch / path.name
        shutil.copyfile(path, copy)
        try:  # first what the main file alone says ...
            main: Identity | None = read_identity(copy, integrity=False)
        except sqlite3.DatabaseError:
            main = None  # mid-checkpoint after a crash: only the merged view is whole
        for leftover in (wal_path(copy), shm_path(copy)):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(wal, wal_path(copy))  # ... then what it says through this -wal
        try:
            through_wal = read_identity(copy, integrity=True)
        except sqlite3.DatabaseError as exc:
            return f"the database with this -wal cannot be read ({exc})"
    if through_wal.integrity != "ok":
        return f"with it the database fails its integrity check ({through_wal.integrity})"
    if main is None:
        return None
    if main.device_id and through_wal.device_id != main.device_id:
        return (
            f"it carries another device's data (device {through_wal.device_id}, "
            f"not {main.device_id})"
        )
    if main.revision and through_wal.revision != main.revision:
        from classroom_support.db import _known_revisions

        if through_wal.revision not in _known_revisions():
            return f"its schema revision {through_wal.revision!r} is not this program's"
    lost = main.events - through_wal.events
    if lost:
        return f"merging it would drop {len(lost)} ticket event(s) that the database holds"
    return None


class _scratch:
    """A temporary folder for the copies: the system's, or beside the database if that one
    has no room. Removed afterwards either way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.folder: str | None = None

    def __enter__(self) -> Path:
        need = self.path.stat().st_size + wal_path(self.path).stat().st_size
        for base in (None, str(self.path.parent)):
            folder = tempfile.mkdtemp(prefix="classroom-support-check-", dir=base)
            if shutil.disk_usage(folder).free > need + (1 << 20):
                self.folder = folder
                return Path(folder)
            os.rmdir(folder)
        raise FileRefused(
            f"no room to verify {wal_path(self.path)} before opening {self.path}; "
            "free some disk space and try again"
        )

    def __exit__(self, *exc: object) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def check_wal_belongs(path: Path) -> None:
    """Refuse to open `path` when the -wal beside it is not its own (see the module doc)."""
    if not has_frames(wal_path(path)) or held_by_another_process(path):
        return
    try:
        reason = foreign_wal_reason(path)
    except OSError as exc:
        raise FileRefused(
            f"cannot verify {wal_path(path)} before opening {path}: {exc.strerror or exc}"
        ) from None
    if reason is None:
        return
    wal = wal_path(path)
    raise FileRefused(
        f"{wal} does not belong to {path}: {reason}. Nothing was changed. If it came from "
        f"elsewhere (a copy, a restore, a sync tool), move it aside (mv '{wal}' '{wal}.stray'); "
        "otherwise restore a backup with `classroom-support restore FROM`"
    )
