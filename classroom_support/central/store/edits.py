"""Changes made on the server itself: tickets filed centrally (contact centre, web form),
central actions on a ticket, and central session/closure edits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    Connection,
    func,
    insert,
    select,
    update,
)

from classroom_support.central import models as m
from classroom_support.central.store.core import CENTRAL
from classroom_support.central.store.errors import StoreError
from classroom_support.central.store.mail import MailMixin
from classroom_support.central.store.rows import RowMergeMixin
from classroom_support.central.validation import payload_problem
from classroom_support.hlc import HLC, tick
from classroom_support.models import Ticket, TicketEvent
from classroom_support.tickets import (
    EVENT_KINDS,
    InvalidTransition,
    TicketDraft,
    TicketNotFound,
    apply_event,
    created_payload,
    ticket_from_created,
    validate_draft,
)


class EditsMixin(RowMergeMixin, MailMixin):
    def _next_hlc(self, conn: Connection) -> str:
        last = conn.execute(select(func.max(m.events.c.hlc))).scalar()
        last_hlc = HLC.decode(last) if last else HLC(0, 0)
        return tick(last_hlc, int(self.clock.now().timestamp() * 1000)).encode()

    def _central_event(
        self,
        conn: Connection,
        ticket_id: str,
        hall: str,
        kind: str,
        payload: dict[str, Any],
        actor: str,
        seq: int,
        event_id: str | None = None,
    ) -> TicketEvent:
        model = TicketEvent(
            id=event_id or str(uuid.uuid4()),
            ticket_id=ticket_id,
            kind=kind,
            payload=json.dumps(payload, ensure_ascii=False),
            device_id=self.central_device_id,
            actor=actor,
            occurred_at=self.clock.now(),
            hlc=self._next_hlc(conn),
            server_seq=seq,
        )
        conn.execute(
            insert(m.events).values(
                id=model.id,
                seq=seq,
                ticket_id=ticket_id,
                hall_code=hall,
                kind=kind,
                payload=model.payload,
                device_id=model.device_id,
                actor=actor,
                occurred_at=model.occurred_at,
                hlc=model.hlc,
                received_at=model.occurred_at,
                pushed_by=CENTRAL,
            )
        )
        return model

    def _session_label(self, conn: Connection, session_id: str | None) -> str:
        """The course name, so the hall laptop shows which course a web-form ticket came from."""
        if not session_id:
            return ""
        row = conn.execute(select(m.sessions.c.course).where(m.sessions.c.id == session_id)).first()
        return str(row[0]) if row else ""

    def create_ticket(self, draft: TicketDraft, actor: str = "contact-centre") -> Ticket:
        """A ticket filed centrally (contact centre, web form): numbered with the server's
        own prefix, so it never collides with a laptop's references."""
        draft = validate_draft(draft, self.config)
        with self.write() as conn:
            return self._file_ticket(conn, draft, actor)

    def _file_ticket(
        self, conn: Connection, draft: TicketDraft, actor: str, with_desk: str = "hall"
    ) -> Ticket:
        """`create_ticket` inside a caller's transaction (the web form records its token in
        the same one). `with_desk="contact-centre"`: not routed to a desk yet (e-mail that
        names no hall)."""
        head = self._lock_head(conn) + 1
        seq = (
            conn.execute(
                select(func.max(m.tickets.c.device_seq)).where(
                    m.tickets.c.origin_device == self.central_device_id
                )
            ).scalar()
            or 0
        ) + 1
        label = self._session_label(conn, draft.session_id)
        payload = created_payload(draft, self.central_prefix, seq, label)
        if with_desk != "hall":
            payload["with_desk"] = with_desk
        ticket_id = str(uuid.uuid4())
        assert draft.hall_code is not None
        model = self._central_event(
            conn, ticket_id, draft.hall_code, "created", payload, actor, head
        )
        ticket = ticket_from_created(model)
        conn.execute(insert(m.tickets).values(**ticket.model_dump()))
        self._queue_event_mail(conn, [(model.id, "created", payload, ticket_id)])
        self._set_head(conn, head)
        return ticket

    def act(self, ref: str, kind: str, payload: dict[str, Any], actor: str = "level2") -> Ticket:
        """A change made centrally (Level 2 verifies, the contact centre adds a note...).
        Checked against the current projection like `TicketDesk` does; raises
        InvalidTransition before anything is written."""
        if kind not in EVENT_KINDS or kind == "created":
            raise InvalidTransition("error.bad_event", kind=kind)
        problem = payload_problem(payload)  # what is stored must be servable (validation.py)
        if problem:
            raise StoreError("bad_payload", problem)
        with self.write() as conn:
            return self._act(conn, ref, kind, payload, actor)

    def _act(
        self, conn: Connection, ref: str, kind: str, payload: dict[str, Any], actor: str
    ) -> Ticket:
        """`act` inside a caller's transaction (the e-mail channel records the message in the
        same one); the payload is the caller's to check."""
        row = conn.execute(
            select(m.tickets).where((m.tickets.c.ref == ref) | (m.tickets.c.id == ref))
        ).first()
        if row is None:
            raise TicketNotFound("error.not_found", ref=ref)
        ticket = Ticket(**dict(row._mapping))
        head = self._lock_head(conn) + 1
        model = self._central_event(conn, ticket.id, ticket.hall_code, kind, payload, actor, head)
        apply_event(ticket, model)  # raises: the transaction rolls back
        conn.execute(
            update(m.tickets).where(m.tickets.c.id == ticket.id).values(**ticket.model_dump())
        )
        self._queue_event_mail(conn, [(model.id, kind, payload, ticket.id)])
        self._set_head(conn, head)
        return ticket

    def put_session(self, wire: Mapping[str, Any]) -> dict[str, Any]:
        """A course session added or edited centrally (last writer wins, like a push)."""
        with self.write() as conn:
            head = self._lock_head(conn)
            result, head = self._merge_session(conn, CENTRAL, None, wire, head)
            self._set_head(conn, head)
        self._calendars.clear()
        return result

    def put_closure(self, wire: Mapping[str, Any]) -> dict[str, Any]:
        with self.write() as conn:
            head = self._lock_head(conn)
            result, head = self._merge_closure(conn, CENTRAL, wire, head)
            self._set_head(conn, head)
        self._calendars.clear()
        return result
