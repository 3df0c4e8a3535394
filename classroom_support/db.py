"""The SQLite store: durable pragmas, immediate write transactions, migrations after a backup."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from classroom_support.db_files import FileRefused, check_main_file, check_wal_belongs
from classroom_support.db_plain import (
    BUSY_TIMEOUT_MS,
    HEAD_REVISION,
    ChangeWatcher,
    DatabaseError,
)
from classroom_support.i18n import tr

BACKUPS_KEPT = 5
T = TypeVar("T")


# SQLite primary result codes (the low byte of an extended code) that mean "the disk could not
# take this" rather than "the program asked for something wrong": FULL, IOERR, READONLY, BUSY,
# LOCKED, CANTOPEN (a read-only file system refuses to open the -wal for writing), and CORRUPT
# and NOTADB (the file was damaged under us: saving elsewhere is the only way out).
_STORAGE_KINDS = {
    13: "full",
    10: "io",
    8: "readonly",
    5: "locked",
    6: "locked",
    14: "io",
    11: "corrupt",
    26: "corrupt",
}
# SQLite often reports a full disk as an I/O error (growing the -shm, writing the -wal):
# below this much free space an I/O error is called what it most likely is.
LOW_SPACE_BYTES = 256 * 1024
STORAGE_KINDS = ("full", "io", "readonly", "locked", "corrupt")


class StorageError(DatabaseError):
    """A read or write could not reach the disk: full, I/O error, read-only, or locked beyond
    the busy timeout. The transaction was rolled back, so nothing half-written remains and the
    caller still holds what the user typed; `kind` lets a screen say what to do."""

    def __init__(self, kind: str, path: Path, detail: str = "") -> None:
        self.kind = kind
        self.path = path
        self.detail = detail
        super().__init__(
            tr(f"storage.{kind}", path=path, detail=detail, seconds=BUSY_TIMEOUT_MS // 1000)
        )


def _disk_state(path: Path) -> str | None:
    """'readonly' or 'full' when the file system holding `path` says so, else None."""
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY:
        return "readonly"
    if st.f_bavail * st.f_frsize < LOW_SPACE_BYTES:
        return "full"
    return None


def storage_error(exc: BaseException, path: Path) -> StorageError | None:
    """The StorageError that `exc` (an SQLAlchemy or sqlite3 error) stands for, or None when it
    is something else (a constraint, a bug) that must surface as it is."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, sqlite3.Error):
        return None
    code = getattr(orig, "sqlite_errorcode", None)
    kind = _STORAGE_KINDS.get(code & 0xFF) if isinstance(code, int) else None
    if kind is None:
        return None
    if kind in ("io", "full"):
        kind = _disk_state(path) or kind
    detail = getattr(orig, "sqlite_errorname", "") or str(orig)
    return StorageError(kind, path, detail)


