"""Plain reads of the central projection and history (status page, tests, tools)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    select,
)

from classroom_support.central import models as m
from classroom_support.central.store.core import StoreCore
from classroom_support.central.store.wire import (
    closure_row_to_wire,
    event_row_to_wire,
    session_row_to_wire,
)
from classroom_support.models import Ticket
from classroom_support.tickets import (
    TicketNotFound,
)


class ReadsMixin(StoreCore):
    def ticket(self, ref_or_id: str) -> Ticket:
        with self.read() as conn:
            row = conn.execute(
                select(m.tickets).where(
                    (m.tickets.c.ref == ref_or_id) | (m.tickets.c.id == ref_or_id)
                )
            ).first()
        if row is None:
            raise TicketNotFound("error.not_found", ref=ref_or_id)
        return Ticket(**dict(row._mapping))

    def tickets(self, hall: str | None = None) -> list[Ticket]:
        q = select(m.tickets).order_by(m.tickets.c.created_at, m.tickets.c.id)
        if hall is not None:
            q = q.where(m.tickets.c.hall_code == hall)
        with self.read() as conn:
            return [Ticket(**dict(r._mapping)) for r in conn.execute(q)]

    def events(self, ticket_id: str | None = None) -> list[dict[str, Any]]:
        q = select(m.events).order_by(m.events.c.seq)
        if ticket_id is not None:
            q = q.where(m.events.c.ticket_id == ticket_id)
        with self.read() as conn:
            return [event_row_to_wire(r) for r in conn.execute(q)]

    def session_rows(self) -> list[dict[str, Any]]:
        with self.read() as conn:
            return [
                session_row_to_wire(r)
                for r in conn.execute(select(m.sessions).order_by(m.sessions.c.id))
            ]

    def closure_rows(self) -> list[dict[str, Any]]:
        with self.read() as conn:
            return [
                closure_row_to_wire(r)
                for r in conn.execute(select(m.closures).order_by(m.closures.c.id))
            ]
