"""What of the store needs only the standard library's `sqlite3`, for the paths that run before
(or without) SQLAlchemy: the schema revision this code knows, the pragmas, the change watcher,
and a read-only connection for the first painted queue and `tickets list` (first_frame.py)."""

from __future__ import annotations

import sqlite3

TYPE_CHECKING = False  # pathlib is not imported for `tickets list` (cli_list_fast.py)
if TYPE_CHECKING:
    from pathlib import Path

# The newest migration this code knows. Checked against the migration scripts by a test, so
# start-up can compare revisions with one query instead of importing Alembic every time.
HEAD_REVISION = "0014_search_hall"
BUSY_TIMEOUT_MS = 5000
# The sync token lives beside its database (sync_transport.token_path).
TOKEN_SUFFIX = ".sync-token"


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message says what to do."""


def open_reader(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to an existing database whose schema is current, with the
    pragmas of `db._on_connect` that apply to a reader; None when it cannot be one (no file,
    another revision, a file the normal path must look at first): the caller then takes the
    normal path (`db.open_database`, which migrates or says what is wrong)."""
    from pathlib import Path

    from classroom_support.db_files import (
        FileRefused,
        check_main_file,
        has_frames,
        held_by_another_process,
        wal_path,
    )

    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        check_main_file(path)
        if has_frames(wal_path(path)) and not held_by_another_process(path):
            return None  # left by a crash or copied in: db_files verifies it on the normal path
    except (OSError, FileRefused):
        return None
    return connect_reader(path.resolve().as_uri())


def connect_reader(uri: str) -> sqlite3.Connection | None:
    """The read-only connection of `open_reader` to the file at `uri` (`file://...`), checks
    on the file already made: None when the schema is not this code's current one."""
    try:
        conn = sqlite3.connect(
            f"{uri}?mode=ro",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error:
        return None
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        mode = conn.execute("PRAGMA journal_mode").fetchone()
        found = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        revision = found and conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        conn.close()
        return None
    # WAL is what the normal path sets (a reader cannot switch it); another mode or revision
    # means the normal path has work to do first.
    if not mode or mode[0] != "wal" or not revision or revision[0] != HEAD_REVISION:
        conn.close()
        return None
    return conn


class ChangeWatcher:
    """Notices commits by other writers (the CLI, a cron `sync`) with one `PRAGMA data_version`
    per poll, so a screen can follow the database without re-reading it every second.

    SQLite bumps `data_version` only for commits made through *other* connections, so the
    watcher keeps one dedicated connection of its own for its whole life; commits made by this
    process's engine count as "other" too, which costs at most one needless refresh."""

    def __init__(self, path: Path) -> None:
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None
        )
        self._last = self._read()
        # Bumped each time a poll sees a new data_version; screens remember the value they
        # last drew, so several screens can share one watcher without stealing changes.
        self.generation = 0

    def _read(self) -> int | None:
        if self._conn is None:
            return None
        try:
            row = self._conn.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None  # a busy or damaged file: the next poll tries again
        return int(row[0]) if row else None

    def poll(self) -> int:
        """The generation after looking once: it moves when someone else committed."""
        version = self._read()
        if version is not None and version != self._last:
            self._last = version
            self.generation += 1
        return self.generation

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
