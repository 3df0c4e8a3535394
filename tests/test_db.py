"""The store: durable pragmas, immediate writes, migrations with a backup first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

import classroom_support
from classroom_support.db import HEAD_REVISION, DatabaseError, open_database


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    cfg = AlembicConfig()
    cfg.set_main_option(
        "script_location", str(Path(classroom_support.__file__).parent / "migrations")
    )
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_pragmas_on_every_connection(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.sqlite3")
    with db.engine.connect() as conn:

        def pragma(name: str) -> object:
            return conn.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 5000
    db.close()


def test_writes_take_the_write_lock_up_front(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.sqlite3")
    other = sqlite3.connect(tmp_path / "x.sqlite3", timeout=0, isolation_level=None)
    with db.write() as s:
        s.connection().exec_driver_sql("SELECT count(*) FROM ticket").scalar()
        # Only a read so far, yet another writer cannot begin: the transaction is IMMEDIATE.
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    db.close()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.sqlite3")
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.write() as s:
        s.connection().exec_driver_sql(
            "INSERT INTO ticket_event (id, ticket_id, kind, payload, device_id, actor, "
            "occurred_at, hlc) VALUES ('e', 'no-such-ticket', 'note', '{}', 'd', 'a', "
            "'2026-01-01 00:00:00', '0')"
        )
    db.close()


def test_first_run_creates_database_without_backup(tmp_path: Path) -> None:
    path = tmp_path / "new" / "x.sqlite3"
    open_database(path, tmp_path / "backups").close()
    assert path.exists()
    assert not (tmp_path / "backups").exists()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD_REVISION,)
    conn.close()


def test_pending_migration_backs_up_first(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE marker (v TEXT)")
    conn.execute("INSERT INTO marker VALUES ('kept')")
    # Pretend the database is at an older revision: drop everything and forget the version.
    conn.execute("DELETE FROM alembic_version")
    for table in (
        "ticket_event",
        "ticket",
        "course_session",
        "device_identity",
        "hall",
        "roster_entry",
    ):
        conn.execute(f"DROP TABLE {table}")
    conn.commit()
    conn.close()
    # An empty alembic_version means "before the first migration": upgrade after a backup.
    open_database(path, tmp_path / "backups").close()
    [backup] = list((tmp_path / "backups").glob("*.sqlite3"))
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT v FROM marker").fetchone() == ("kept",)
    copy.close()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="newer classroom-support"):
        open_database(path)


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="not a classroom-support database"):
        open_database(path)


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="cannot be read as SQLite"):
        open_database(path)
