"""`classroom-support check`: is this database sound, and does every ticket row still say what
its events say? It never migrates or seeds, and writes nothing (`query_only`); only SQLite's
own checkpoint of a verified `-wal` may happen when it closes, as at any start-up.

Checks, each problem one line: the file itself (folder, empty, not SQLite, cut short, a stray
`-wal`: db_files), SQLite's `integrity_check` and `foreign_key_check`, the schema revision, and
the fold check (every ticket row equals the fold of its events, the rule tickets.py keeps).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classroom_support.db_files import (
    FileRefused,
    check_main_file,
    check_wal_belongs,
    integrity_problems,
)

# Enough lines to see the kind of damage, not a screenful per broken page.
MAX_SQLITE_LINES = 50


@dataclass
class CheckReport:
    path: Path
    tickets: int = 0
    events: int = 0
    revision: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "database": str(self.path),
            "ok": self.ok,
            "revision": self.revision,
            "tickets": self.tickets,
            "events": self.events,
            "problems": self.problems,
        }


def check_database(path: Path) -> CheckReport:
    """Every problem found in the database at `path` (none: it is sound)."""
    from classroom_support.db import HEAD_REVISION, _known_revisions

    report = CheckReport(path=path)
    if not path.exists():
        report.problems.append(f"{path} does not exist")
        return report
    try:
        check_main_file(path)
        check_wal_belongs(path)
    except FileRefused as exc:
        report.problems.append(str(exc))
        return report
    try:
        # Not mode=ro: a read-only connection to a WAL database leaves -wal/-shm files behind.
        conn = sqlite3.connect(path, timeout=5)
        conn.execute("PRAGMA query_only=ON")
    except sqlite3.Error as exc:
        report.problems.append(f"{path} cannot be opened: {exc}")
        return report
    try:
        _sqlite_checks(conn, report)
        if report.problems:
            return report  # a damaged file: the fold would only repeat the damage
        report.revision = _revision(conn)
        if report.revision is None:
            report.problems.append(f"{path} is not a classroom-support database (no revision)")
            return report
        if report.revision != HEAD_REVISION:
            if report.revision not in _known_revisions():
                report.problems.append(
                    f"schema revision {report.revision} is newer than this program's "
                    f"{HEAD_REVISION}; upgrade classroom-support"
                )
                return report
            # An older schema: open it once with the app to migrate, then the fold is checked.
            report.problems.append(
                f"schema revision {report.revision} predates {HEAD_REVISION}; "
                "start classroom-support once on it to upgrade, then check again"
            )
            return report
        _fold_checks(conn, report)
    except sqlite3.Error as exc:
        report.problems.append(f"{path} cannot be read: {exc}")
    finally:
        conn.close()
    return report


def _sqlite_checks(conn: sqlite3.Connection, report: CheckReport) -> None:
    problems = integrity_problems(conn, MAX_SQLITE_LINES)
    report.problems.extend(f"integrity: {p}" for p in problems)
    if problems:
        return
    for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        report.problems.append(f"foreign key: {table} row {rowid} points at a missing {parent}")
        if len(report.problems) >= MAX_SQLITE_LINES:
            break


def _revision(conn: sqlite3.Connection) -> str | None:
    found = conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
    ).fetchone()
    if found is None:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _fold_checks(conn: sqlite3.Connection, report: CheckReport) -> None:
    """Through the models, so the comparison is the one the tests hold the fold to."""
    from sqlalchemy import create_engine
    from sqlmodel import Session, col, select

    from classroom_support.models import Ticket, TicketEvent
    from classroom_support.tickets import TicketError, fold

    engine = create_engine("sqlite://", creator=lambda: conn)
    found: list[str] = []
    try:
        with Session(engine) as s:
            tickets = {t.id: t for t in s.exec(select(Ticket))}
            report.tickets = len(tickets)
            seen: set[str] = set()
            for ticket_id, events in _grouped(
                s.exec(select(TicketEvent).order_by(col(TicketEvent.ticket_id)))
            ):
                report.events += len(events)
                seen.add(ticket_id)
                row = tickets.get(ticket_id)
                if row is None:
                    found.append(f"events of a missing ticket {ticket_id}")
                    continue
                try:
                    folded = fold(events).model_dump()
                except TicketError as exc:
                    found.append(f"ticket {row.ref}: {exc}")
                    continue
                stored = row.model_dump()
                differ = sorted(k for k in stored if stored[k] != folded.get(k))
                if differ:
                    found.append(
                        f"ticket {row.ref}: row differs from the fold of its events "
                        f"({', '.join(differ)})"
                    )
            for ticket_id in tickets.keys() - seen:
                found.append(f"ticket {tickets[ticket_id].ref}: no events")
    finally:
        engine.dispose()
    report.problems.extend(sorted(found))  # by reference: the same report every time


def _grouped(events: Any) -> Iterator[tuple[str, list[Any]]]:
    current: str | None = None
    batch: list[Any] = []
    for event in events:
        if event.ticket_id != current and batch:
            yield current or "", batch
            batch = []
        current = event.ticket_id
        batch.append(event)
    if batch:
        yield current or "", batch
