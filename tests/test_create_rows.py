"""`TicketDesk.create` writes its rows with fixed INSERTs on the driver's connection instead of
the ORM (ticket_rows.py, `Database.write_driver`): the stored rows must be exactly what the ORM
would have stored for the same objects, every column of them."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import pin_device

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.models import SyncState, Ticket, TicketEvent
from classroom_support.permissions import CONTACT_CENTRE, HALL
from classroom_support.sessions import SessionDraft
from classroom_support.ticket_rows import EVENT_INSERT, TICKET_INSERT
from classroom_support.tickets import TicketDraft, ValidationError, ticket_from_created


def raw_rows(path: Path, table: str, key: str, value: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(f"SELECT * FROM {table} WHERE {key} = ?", (value,)).fetchall()
        types = conn.execute(
            f"SELECT {', '.join('typeof(' + c[1] + ')' for c in conn.execute(f'PRAGMA table_info({table})'))} "  # noqa: E501
            f"FROM {table} WHERE {key} = ?",
            (value,),
        ).fetchall()
    finally:
        conn.close()
    return [*rows, *types]


def table_columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def test_create_writes_every_column_the_tables_have(ctx: AppContext) -> None:
    # A column left out of an INSERT would take its DDL default (or NULL), which the row
    # comparison below cannot tell from a value that happens to equal it (is_open, pauses...).
    for statement, table in ((TICKET_INSERT, "ticket"), (EVENT_INSERT, "ticket_event")):
        found = re.fullmatch(r"INSERT INTO (\w+) \(([^)]*)\) VALUES \(([?, ]*)\)", statement)
        assert found is not None, statement
        named = found[2].split(", ")
        assert found[1] == table
        assert named == table_columns(ctx.db.path, table)  # the migrated schema, in order
        assert found[3].count("?") == len(named)


@pytest.mark.parametrize("role", [HALL, CONTACT_CENTRE])
def test_create_stores_what_the_orm_would(
    make_ctx: Callable[..., AppContext], clock: FixedClock, role: str
) -> None:
    ctx = make_ctx()
    pin_device(ctx)
    if role != HALL:  # the scope the central server gave: read by create's lookup statement
        with ctx.db.write() as s:
            s.add(SyncState(id=1, role=role, halls="", all_halls=True))
    # A course running now: every kind of column is exercised.
    day = ctx.clock.now().astimezone(ctx.config.zone)
    ctx.sessions.add(
        SessionDraft("Excel — إكسل", "أ. سارة", day.date().isoformat(), "00:00", "23:59")
    )
    current = ctx.sessions.current()
    assert current is not None
    tickets = []
    for step in (timedelta(0), timedelta(microseconds=123_456)):  # whole second, then not
        clock.advance(step)
        tickets.append(
            ctx.desk.create(
                TicketDraft(
                    title="البروجكتور لا يعمل — 'No signal'",
                    seat="12",
                    trainee_name="نورة",
                    category="av",
                    priority="high",
                    channel="phone",
                    caller_number="0551234567",
                    session_id=current.id,
                )
            )
        )
    assert tickets[0].created_at.microsecond == 0
    assert tickets[1].created_at.microsecond == 123_456
    assert {t.session_label for t in tickets} == {"Excel — إكسل"}
    # Not the DDL default for a contact centre's ticket: a dropped column would show.
    assert {t.with_desk for t in tickets} == {"contact-centre" if role != HALL else "hall"}

    other = make_ctx(name="orm")
    for ticket in tickets:
        (event,) = ctx.desk.history(ticket.id)
        # What create returns is the ticket its event folds to, and what the store reads back.
        assert ticket.model_dump() == ticket_from_created(event).model_dump()
        assert ticket.model_dump() == ctx.desk.get(ticket.ref).model_dump()
        with other.db.write() as s:  # the same objects, through the ORM's unit of work
            s.add(Ticket(**ticket.model_dump()))
            s.flush()
            s.add(TicketEvent(**event.model_dump()))
        for table, key, value in (("ticket", "id", ticket.id), ("ticket_event", "id", event.id)):
            core = raw_rows(ctx.db.path, table, key, value)
            orm = raw_rows(other.db.path, table, key, value)
            assert len(core) == 2
            assert core == orm


def test_a_hall_outside_the_config_is_still_checked_against_the_scope(ctx: AppContext) -> None:
    with pytest.raises(ValidationError):
        ctx.desk.create(TicketDraft(title="x", hall_code="Z999"))
    made = ctx.desk.create(TicketDraft(title="x", hall_code=ctx.config.hall))
    assert made.hall_code == ctx.config.hall
