"""The central SLA job: the laptop's rules on the central projection."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    select,
    update,
)

from classroom_support.central import models as m
from classroom_support.central.store.calendars import CalendarMixin
from classroom_support.central.store.edits import EditsMixin
from classroom_support.models import Ticket, TicketEvent
from classroom_support.sla import BusinessCalendar
from classroom_support.sla_policy import TicketClocks, clocks_of, planned_sla_events
from classroom_support.tickets import (
    InvalidTransition,
    apply_event,
)


class SlaRunMixin(EditsMixin, CalendarMixin):
    def run_sla(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """The same SLA rules as the laptop's monitor, on the central projection: warnings,
        breaches and escalations with the same deterministic ids, so a ticket escalates while
        its hall's laptop is offline and the two machines' events are one event."""
        now = now or self.clock.now()
        with self.read() as conn:
            rows = list(conn.execute(select(m.tickets).where(m.tickets.c.is_open.is_(True))))
        plans: list[tuple[str, list[Any]]] = []
        rca_late: list[tuple[str, datetime]] = []  # breached, no RCA, reminder due
        for t in rows:
            cal = self.calendar(t.hall_code)
            clocks = clocks_of(cal, self.policy, t, now)
            planned = planned_sla_events(
                cal,
                self.config.escalation,
                clocks,
                ticket_id=t.id,
                warned={x for x in t.warned.split(",") if x},
                breached={x for x in t.breached.split(",") if x},
                escalation_level=t.escalation_level,
                now=now,
            )
            if planned:
                plans.append((t.id, planned))
            breached_at = self._rca_reminder_due(cal, t, clocks, now)
            if breached_at is not None:
                rca_late.append((t.id, breached_at))
        recorded: list[dict[str, Any]] = []
        if rca_late:  # each reminder once: skip the ones already queued
            queued = self.mail_causes_queued([f"rca/{tid}" for tid, _ in rca_late])
            rca_late = [(tid, at) for tid, at in rca_late if f"rca/{tid}" not in queued]
        if not plans and not rca_late:
            return recorded
        mails: list[tuple[str, str, Any, str]] = []
        with self.write() as conn:
            head = self._lock_head(conn)
            for ticket_id, planned in plans:
                row = conn.execute(select(m.tickets).where(m.tickets.c.id == ticket_id)).first()
                if row is None:
                    continue
                ticket = Ticket(**dict(row._mapping))
                changed = False
                for plan in planned:
                    if conn.execute(select(m.events.c.id).where(m.events.c.id == plan.id)).first():
                        continue  # a laptop (or an earlier run) recorded it
                    probe = Ticket(**ticket.model_dump())
                    candidate = TicketEvent(
                        id=plan.id,
                        ticket_id=ticket_id,
                        kind=plan.kind,
                        payload=json.dumps(plan.payload, ensure_ascii=False),
                        device_id=self.central_device_id,
                        actor="central-sla",
                        occurred_at=now,
                        hlc=self._next_hlc(conn),
                    )
                    try:
                        apply_event(probe, candidate)
                    except InvalidTransition:
                        continue
                    head += 1
                    model = self._central_event(
                        conn,
                        ticket_id,
                        ticket.hall_code,
                        plan.kind,
                        dict(plan.payload),
                        "central-sla",
                        head,
                        event_id=plan.id,
                    )
                    apply_event(ticket, model)
                    changed = True
                    recorded.append({"ref": ticket.ref, "kind": plan.kind, "id": plan.id})
                    mails.append((plan.id, plan.kind, dict(plan.payload), ticket_id))
                if changed:
                    conn.execute(
                        update(m.tickets)
                        .where(m.tickets.c.id == ticket_id)
                        .values(**ticket.model_dump())
                    )
            self._queue_event_mail(conn, mails)  # in the transaction that records the events
            self._queue_rca_missing(conn, rca_late, now)
            self._set_head(conn, head)
        return recorded

    def _rca_reminder_due(
        self, cal: BusinessCalendar, t: Any, clocks: TicketClocks, now: datetime
    ) -> datetime | None:
        """When a breached ticket without root-cause analysis breached, if its reminder is due
        (`[mail.notify] rca_after_hours` working hours later); else None."""
        mail = self.config.mail
        if not mail.sending or not t.breached or t.rca_at is not None:
            return None
        dues = [
            c.due
            for c in (clocks.first_response, clocks.resolution)
            if c.name in t.breached.split(",") and c.due is not None
        ]
        if not dues:
            return None
        breached_at = min(dues)
        if cal.add(breached_at, timedelta(hours=mail.rca_after_hours)) > now:
            return None
        return breached_at
