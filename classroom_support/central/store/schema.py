"""The central schema's version: Alembic scripts in `central/migrations/`, applied when a store
opens (so `central serve` upgrades before it answers) and by `central migrate`.

- An empty database is built by the scripts from the first one.
- A database made before migrations existed (tables from `create_all`, no version table) is
  compared with revision 0001's tables: if it matches it is stamped 0001 without change (tables
  a still older server never created are added first, as `create_all` did on every start);
  if it differs it is refused, untouched.
- A database at a revision this code does not know (written by a newer version) is refused.
- Servers starting together take turns: the whole check-and-upgrade is one transaction, begun
  with `BEGIN IMMEDIATE` on SQLite (the write lock) and run under a PostgreSQL advisory lock,
  so a second server waits, then finds the work done.
- Before an existing SQLite database's schema changes, an online backup goes to `backups/`
  beside it (the laptop's habit); for PostgreSQL the docs say to `pg_dump` first.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, func, inspect, select

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "central_alembic_version"
INITIAL_REVISION = "0001_initial"
# pg_advisory_lock key held while one server checks and upgrades the schema ("ClSM").
MIGRATION_LOCK_KEY = 0x436C534D
# Alembic's `context` is process-global: two threads must not run its commands at once.
_in_process = threading.Lock()


class SchemaError(Exception):
    """The database's schema cannot be used or upgraded by this code; one line says why."""


@dataclass(frozen=True)
class SchemaChange:
    """What opening did to the schema: `before` None means the database was empty."""

    before: str | None
    after: str
    adopted: bool = False  # made before migrations; recognised as revision 0001 and stamped
    added_tables: tuple[str, ...] = ()  # tables a pre-0001 server had not created yet
    backup: Path | None = None

    def describe(self) -> str:
        if self.before is None and self.adopted:
            start = f"unversioned (matches {INITIAL_REVISION}, stamped)"
        elif self.before is None:
            start = "empty"
        else:
            start = self.before
        line = f"central schema: {start} → {self.after}"
        if self.added_tables:
            line += f"; added {', '.join(self.added_tables)}"
        if self.before == self.after and not self.adopted:
            line += " (already current)"
        if self.backup is not None:
            line += f"; backup {self.backup}"
        return line


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(rev)s")  # files named like their revision id
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


@functools.cache
def head_revision() -> str:
    """The newest revision this code knows (the scripts do not change while it runs)."""
    head = script_directory().get_current_head()
    assert head is not None, "central migrations have no head"
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the database, or None when it has no version table (yet)."""
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def initial_schema() -> MetaData:
    """Revision 0001's tables: what `create_all` made before migrations existed."""
    module = script_directory().get_revision(INITIAL_REVISION).module
    schema: MetaData = module.schema()
    return schema


def upgrade_schema(engine: Engine, backup_dir: Path | None = None) -> SchemaChange:
    """Bring the database to this code's head revision, or raise SchemaError untouched."""
    from alembic import command

    script = script_directory()
    head = script.get_current_head()
    assert head is not None
    with _in_process, _migration_lock(engine) as conn, conn.begin():
        before = current_revision(conn)
        adopted = False
        added: tuple[str, ...] = ()
        backup = None
        if before is None:
            adopted, added = _unversioned_tables(conn)
        elif before not in {r.revision for r in script.walk_revisions()}:
            raise SchemaError(
                f"the central database is at revision {before}, newer than this "
                f"classroom-support (its newest is {head}); upgrade the program"
            )
        start = INITIAL_REVISION if adopted else before
        if start is not None and (start != head or added):  # existing tables will change
            backup = _backup_sqlite(engine, backup_dir, head)
        cfg = alembic_config(conn)
        if adopted:
            if added:  # what the old start-up's create_all would have added on this start
                initial_schema().create_all(conn, tables=_tables(initial_schema(), added))
            command.stamp(cfg, INITIAL_REVISION)
        if current_revision(conn) != head:
            command.upgrade(cfg, "head")
    return SchemaChange(before, head, adopted, added, backup)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection on which this process alone checks and upgrades the schema.

    SQLite: the caller's transaction begins with `BEGIN IMMEDIATE` (engine.py), which is the
    write lock. PostgreSQL: a session advisory lock, taken in its own transaction before the
    upgrade's transaction begins, so that transaction's snapshot already sees the work of
    whichever server held the lock before.
    """
    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            yield conn
            return
        conn.execute(select(func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
        conn.commit()
        try:
            yield conn
        finally:
            try:
                if conn.in_transaction():
                    conn.rollback()
                conn.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
                conn.commit()
            except Exception:
                conn.invalidate()  # a closed session releases its lock


def _unversioned_tables(conn: Connection) -> tuple[bool, tuple[str, ...]]:
    """(adopt?, tables to add) for a database with no version table. Nothing central in it:
    not adopted (the scripts build everything). Revision 0001's tables, some possibly missing:
    adopted. Anything else: SchemaError."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    initial = initial_schema()
    present = set(inspect(conn).get_table_names()) & set(initial.tables)
    if not present:
        return False, ()

    def ours(name: str | None, kind: str, _parent: Any) -> bool:
        return kind != "table" or name in present

    context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": ours})
    missing = tuple(sorted(set(initial.tables) - present))
    scoped = MetaData(naming_convention=initial.naming_convention)
    for name in sorted(present):
        initial.tables[name].to_metadata(scoped)
    differences = compare_metadata(context, scoped)
    if differences:
        raise SchemaError(
            "the central database has no migration version and its tables differ from "
            f"revision {INITIAL_REVISION} ({_describe(differences[0])}); nothing was changed"
        )
    return True, missing


def _tables(md: MetaData, names: tuple[str, ...]) -> list[Any]:
    return [md.tables[name] for name in names]


def _describe(difference: Any) -> str:
    """One compare_metadata entry as a short phrase (modify_* entries come as lists)."""
    if isinstance(difference, list):
        difference = difference[0]
    kind = difference[0]
    if kind in ("add_column", "remove_column"):
        table, column = difference[2], difference[3]
        word = "lacks" if kind == "add_column" else "has an extra"
        return f"{table} {word} column {column.name}"
    if kind.startswith("modify_"):
        return f"{difference[2]}.{difference[3]}: {kind.removeprefix('modify_')} differs"
    target = difference[1]
    name = getattr(target, "name", target)
    return f"{kind.replace('_', ' ')} {name}"


def _backup_sqlite(engine: Engine, backup_dir: Path | None, head: str) -> Path | None:
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    from classroom_support.db import backup_database

    path = Path(engine.url.database)
    return backup_database(path, backup_dir or path.parent / "backups", f"before-central-{head}")
