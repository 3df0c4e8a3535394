"""SLA monitoring: builds the calendar from config and the database, evaluates tickets, and
records warnings, breaches and escalations as events (deterministic ids, each once).

Headless. The TUI runs `SlaService.run()` from an APScheduler job every 30 s and at start-up;
the CLI uses the same service for `sla due`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, select

from classroom_support.clock import Clock
from classroom_support.config import Config
from classroom_support.db import Database
from classroom_support.models import ClosureRow, CourseSession, MetaEntry, Ticket, TicketEvent
from classroom_support.sla import BusinessCalendar, Closure, SessionWindow
from classroom_support.sla_policy import (
    SlaPolicy,
    TicketClocks,
    clocks_of,
    headline_due,
    pause_spans_from_json,
    planned_sla_events,
    rung_deadlines,
)
from classroom_support.syncwire import SEED_TIME, seed_closure_id
from classroom_support.tickets import TicketDesk, apply_event


@dataclass(frozen=True)
class Alert:
    """Something new the technician must hear about (toast + bell), once."""

    ref: str
    kind: str  # sla_warning | sla_breached | escalated
    clock: str = ""
    level: int = 0


@dataclass
class MonitorResult:
    alerts: list[Alert] = field(default_factory=list)
    checked: int = 0
    moved_earlier: list[str] = field(default_factory=list)


SLA_COLUMNS = (
    Ticket.id,
    Ticket.ref,
    Ticket.hall_code,
    Ticket.created_at,
    Ticket.priority,
    Ticket.channel,
    Ticket.first_response_at,
    Ticket.resolved_at,
    Ticket.pauses,
    Ticket.warned,
    Ticket.breached,
    Ticket.escalation_level,
    Ticket.last_hlc,
)


def next_change(
    cal: BusinessCalendar,
    policy: SlaPolicy,
    ladder: Any,
    clocks: TicketClocks,
    level: int,
    now: datetime,
) -> datetime | None:
    """The earliest instant this ticket's SLA state can change without anyone touching it:
    a warning threshold, a deadline, or the next rung. None: only a change can wake it."""
    times: list[datetime] = []
    for clock in (clocks.first_response, clocks.resolution):
        if clock.stopped_at is not None or clock.state == "paused":
            continue
        if clock.state == "on_track":
            threshold = min(
                clock.target * policy.warning_fraction, clock.target - policy.warning_left
            )
            times.append(cal.add(now, max(threshold - clock.elapsed, timedelta(0))))
        if clock.state in ("on_track", "warning") and clock.due is not None:
            times.append(clock.due)
    fr = clocks.first_response
    if fr.due is not None and fr.stopped_at is None and level < len(ladder) - 1:
        times.append(rung_deadlines(cal, ladder, fr.due)[level])
    return min(times) if times else None


def _marks(text: str) -> set[str]:
    return {m for m in text.split(",") if m}


# What a ticket's headline clock needs, for a calendar edit's recompute (plain SQL: the ORM's
# row handling costs more than the clocks).
HEADLINE_SQL = (
    "SELECT ref, hall_code, created_at, priority, channel, first_response_at, resolved_at, "
    "pauses FROM ticket WHERE is_open = 1 AND ref IN ({marks})"
)


def _utc(text: str) -> datetime:
    """A stored naive-UTC timestamp (models.UTCDateTime) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class SlaService:
    def __init__(self, db: Database, clock: Clock, config: Config, desk: TicketDesk) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.desk = desk
        self.policy = SlaPolicy.from_config(config)
        self.ladder = config.escalation
        self._calendars: dict[str, BusinessCalendar] = {}
        self._last_due: dict[str, datetime] = {}
        # ref -> (when its SLA state can next change, the row version that was evaluated)
        self._wake: dict[str, tuple[datetime | None, str]] = {}
        self.listeners: list[Callable[[MonitorResult], None]] = []
        self.calendar_version = 0
        self.moved_earlier: set[str] = set()  # refs whose deadline a calendar edit pulled in
        # One evaluation at a time: the monitor job and a calendar edit's recompute run in
        # worker threads and share the wake-up and deadline tables.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ calendar

    def calendar(self, hall: str | None = None) -> BusinessCalendar:
        key = hall if self.config.sessions_scope == "hall" and hall else "*"
        cal = self._calendars.get(key)
        if cal is None:
            cal = self._build_calendar(None if key == "*" else key)
            self._calendars[key] = cal
        return cal

    def _build_calendar(self, hall: str | None) -> BusinessCalendar:
        with self.db.read() as s:
            q = select(CourseSession).where(col(CourseSession.deleted).is_(False))
            if hall:
                q = q.where(CourseSession.hall_code == hall)
            sessions = [
                SessionWindow(r.starts_at, r.ends_at, r.course, r.hall_code) for r in s.exec(q)
            ]
            closures = [
                Closure(
                    date.fromisoformat(r.start_day),
                    date.fromisoformat(r.end_day),
                    r.name,
                    r.estimated,
                )
                for r in s.exec(select(ClosureRow).where(col(ClosureRow.deleted).is_(False)))
            ]
        return BusinessCalendar.from_config(self.config, sessions, closures)

    def calendar_changed(
        self, since: datetime | None = None, *, notify: bool = True
    ) -> MonitorResult:
        """A session or closure changed: rebuild, recompute open tickets' deadlines at once,
        and flag those that moved earlier (even into breach).

        `since` is the earliest instant the edit touched. Working time before it is unchanged,
        so an instant this service computed before `since` (a deadline, a wake-up time) is
        still right, and one at or after it stays at or after it: only tickets whose deadline
        is at or after `since` are recomputed now (their headline deadline, what the queue and
        the notice show), and only wake-up times at or after it are dropped, for the next
        monitor run. Without `since` (a sync brought several changes) every open ticket is.
        Blocking: the TUI runs it in a worker thread (app.py). Listeners are told unless
        `notify` is False (the caller then delivers the result itself).
        """
        with self._lock:
            self._calendars.clear()
            self.calendar_version += 1
            if since is None or not self._last_due:
                before = dict(self._last_due)
                self._wake.clear()
                result = self.run(record=False, notify=False)
            else:
                for ref, (wake, _hlc) in list(self._wake.items()):
                    if wake is not None and wake >= since:
                        del self._wake[ref]
                # Only these can move: the rest of the table is not copied nor compared.
                before = {ref: due for ref, due in self._last_due.items() if due >= since}
                result = MonitorResult(checked=self._recompute_dues(list(before)))
            result.moved_earlier = sorted(
                ref
                for ref, due in before.items()
                if ref in self._last_due and self._last_due[ref] < due
            )
            self.moved_earlier.update(result.moved_earlier)
        if notify:
            for listener in self.listeners:
                listener(result)
        return result

    def _recompute_dues(self, refs: list[str]) -> int:
        """The headline deadline of each of these open tickets on the current calendar, into
        `_last_due` (a closed one is dropped). Reads only what the clocks need, with plain
        SQL; returns how many were evaluated."""
        now = self.clock.now()
        found: set[str] = set()
        with self.db.read() as s:
            conn = s.connection()
            for i in range(0, len(refs), 500):
                chunk = refs[i : i + 500]
                marks = ", ".join("?" for _ in chunk)
                rows = conn.exec_driver_sql(HEADLINE_SQL.format(marks=marks), tuple(chunk))
                for ref, hall, created, priority, channel, first, resolved, pauses in rows:
                    found.add(ref)
                    due = headline_due(
                        self.calendar(hall),
                        self.policy,
                        created_at=_utc(created),
                        priority=priority,
                        channel=channel,
                        first_response_at=_utc(first) if first else None,
                        resolved_at=_utc(resolved) if resolved else None,
                        pauses=lambda text=pauses: pause_spans_from_json(text),
                        now=now,
                    )
                    if due is not None:
                        self._last_due[ref] = due
        for ref in refs:
            if ref not in found:
                self._last_due.pop(ref, None)  # closed since: no deadline to show
        return len(found)

    def seed_closures(self) -> None:
        """The default holiday list goes into the database once; after that it is edited there."""
        with self.db.write() as s:
            if s.get(MetaEntry, "closures_seeded") is not None:
                return
            for c in self.config.closures:
                # Content-derived id and an old timestamp: every laptop and the central server
                # seed the same rows, so sync merges them instead of doubling them, and any
                # real edit wins. Defaults are not uploaded (sync_pending=False).
                s.add(
                    ClosureRow(
                        id=seed_closure_id(c.start, c.end, c.name),
                        start_day=c.start,
                        end_day=c.end,
                        name=c.name,
                        name_ar=c.name_ar,
                        estimated=c.estimated,
                        updated_at=SEED_TIME,
                        sync_pending=False,
                    )
                )
            s.add(MetaEntry(key="closures_seeded", value=self.clock.now().isoformat()))

    # ------------------------------------------------------------------ evaluation

    def clocks(self, ticket: Any, now: datetime | None = None) -> TicketClocks:
        cal = self.calendar(ticket.hall_code)
        return clocks_of(cal, self.policy, ticket, now or self.clock.now())

    def next_rung_due(self, ticket: Any, clocks: TicketClocks) -> datetime | None:
        """When the ticket climbs next if nobody responds (None at the top or once answered)."""
        fr = clocks.first_response
        if fr.due is None or fr.stopped_at is not None:
            return None
        level = ticket.escalation_level
        if level >= len(self.ladder) - 1:
            return None
        return rung_deadlines(self.calendar(ticket.hall_code), self.ladder, fr.due)[level]

    def run(
        self,
        now: datetime | None = None,
        *,
        record: bool = True,
        notify: bool = True,
        refs: set[str] | None = None,
    ) -> MonitorResult:
        """Evaluate open tickets and record what is newly due. Returns the new alerts.

        Only tickets that can have changed are evaluated: those never seen, those changed since
        (their last HLC moved), and those whose next state change (warning, deadline, next
        rung) has come. Everything else is asleep until its wake-up time. `refs` forces a set.
        """
        with self._lock:
            return self._run(now, record=record, notify=notify, refs=refs)

    def _run(
        self, now: datetime | None, *, record: bool, notify: bool, refs: set[str] | None
    ) -> MonitorResult:
        now = now or self.clock.now()
        result = MonitorResult()
        with self.db.read() as s:
            if refs is None:
                heads = s.exec(
                    sa_select(Ticket.ref, Ticket.last_hlc).where(col(Ticket.is_open).is_(True))
                ).all()
                due_refs = [
                    ref
                    for ref, hlc in heads
                    if (w := self._wake.get(ref)) is None
                    or w[1] != hlc
                    or (w[0] is not None and w[0] <= now)
                ]
            else:
                due_refs = sorted(refs)
            rows: list[Any] = []
            for i in range(0, len(due_refs), 500):
                chunk = due_refs[i : i + 500]
                rows.extend(
                    s.exec(
                        sa_select(*SLA_COLUMNS).where(
                            col(Ticket.is_open).is_(True), col(Ticket.ref).in_(chunk)
                        )
                    )
                )
        plans: list[tuple[Any, list[Any]]] = []
        for ticket in rows:
            cal = self.calendar(ticket.hall_code)
            clocks = self.clocks(ticket, now)
            result.checked += 1
            if clocks.headline.due is not None:
                self._last_due[ticket.ref] = clocks.headline.due
            planned = planned_sla_events(
                cal,
                self.ladder,
                clocks,
                ticket_id=ticket.id,
                warned=_marks(ticket.warned),
                breached=_marks(ticket.breached),
                escalation_level=ticket.escalation_level,
                now=now,
            )
            if planned:
                plans.append((ticket, planned))
                self._wake.pop(ticket.ref, None)  # recording changes the row: look again
            else:
                wake = next_change(
                    cal, self.policy, self.ladder, clocks, ticket.escalation_level, now
                )
                self._wake[ticket.ref] = (wake, ticket.last_hlc)
        if record and plans:
            result.alerts = self._record(plans)
        if notify:
            for listener in self.listeners:
                listener(result)
        return result

    def catch_up(self, ref: str) -> list[Alert]:
        """Bring one ticket's SLA events up to date (before a user acts on it)."""
        ticket = self.desk.get(ref)
        if not ticket.is_open:
            return []
        now = self.clock.now()
        clocks = self.clocks(ticket, now)
        planned = planned_sla_events(
            self.calendar(ticket.hall_code),
            self.ladder,
            clocks,
            ticket_id=ticket.id,
            warned=_marks(ticket.warned),
            breached=_marks(ticket.breached),
            escalation_level=ticket.escalation_level,
            now=now,
        )
        return self._record([(ticket, planned)]) if planned else []

    def _record(self, plans: list[tuple[Any, list[Any]]]) -> list[Alert]:
        alerts: list[Alert] = []
        with self.db.write() as s:
            for stale, planned in plans:
                ticket = s.get(Ticket, stale.id)
                if ticket is None:
                    continue
                for plan in planned:
                    if s.get(TicketEvent, plan.id) is not None:
                        continue  # another run (or another machine, via sync) recorded it
                    event = self.desk.new_event(
                        s, ticket.id, plan.kind, plan.payload, event_id=plan.id
                    )
                    try:
                        apply_event(ticket, event)
                    except Exception:
                        continue  # already folded from another source; keep history clean
                    s.add(event)
                    alerts.append(
                        Alert(
                            ref=ticket.ref,
                            kind=plan.kind,
                            clock=str(plan.payload.get("clock", "")),
                            level=int(plan.payload.get("level", 0) or 0),
                        )
                    )
                s.add(ticket)
                s.flush()
        return alerts


def explain_json(spans: list[Any], zone: Any) -> list[dict[str, str]]:
    return [
        {
            "start": sp.start.astimezone(zone).isoformat(),
            "end": sp.end.astimezone(zone).isoformat(),
            "source": sp.source,
            "label": sp.label,
            "hours": f"{sp.duration.total_seconds() / 3600:g}",
        }
        for sp in spans
    ]
