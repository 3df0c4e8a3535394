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


def test_the_reader_connection_reads_snapshots_and_keeps_its_temporary_tables(
    tmp_path: Path,
) -> None:
    db = open_database(tmp_path / "x.sqlite3")
    other = sqlite3.connect(tmp_path / "x.sqlite3", timeout=0, isolation_level=None)

    def count(conn: sqlite3.Connection) -> int:
        assert conn.in_transaction  # one snapshot for the whole of the work
        # A read never holds the write lock: another writer can begin meanwhile.
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return int(conn.execute("SELECT count(*) FROM hall").fetchone()[0])

    before = db.read_driver(count)
    other.execute("INSERT INTO hall (code, name, name_ar) VALUES ('Z9', 'Z9', 'Z9')")
    assert db.read_driver(count) == before + 1  # the next read sees the commit

    def remember(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TEMP TABLE kept (x)")
        conn.execute("INSERT INTO kept VALUES (7)")

    db.read_driver(remember)
    assert db.read_driver(lambda c: c.execute("SELECT x FROM kept").fetchall()) == [(7,)]

    def fails(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO kept VALUES (8)")
        raise ValueError("the work failed")

    with pytest.raises(ValueError):
        db.read_driver(fails)  # rolled back, the connection ready for the next read
    assert db.read_driver(lambda c: c.execute("SELECT x FROM kept").fetchall()) == [(7,)]
    db.engine.dispose()  # as after an I/O error: a new connection next time
    assert db.read_driver(count) == before + 1
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


def test_upgrade_from_the_first_schema_backs_up_then_migrates(tmp_path: Path) -> None:
    from alembic import command

    from classroom_support.db import make_engine

    path = tmp_path / "x.sqlite3"
    engine = make_engine(path)
    cfg = AlembicConfig()
    cfg.set_main_option(
        "script_location", str(Path(classroom_support.__file__).parent / "migrations")
    )
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_initial")
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO ticket (id, ref, hall_code, session_label, title, seat, trainee_name, "
        "trainee_contact, category, priority, channel, caller_number, remote_session_id, status, "
        "assignee, tier, created_by, origin_device, device_seq, created_at, updated_at, "
        "last_hlc, event_count, conflicts) VALUES ('t1', 'ABCD-1', 'A101', '', 'old ticket', '', "
        "'', '', 'other', 'critical', 'in_hall', '', '', 'verified', '', 'L1', 'x', 'd', 1, "
        "'2026-01-01 00:00:00', '2026-01-01 00:00:00', '', 1, 0)"
    )
    conn.commit()
    conn.close()

    db = open_database(path, tmp_path / "backups")
    [backup] = list((tmp_path / "backups").glob("*.sqlite3"))
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001_initial",)
    assert copy.execute("SELECT title FROM ticket").fetchone() == ("old ticket",)
    copy.close()
    with db.engine.connect() as c:
        row = c.exec_driver_sql("SELECT is_open, priority_rank, pauses FROM ticket").fetchone()
        assert tuple(row) == (0, 3, "[]")
        version = c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert version == HEAD_REVISION
    db.close()


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import Column

    from classroom_support.models import metadata

    # Alembic cannot reflect SQLite indexes with an expression or a DESC column, so it cannot
    # compare them: those are checked by name and SQL below instead.
    expression = {
        ix.name
        for table in metadata.tables.values()
        for ix in table.indexes
        if not all(isinstance(e, Column) for e in ix.expressions)
    }
    db = open_database(tmp_path / "x.sqlite3")
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        # The search index (migrations 0010, 0012) is FTS5 tables and their shadow tables, kept by
        # triggers: not a model.
        search = {"remove_table"}, "ticket_fts"
        diff = [d for d in diff if not (d[0] in search[0] and d[1].name.startswith(search[1]))]
        assert [d for d in diff if not (d[0].endswith("_index") and d[1].name in expression)] == []
        stored = {
            name: sql
            for name, sql in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            )
        }
    db.close()
    for name in expression:
        assert name in stored
        ix = next(i for t in metadata.tables.values() for i in t.indexes if i.name == name)
        for e in ix.expressions:
            assert (e.name if isinstance(e, Column) else str(e).strip("()")) in stored[name]


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
    with pytest.raises(DatabaseError, match="is not an SQLite database"):
        open_database(path)


def test_upgrade_from_0011_splits_the_search_index(tmp_path: Path) -> None:
    """Migration 0012: the open and the closed tickets each in a search index of their own,
    the data kept, the same search results; the downgrade gives back 0010's one index."""
    from datetime import UTC, datetime

    from alembic import command

    from classroom_support.db import make_engine
    from classroom_support.queue_sql import OPEN_STATUSES, QueueQuery, read_page
    from classroom_support.ticket_rows import (
        TICKET_FIELDS,
        TICKET_INSERT,
        row_values,
        ticket_values,
    )

    path = tmp_path / "x.sqlite3"
    engine = make_engine(path)
    cfg = AlembicConfig()
    cfg.set_main_option(
        "script_location", str(Path(classroom_support.__file__).parent / "migrations")
    )
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0011_route_index")
    engine.dispose()
    at = datetime(2026, 11, 1, 8, tzinfo=UTC)
    titles = ("Projector flickers", "no sound", "بروجكتر لا يعمل", "projector cable")
    rows = []
    for i in range(40):
        status = ("new", "in_progress", "resolved", "verified")[i % 4]
        values = ticket_values(
            {
                "id": f"t{i:02d}",
                "ref": f"MIGR-{i}",
                "device_seq": i + 1,
                "hall_code": ("A101", "B202")[i % 2],
                "title": titles[i % 3 if i % 5 else 3],
                "seat": f"PC-{i % 7}",
                "trainee_name": "",
                "assignee": "",
                "status": status,
                "is_open": status != "verified",
                "created_at": at,
                "updated_at": at,
            }
        )
        rows.append(row_values(values, TICKET_FIELDS))
    conn = sqlite3.connect(path)
    conn.executemany(TICKET_INSERT, rows)
    conn.commit()
    conn.close()

    def found(conn: sqlite3.Connection, text: str, statuses: tuple[str, ...]) -> list[str]:
        _, page = read_page(conn, QueueQuery(search=text, statuses=statuses, sort="ref"), ["ref"])
        return [r[0] for r in page]

    def expected(text: str, statuses: tuple[str, ...]) -> list[str]:
        refs = [
            r[TICKET_FIELDS.index("ref")]
            for r in rows
            if text.casefold() in r[TICKET_FIELDS.index("title")].casefold()
            and (not statuses or r[TICKET_FIELDS.index("status")] in statuses)
        ]
        return sorted(refs)

    open_database(path, tmp_path / "backups").close()
    assert list((tmp_path / "backups").glob("*.sqlite3"))
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD_REVISION,)
    assert conn.execute("SELECT count(*) FROM ticket").fetchone() == (40,)
    for text in ("projector", "PROJ", "بروجكتر", "cable"):
        for statuses in (OPEN_STATUSES, ("verified",), (), ("new", "verified")):
            assert found(conn, text, statuses) == expected(text, statuses), (text, statuses)
    for part, state in (("open", 1), ("closed", 0)):
        assert (
            conn.execute(
                f"SELECT count(*) FROM ticket_fts_{part} WHERE ticket_fts_{part} MATCH 'migr'"
            ).fetchone()
            == conn.execute("SELECT count(*) FROM ticket WHERE is_open = ?", (state,)).fetchone()
        )
        conn.execute(f"INSERT INTO ticket_fts_{part}(ticket_fts_{part}) VALUES ('integrity-check')")
    conn.close()

    engine = make_engine(path)
    with engine.connect() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0011_route_index")
    engine.dispose()
    conn = sqlite3.connect(path)
    names = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'ticket_fts%'")
    }
    assert "ticket_fts" in names and "ticket_fts_open" not in names
    conn.execute("INSERT INTO ticket_fts(ticket_fts) VALUES ('integrity-check')")
    hits = conn.execute("SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH '\"projector\"'")
    got = conn.execute(
        f"SELECT ref FROM ticket WHERE rowid IN ({', '.join(str(r[0]) for r in hits)}) ORDER BY ref"
    ).fetchall()
    assert [r[0] for r in got] == expected("projector", ())
    conn.close()
