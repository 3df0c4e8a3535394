"""SLA monitoring: builds the calendar from config and the database, evaluates tickets, and
records warnings, breaches and escalations as events (deterministic ids, each once).

Headless. The TUI runs `SlaService.run()` from an APScheduler job every 30 s and at start-up;
the CLI uses the same service for `sla due`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import text as sa_text
from sqlmodel import col, select

from classroom_support.clock import Clock
from classroom_support.config import Config
from classroom_support.db import Database
from classroom_support.due_recompute import DueRecompute
from classroom_support.models import ClosureRow, CourseSession, MetaEntry, Ticket, TicketEvent
from classroom_support.sla import BusinessCalendar, Closure, SessionWindow
from classroom_support.sla_policy import (
    SlaPolicy,
    TicketClockReader,
    TicketClocks,
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


class RecomputeBusy(Exception):
    """A monitor run holds the deadline tables; a caller that must not wait tries again."""


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


class SlaService(TicketClockReader):
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
        # Wake-up times at or after this are stale (a calendar edit since); None: all are good.
        self._stale_from: datetime | None = None
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
        Blocking: the TUI runs the same job in steps on its event loop (`begin_recompute`,
        app_calendar.py), or a full one in a worker thread. Listeners are told unless `notify`
        is False (the caller then delivers the result itself).
        """
        with self._lock:
            job = self.begin_recompute(since)
            if job is None:
                before = dict(self._last_due)
                result = self.run(record=False, notify=False)
                self._flag_moved(result, before)
            else:
                job.run()
                result = self.finish_recompute(job)
        if notify:
            for listener in self.listeners:
                listener(result)
        return result

    def begin_recompute(
        self, since: datetime | None, *, blocking: bool = True
    ) -> DueRecompute | None:
        """Start an edit's recompute: the calendar is rebuilt from here on, wake-up times at or
        after `since` are marked stale (the next monitor run looks again), and the job holds
        a copy of the known deadlines, to pick the ones that can move from.

        None when only a full recompute will do (no `since`, or no deadlines known yet): the
        caller runs `run(record=False)`. Raises RecomputeBusy when `blocking` is False and a
        monitor run holds the tables (the caller tries again).
        """
        if not self._lock.acquire(blocking=blocking):
            raise RecomputeBusy
        try:
            self._calendars.clear()
            self.calendar_version += 1
            if since is None or not self._last_due:
                self._wake.clear()
                self._stale_from = None
                return None
            # Wake-up times at or after `since` are stale: the next monitor run looks at those
            # tickets again (marked, not searched for here: that is 20,000 entries).
            if self._stale_from is None or since < self._stale_from:
                self._stale_from = since
            # A copy (fast); the job picks what can move out of it in its steps.
            known = list(self._last_due.items())
            return DueRecompute(self, since, self.calendar_version, known, self.clock.now())
        finally:
            self._lock.release()

    def finish_recompute(self, job: DueRecompute, *, blocking: bool = True) -> MonitorResult:
        """Apply a finished job's deadlines; name the tickets whose deadline moved earlier.

        Raises RecomputeBusy when `blocking` is False and a monitor run holds the tables."""
        if not self._lock.acquire(blocking=blocking):
            raise RecomputeBusy
        try:
            self._last_due.update(job.dues)
            for ref in job.closed:
                self._last_due.pop(ref, None)
            result = MonitorResult(checked=job.checked)
            self._flag_moved(result, job.before)
            return result
        finally:
            self._lock.release()

    def _flag_moved(self, result: MonitorResult, before: dict[str, datetime]) -> None:
        result.moved_earlier = sorted(
            ref
            for ref, due in before.items()
            if ref in self._last_due and self._last_due[ref] < due
        )
        self.moved_earlier.update(result.moved_earlier)

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
                stale = self._stale_from  # all looked at below; cleared when that is done
                due_refs = [
                    ref
                    for ref, hlc in heads
                    if (w := self._wake.get(ref)) is None
                    or w[1] != hlc
                    or (w[0] is not None and (w[0] <= now or (stale is not None and w[0] >= stale)))
                ]
            else:
                due_refs = sorted(refs)
            rows: list[Any] = []
            for i in range(0, len(due_refs), 500):
                chunk = due_refs[i : i + 500]
                rows.extend(
                    s.exec(
                        # `+is_open`: look each ref up by its index (due_recompute.HEADLINE_SQL)
                        sa_select(*SLA_COLUMNS).where(
                            sa_text("+ticket.is_open = 1"), col(Ticket.ref).in_(chunk)
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
        if refs is None:
            self._stale_from = None  # every stale wake-up time was looked at
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
