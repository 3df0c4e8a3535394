"""Mail notifications inside the store's transactions: the rows a stored event causes (rules ->
render -> outbox, in the same transaction as the event), the RCA reminders and the daily
digest the server's jobs add, and the sender's claim / sent / failed steps.

Nothing here runs unless `[mail] smtp` is configured (`config.mail.sending`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from classroom_support.central import models as m
from classroom_support.central.mail import digest, outbox
from classroom_support.central.mail.render import hours_text, local_time, one_line, render
from classroom_support.central.mail.rules import (
    STAFF,
    Notice,
    Recipient,
    notices_for_event,
    rca_missing_notices,
    resolve,
)
from classroom_support.central.store.calendars import CalendarMixin
from classroom_support.models import Ticket
from classroom_support.people import Person
from classroom_support.qr import status_url
from classroom_support.sla_policy import TicketClocks, clocks_of

MailItem = tuple[str, str, Any, str]  # event id, kind, payload (dict or JSON), ticket id


class MailMixin(CalendarMixin):
    # ------------------------------------------------------------ queueing (in a transaction)

    def _queue_event_mail(self, conn: Connection, items: Iterable[MailItem]) -> int:
        """Queue what these just-stored events cause, reading each ticket as it is now in this
        transaction. Returns the rows added."""
        if not self.config.mail.sending:
            return 0
        items = list(items)
        if not items:
            return 0
        tickets = self._tickets_in(conn, {item[3] for item in items})
        people = self._mail_people(conn)
        now = self.clock.now()
        notices: list[Notice] = []
        for event_id, kind, payload, ticket_id in items:
            ticket = tickets.get(ticket_id)
            if ticket is None:
                continue
            notices.extend(
                notices_for_event(
                    event_id=event_id,
                    kind=kind,
                    payload=payload,
                    ticket=ticket,
                    people=people,
                    config=self.config,
                )
            )
        return self._queue_notices(conn, notices, tickets, now)

    def _queue_notices(
        self, conn: Connection, notices: Sequence[Notice], tickets: dict[str, Ticket], now: datetime
    ) -> int:
        rows = []
        for notice in notices:
            ticket = tickets.get(notice.ticket_id)
            context = self._ticket_context(ticket, notice, now) if ticket else {}
            rows.append(self._rendered_row(notice, context, now))
        return outbox.insert_ignore(conn, rows)

    def _rendered_row(self, notice: Notice, context: dict[str, Any], now: datetime) -> dict:
        mail = self.config.mail
        rendered = render(notice.kind, notice.recipient.lang, context, mail.templates)
        return outbox.new_row(
            cause=notice.cause,
            recipient=notice.recipient.address,
            kind=notice.kind,
            ticket_id=notice.ticket_id,
            lang=notice.recipient.lang,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            domain=self.mail_from().rpartition("@")[2],
            now=now,
        )

    def mail_from(self) -> str:
        return self.config.mail.from_address or self.config.email

    def status_link(self, ticket_id: str) -> str:
        base = self.config.mail.status_base_url or self.config.central_url
        return status_url(base, ticket_id)

    def _base_context(self) -> dict[str, Any]:
        c = self.config
        return {
            "institute": {"ar": c.institute_name_ar or c.institute_name, "en": c.institute_name},
            "phone": c.phone,
        }

    def _ticket_context(self, ticket: Ticket, notice: Notice, now: datetime) -> dict[str, Any]:
        """What a mail about `ticket` may say. A trainee's mail gets the ticket's ref, hall,
        title and link only; staff also the rung, the deadline and how late it is."""
        c = self.config
        hall = c.hall_named(ticket.hall_code)
        context = {
            **self._base_context(),
            "ref": ticket.ref,
            "hall": ticket.hall_code,
            "hall_name": {
                "ar": (hall.name_ar or hall.name) if hall else ticket.hall_code,
                "en": hall.name if hall else ticket.hall_code,
            },
            "title": one_line(ticket.title, 300),
            "link": self.status_link(ticket.id),
        }
        if notice.audience != STAFF:
            return context
        step = next((s for s in c.escalation if s.id == notice.step), None)
        due = _instant(notice.due)
        late = 0.0
        if due is not None and due < now:
            late = self.calendar(ticket.hall_code).between(due, now) / timedelta(hours=1)
        context.update(
            priority=ticket.priority,
            clock=notice.clock,
            step_name={
                "ar": (step.name_ar or step.name) if step else "",
                "en": step.name if step else "",
            },
            due=local_time(due, c.zone),
            late_hours=hours_text(late),
        )
        return context

    def _tickets_in(self, conn: Connection, ids: Iterable[str]) -> dict[str, Ticket]:
        ids = list(ids)
        found = conn.execute(select(m.tickets).where(m.tickets.c.id.in_(ids)))
        return {r.id: Ticket(**dict(r._mapping)) for r in found}

    def _mail_people(self, conn: Connection, digest_only: bool = False) -> list[Person]:
        query = select(m.people).where(m.people.c.deleted.is_(False))
        if digest_only:
            query = query.where(m.people.c.digest.is_(True))
        return [
            Person(
                id=r.id,
                name=r.name,
                role=r.role,
                halls=tuple(h for h in r.halls.split(",") if h),
                email=r.email,
                lang=r.lang,
            )
            for r in conn.execute(query)
        ]

    def _queue_rca_missing(
        self, conn: Connection, due: Sequence[tuple[str, datetime]], now: datetime
    ) -> int:
        """RCA reminders for (ticket id, breached at) pairs the SLA run found overdue."""
        if not due:
            return 0
        tickets = self._tickets_in(conn, [t for t, _ in due])
        people = self._mail_people(conn)
        notices = [
            n
            for ticket_id, breached_at in due
            if ticket_id in tickets and tickets[ticket_id].rca_at is None
            for n in rca_missing_notices(
                tickets[ticket_id], people, self.config, breached_at.isoformat()
            )
        ]
        return self._queue_notices(conn, notices, tickets, now)

    def mail_causes_queued(self, causes: Sequence[str]) -> set[str]:
        if not causes:
            return set()
        with self.read() as conn:
            query = select(m.mail_outbox.c.cause).where(m.mail_outbox.c.cause.in_(list(causes)))
            return set(conn.execute(query).scalars())

    # ------------------------------------------------------------ the sender's steps

    def mail_claim(self, worker: str, lease: timedelta, limit: int) -> list[outbox.OutboxRow]:
        with self.one_writer(), self.engine.begin() as conn:
            return outbox.claim(conn, worker, self.clock.now(), lease, limit)

    def mail_sent(self, row_id: int, worker: str) -> bool:
        with self.one_writer(), self.engine.begin() as conn:
            return outbox.mark_sent(conn, row_id, worker, self.clock.now())

    def mail_release(self, row_ids: Sequence[int], worker: str) -> None:
        with self.one_writer(), self.engine.begin() as conn:
            outbox.release(conn, row_ids, worker)

    def mail_failed(self, row_id: int, worker: str, error: str, permanent: bool) -> str:
        with self.one_writer(), self.engine.begin() as conn:
            return outbox.mark_failed(conn, row_id, worker, self.clock.now(), error, permanent)

    def mail_rows(self, statuses: Sequence[str]) -> list[outbox.OutboxRow]:
        with self.read() as conn:
            return outbox.rows(conn, statuses)

    def mail_counts(self) -> dict[str, int]:
        with self.read() as conn:
            return outbox.counts(conn)

    def mail_retry(self, row_id: int) -> outbox.OutboxRow | None:
        with self.one_writer(), self.engine.begin() as conn:
            return outbox.retry(conn, row_id, self.clock.now())

    def queue_test_mail(self, address: str) -> outbox.OutboxRow:
        """`central mail-test`: one mail to `address`, queued like the others (a new cause
        each time, so a second test is a second mail)."""
        now = self.clock.now()
        notice = Notice(f"test/{now.isoformat()}", "test", Recipient(address), STAFF)
        context = {**self._base_context(), "server": self.config.central_url, "link": ""}
        row = self._rendered_row(notice, context, now)
        with self.one_writer(), self.engine.begin() as conn:
            outbox.insert_ignore(conn, [row])
            found = conn.execute(
                select(m.mail_outbox).where(
                    m.mail_outbox.c.cause == notice.cause,
                    m.mail_outbox.c.recipient == address,
                )
            ).one()
        return outbox._row(found)


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


class DigestMixin(MailMixin):
    def queue_digest(self, now: datetime | None = None) -> int:
        """Today's digest for every recipient not yet given it, once the digest time passed.
        Returns the mails queued (0 before the time, or when all are queued already)."""
        mail = self.config.mail
        now = now or self.clock.now()
        local = now.astimezone(self.config.zone)
        if not mail.sending or not digest.due_now(local, mail.digest_minute):
            return 0
        day = local.date()
        with self.read() as conn:
            people = self._mail_people(conn, digest_only=True)
            recipients = resolve(mail.notify["digest"], None, "", people, self.config)
            causes = {digest.digest_cause(day, r.person_id or r.address): r for r in recipients}
            queued = self._queued(conn, list(causes))
            todo = {c: r for c, r in causes.items() if c not in queued}
            if not todo:
                return 0
            tickets = [
                Ticket(**dict(r._mapping))
                for r in conn.execute(
                    select(m.tickets).where(
                        (m.tickets.c.is_open.is_(True))
                        | ((m.tickets.c.breached != "") & m.tickets.c.rca_at.is_(None))
                    )
                )
            ]
        lists = digest.digest_lists(
            tickets,
            lambda t: self._clocks(t, now),
            day,
            self.config.zone,
            lambda when: local_time(when, self.config.zone),
        )
        context = {**self._base_context(), "date": day.isoformat(), "link": "", **lists}
        rows = [
            self._rendered_row(Notice(cause, "digest", r, STAFF), context, now)
            for cause, r in todo.items()
        ]
        with self.one_writer(), self.engine.begin() as conn:
            return outbox.insert_ignore(conn, rows)

    def _queued(self, conn: Connection, causes: Sequence[str]) -> set[str]:
        query = select(m.mail_outbox.c.cause).where(m.mail_outbox.c.cause.in_(list(causes)))
        return set(conn.execute(query).scalars())

    def _clocks(self, t: Ticket, now: datetime) -> TicketClocks:
        return clocks_of(self.calendar(t.hall_code), self.policy, t, now)

    def set_digest(self, person_id: str, wanted: bool) -> None:
        """Opt a person in or out of the daily digest (server-only: not synced to laptops)."""
        with self.write() as conn:
            row = self._live_row(conn, person_id)  # type: ignore[attr-defined]
            conn.execute(update(m.people).where(m.people.c.id == row.id).values(digest=wanted))

    def wants_digest(self, person_id: str) -> bool:
        with self.read() as conn:
            row = self._live_row(conn, person_id)  # type: ignore[attr-defined]
            return bool(row.digest)

    def digest_opt_outs(self) -> set[str]:
        """The ids of the people (not removed) who asked for no daily digest."""
        with self.read() as conn:
            query = select(m.people.c.id).where(
                m.people.c.deleted.is_(False), m.people.c.digest.is_(False)
            )
            return set(conn.execute(query).scalars())
