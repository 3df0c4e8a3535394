"""Opening the database: a URL from a path, and an engine with the pragmas and the
transaction mode every writer relies on (`BEGIN IMMEDIATE` on SQLite)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 10_000


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL as given, or a path to a SQLite file. PostgreSQL's own URL form
    (`postgresql://`, `postgres://`) gets the driver the project ships (psycopg 3)."""
    text = str(db)
    for plain in ("postgresql://", "postgres://"):
        if text.startswith(plain):
            return "postgresql+psycopg://" + text[len(plain) :]
    if "://" in text:
        return text
    path = Path(text).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # an acknowledged push survives power loss
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get("central_read"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=12,
            hide_parameters=True,  # errors get logged: never with a row's names or phones
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    except ImportError as exc:  # the driver is an optional extra: say so in one line
        hint = (
            " (the project's `pg` extra brings psycopg 3: pip install 'classroom-support[pg]',"
            " URL postgresql+psycopg://...)"
            if url.startswith("postgres")
            else ""
        )
        raise NoSuchModuleError(
            f"the database driver for {url.split('://', 1)[0]} is not installed{hint}: {exc}"
        ) from exc


def shown_url(db: str) -> str:
    """A database URL fit for messages and logs: the password masked."""
    if "://" not in db:
        return db
    try:
        return make_url(db).render_as_string(hide_password=True)
    except ArgumentError:
        return db.split("://", 1)[0] + "://..."