def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # Take transactions away from the driver: we issue BEGIN (IMMEDIATE) ourselves.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # busy_timeout first: switching to WAL may need to wait for another connection.
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _on_begin(conn: Any) -> None:
    # Writers take the write lock up front, so two writers never deadlock mid-transaction.
    if conn.get_execution_options().get("classroom_read"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        poolclass=QueuePool,
        pool_size=2,
        max_overflow=4,
        # The connection returned last is lent first: a thread's next read gets the one it
        # used, its page cache warm (the queue reads on a connection of its own: read_driver).
        pool_use_lifo=True,
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


# Databases this process has open (resolved path → count): their -wal is this process's own,
# and probing their lock files would drop SQLite's POSIX locks (see db_files).
_OPEN_HERE: dict[Path, int] = {}


@dataclass
class Database:
    path: Path
    engine: Engine
    _registered: bool = False
    _watcher: ChangeWatcher | None = None
    # write_driver's own connection (opened by the engine, so with the same pragmas, then
    # detached from its pool), one transaction at a time; closed whenever the engine is disposed.
    _writer: sqlite3.Connection | None = None
    _writer_lock: threading.RLock = field(default_factory=threading.RLock)
    # read_driver's own connection, the same way: the queue's reads, and the search hits its
    # temporary tables keep from one page to the next (queue_search.py).
    _reader: sqlite3.Connection | None = None
    _reader_lock: threading.RLock = field(default_factory=threading.RLock)

    def watcher(self) -> ChangeWatcher:
        """The one change watcher of this database, opened on first use."""
        if self._watcher is None:
            self._watcher = ChangeWatcher(self.path)
        return self._watcher

    def __post_init__(self) -> None:
        key = self.path.resolve()
        _OPEN_HERE[key] = _OPEN_HERE.get(key, 0) + 1
        self._registered = True
        event.listen(self.engine, "engine_disposed", self._drop_writer)
        event.listen(self.engine, "engine_disposed", self._drop_reader)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One `BEGIN IMMEDIATE` transaction; committed when the block ends without error.

        The one place where a disk that cannot take the write (full, I/O error, read-only,
        locked too long) becomes a StorageError: every writer, screen and command gets the
        same error, with the transaction rolled back."""
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except DBAPIError as exc:
            self._raise_storage_error(exc)
            raise

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """The same `BEGIN IMMEDIATE` transaction as `write()`, as a Core connection without an
        ORM session: for a few fixed statements where the unit of work costs more than the
        durable commit (bulk loads in tests and benches). Same errors as `write()`."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            self._raise_storage_error(exc)
            raise

    def write_driver(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(conn)` in the same `BEGIN IMMEDIATE` transaction as `write()`, on a plain
        `sqlite3` connection the engine opened (its pragmas set on connect) and this database
        keeps for it: committed when `work` returns, rolled back when it raises. For the
        hottest path (`TicketDesk.create`: one SELECT and two INSERTs), where SQLAlchemy's
        execution layer and pool cost as much as the durable commit; the driver keeps each
        statement prepared (its statement cache, by SQL text). One caller at a time (a lock);
        others still write through the pool. Same StorageError as `write()`; other database
        errors surface as the driver's own."""
        with self._writer_lock:
            if self._writer is None:
                self._writer = self._open_detached()
            return self._in_transaction(self._writer, "BEGIN IMMEDIATE", work, self._drop_writer)

    def read_driver(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(conn)` in one read snapshot (a deferred BEGIN, as `read()`), on a plain
        `sqlite3` connection the engine opened and this database keeps for reads, as
        `write_driver` keeps one for writes: for the queue's pages, read on every refresh,
        where a Session and the pool's checkout cost a tenth of a word search. Ends with
        COMMIT, not a rollback, so what `work` put in the connection's temporary tables stays
        (a word search's hits, for its next page). One caller at a time (a lock); never takes
        the write lock. Same StorageError as `read()`."""
        with self._reader_lock:
            if self._reader is None:
                self._reader = self._open_detached()
            return self._in_transaction(self._reader, "BEGIN", work, self._drop_reader)

    def _in_transaction(
        self,
        conn: sqlite3.Connection,
        begin: str,
        work: Callable[[sqlite3.Connection], T],
        drop: Callable[[], None],
    ) -> T:
        """`work(conn)` between `begin` and COMMIT; on failure rolled back (`_abandon`)."""
        try:
            conn.execute(begin)
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            self._abandon(conn, exc, drop)
            raise
        return result

    def _open_detached(self) -> sqlite3.Connection:
        """A new connection of the engine's (its pragmas set on connect), taken out of the pool."""
        try:
            fairy = self.engine.raw_connection()  # a new connection sets its pragmas here
        except (sqlite3.Error, DBAPIError) as exc:
            error = storage_error(exc, self.path)
            if error is None:
                raise
            raise error from exc
        conn: sqlite3.Connection = fairy.driver_connection  # type: ignore[assignment]
        fairy.detach()  # ours now: the pool neither counts, resets nor closes it
        return conn

    def _drop_writer(self, _engine: Engine | None = None) -> None:
        with self._writer_lock:
            conn, self._writer = self._writer, None
            if conn is not None:
                conn.close()  # rolls back whatever is open

    def _drop_reader(self, _engine: Engine | None = None) -> None:
        with self._reader_lock:
            conn, self._reader = self._reader, None
            if conn is not None:
                conn.close()

    def _abandon(
        self, conn: sqlite3.Connection, exc: BaseException, drop: Callable[[], None]
    ) -> None:
        """After a driver's work or commit failed: roll back (or `drop` the connection when
        it may be unsound); raise the StorageError `exc` stands for, if any."""
        error = storage_error(exc, self.path) if isinstance(exc, sqlite3.Error) else None
        sound = error is None or error.kind != "io"
        if sound and conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                sound = False
        if not sound:
            drop()
        if error is not None:
            if error.kind == "io":
                # As write(): after an I/O error every connection's view of the file is suspect.
                self.engine.dispose()
            raise error from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only snapshot (deferred BEGIN); never takes the write lock."""
        reader = self.engine.execution_options(classroom_read=True)
        try:
            with Session(reader, expire_on_commit=False) as session:
                yield session  # close() ends the read transaction and detaches without expiring
        except DBAPIError as exc:
            self._raise_storage_error(exc)
            raise

    def _raise_storage_error(self, exc: DBAPIError) -> None:
        error = storage_error(exc, self.path)
        if error is None:
            return
        if error.kind == "io":
            # After an I/O error a connection's view of the file is suspect: start afresh.
            self.engine.dispose()
        raise error from exc

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self.engine.dispose()
        if self._registered:
            self._registered = False
            key = self.path.resolve()
            _OPEN_HERE[key] -= 1
            if not _OPEN_HERE[key]:
                del _OPEN_HERE[key]


def current_revision(path: Path) -> str | None:
    """None for a new/empty file; "" for one that predates the first migration; else the id."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        row = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if row is None:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise DatabaseError(f"{path} is not a classroom-support database")
            return None
        found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return found[0] if found else ""
    except sqlite3.DatabaseError as exc:
        raise storage_error(exc, path) or DatabaseError(
            f"{path} cannot be read as SQLite: {exc}"
        ) from None
    finally:
        conn.close()


def backup_database(path: Path, backup_dir: Path, label: str, now: datetime | None = None) -> Path:
    """An online, consistent copy (SQLite backup API); keeps the newest few."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    dest = backup_dir / f"{path.stem}-{stamp}-{label}.sqlite3"
    src = sqlite3.connect(path)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    old = sorted(backup_dir.glob(f"{path.stem}-*.sqlite3"))
    for stale in old[:-BACKUPS_KEPT]:
        stale.unlink(missing_ok=True)
    return dest


def run_migrations(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_database(path: Path, backup_dir: Path | None = None) -> Database:
    """Open (creating if needed) and migrate. Backs up an existing database before migrating."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create the folder for {path}: {exc}") from None
    try:
        check_main_file(path)
        if path.resolve() not in _OPEN_HERE:
            check_wal_belongs(path)
    except FileRefused as exc:
        raise DatabaseError(str(exc)) from None
    revision = current_revision(path)
    engine = make_engine(path)
    if revision != HEAD_REVISION:
        if revision and revision not in _known_revisions():
            engine.dispose()
            raise DatabaseError(
                f"{path} was written by a newer classroom-support (revision {revision}); "
                "upgrade the program or open another database with --db"
            )
        try:
            if revision is not None:  # existing data: keep a copy before changing its shape
                backup_database(
                    path, backup_dir or path.parent / "backups", f"before-{HEAD_REVISION}"
                )
            run_migrations(engine)
        except (sqlite3.Error, DBAPIError) as exc:
            engine.dispose()
            error = storage_error(exc, path)
            if error is None:
                raise
            raise error from None
        except OSError as exc:
            engine.dispose()
            raise DatabaseError(
                f"cannot back up {path} before upgrading it: {exc.strerror or exc}"
            ) from None
    return Database(path=path, engine=engine)


def _known_revisions() -> set[str]:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
