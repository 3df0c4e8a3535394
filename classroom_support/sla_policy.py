"""SLA clocks and the escalation ladder, decided on top of the business calendar. Pure.

A clock runs over working time from the ticket's creation until it is stopped (first response,
or resolution), minus pauses (waiting for the trainee pauses resolution, never first response).
States: on_track → warning (75 % elapsed or 4 working hours left, whichever first) → breached;
paused; met. The ladder climbs one rung per missed target: the first-response deadline moves the
ticket to L2, each rung's own further target moves it to the next, until the top.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from classroom_support.config import Config, EscalationStep
from classroom_support.sla import BusinessCalendar

if TYPE_CHECKING:
    from classroom_support.clock import Clock

ZERO = timedelta(0)
# Fixed namespace: the same ticket, clock and kind give the same event id on every machine.
SLA_EVENT_NAMESPACE = uuid.UUID("6f1c3a52-9d0e-4a55-8b8e-5c1a2b7d3e90")


class SlaPolicy(NamedTuple):
    first_response: timedelta
    resolution: timedelta
    warning_fraction: float
    warning_left: timedelta
    targets: tuple[tuple[str | None, str | None, float | None, float | None], ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> SlaPolicy:
        return cls(
            first_response=timedelta(hours=config.first_response_hours),
            resolution=timedelta(hours=config.resolution_hours),
            warning_fraction=config.warning_fraction,
            warning_left=timedelta(hours=config.warning_hours_left),
            targets=tuple(
                (t.priority, t.channel, t.first_response_hours, t.resolution_hours)
                for t in config.sla_targets
            ),
        )

    def target(self, clock: str, priority: str, channel: str) -> timedelta:
        """Most specific match wins: priority and channel, then priority, then channel."""
        best: tuple[int, float] | None = None
        for t_priority, t_channel, fr, res in self.targets:
            if (t_priority not in (None, priority)) or (t_channel not in (None, channel)):
                continue
            hours = fr if clock == "first_response" else res
            if hours is None:
                continue
            rank = (2 if t_priority else 0) + (1 if t_channel else 0)
            if best is None or rank > best[0]:
                best = (rank, hours)
        if best is not None:
            return timedelta(hours=best[1])
        return self.first_response if clock == "first_response" else self.resolution


class ClockStatus(NamedTuple):
    name: str
    target: timedelta
    state: str  # on_track | warning | breached | paused | met
    due: datetime | None  # None only while paused before the deadline
    elapsed: timedelta
    stopped_at: datetime | None

    @property
    def remaining(self) -> timedelta:
        """Working time left; negative once breached (overdue working time)."""
        return self.target - self.elapsed

    @property
    def running(self) -> bool:
        return self.state in ("on_track", "warning", "breached") and self.stopped_at is None


def evaluate_clock(
    cal: BusinessCalendar,
    policy: SlaPolicy,
    name: str,
    start: datetime,
    target: timedelta,
    now: datetime,
    stopped_at: datetime | None = None,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
) -> ClockStatus:
    end = stopped_at or now
    if end < start:
        end = start
    # Active stretches: [start, end] without the pauses.
    active: list[tuple[datetime, datetime]] = []
    cursor = start
    paused_now = False
    for p_start, p_end in sorted(pauses):
        p_stop = p_end or end
        if p_end is None and stopped_at is None:
            paused_now = True
        if p_start > cursor:
            active.append((cursor, min(p_start, end)))
        cursor = max(cursor, p_stop)
        if cursor >= end:
            break
    if cursor < end:
        active.append((cursor, end))
    elapsed = ZERO
    due: datetime | None = None
    for a, b in active:
        if b <= a:
            continue
        piece = cal.between(a, b)
        if due is None and elapsed + piece >= target and target > ZERO:
            due = cal.add(a, target - elapsed)
        elapsed += piece
    reached = due is not None and due <= end
    if due is None and not paused_now:
        due = cal.add(end, target - elapsed) if target > elapsed else end
    if stopped_at is not None:
        state = "breached" if reached and due is not None and due < stopped_at else "met"
    elif reached:
        state = "breached"
    elif paused_now:
        state = "paused"
    elif elapsed >= target * policy.warning_fraction or target - elapsed <= policy.warning_left:
        state = "warning"
    else:
        state = "on_track"
    return ClockStatus(name, target, state, due, elapsed, stopped_at)


class TicketClocks(NamedTuple):
    first_response: ClockStatus
    resolution: ClockStatus

    @property
    def headline(self) -> ClockStatus:
        """The clock the queue shows: first response until it is met, then resolution."""
        if self.first_response.stopped_at is None:
            return self.first_response
        return self.resolution


def ticket_clocks(
    cal: BusinessCalendar,
    policy: SlaPolicy,
    *,
    created_at: datetime,
    priority: str,
    channel: str,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    pauses: Sequence[tuple[datetime, datetime | None]],
    now: datetime,
) -> TicketClocks:
    fr = evaluate_clock(
        cal,
        policy,
        "first_response",
        created_at,
        policy.target("first_response", priority, channel),
        now,
        first_response_at,
    )
    res = evaluate_clock(
        cal,
        policy,
        "resolution",
        created_at,
        policy.target("resolution", priority, channel),
        now,
        resolved_at,
        pauses,
    )
    return TicketClocks(fr, res)


class ClockedTicket(Protocol):
    """What a ticket's clocks are computed from (a Ticket, a central row, a plain read)."""

    created_at: datetime
    priority: str
    channel: str
    first_response_at: datetime | None
    resolved_at: datetime | None
    pauses: str  # JSON list of [start, end or null], as the ticket row stores it


def pause_spans_from_json(text: str) -> list[tuple[datetime, datetime | None]]:
    """The stored pauses (JSON text) as (start, end or None) spans."""
    return [
        (datetime.fromisoformat(a), datetime.fromisoformat(b) if b else None)
        for a, b in json.loads(text)
    ]


def clocks_of(
    cal: BusinessCalendar, policy: SlaPolicy, ticket: ClockedTicket, now: datetime
) -> TicketClocks:
    """`ticket_clocks` for a ticket row: the one place that reads its clock inputs."""
    return ticket_clocks(
        cal,
        policy,
        created_at=ticket.created_at,
        priority=ticket.priority,
        channel=ticket.channel,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        pauses=pause_spans_from_json(ticket.pauses),
        now=now,
    )


def headline_of(
    cal: BusinessCalendar, policy: SlaPolicy, ticket: ClockedTicket, now: datetime
) -> ClockStatus:
    """`clocks_of(...).headline`, evaluating only that clock (the queue's countdown cells)."""
    if ticket.first_response_at is None:
        target = policy.target("first_response", ticket.priority, ticket.channel)
        return evaluate_clock(cal, policy, "first_response", ticket.created_at, target, now)
    target = policy.target("resolution", ticket.priority, ticket.channel)
    pauses = pause_spans_from_json(ticket.pauses)
    return evaluate_clock(
        cal, policy, "resolution", ticket.created_at, target, now, ticket.resolved_at, pauses
    )


class TicketClockReader:
    """A ticket's clocks as a service with calendars reads them: monitor.SlaService, and the
    first frame's stand-in for it (first_frame.FirstFrameSla)."""

    policy: SlaPolicy
    clock: Clock

    def calendar(self, hall: str | None = None) -> BusinessCalendar:
        raise NotImplementedError

    def clocks(self, ticket: Any, now: datetime | None = None) -> TicketClocks:
        cal = self.calendar(ticket.hall_code)
        return clocks_of(cal, self.policy, ticket, now or self.clock.now())

    def headline(self, ticket: Any, now: datetime | None = None) -> ClockStatus:
        """`clocks(ticket, now).headline`, the other clock not evaluated."""
        cal = self.calendar(ticket.hall_code)
        return headline_of(cal, self.policy, ticket, now or self.clock.now())


def headline_due(
    cal: BusinessCalendar,
    policy: SlaPolicy,
    *,
    created_at: datetime,
    priority: str,
    channel: str,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    pauses: Callable[[], Sequence[tuple[datetime, datetime | None]]],
    now: datetime,
) -> datetime | None:
    """`ticket_clocks(...).headline.due`, evaluating only the headline clock (what a calendar
    edit must show at once). `pauses` is asked only when the resolution clock is the one."""
    if first_response_at is None:
        target = policy.target("first_response", priority, channel)
        return evaluate_clock(cal, policy, "first_response", created_at, target, now).due
    target = policy.target("resolution", priority, channel)
    clock = evaluate_clock(
        cal, policy, "resolution", created_at, target, now, resolved_at, pauses()
    )
    return clock.due


# --------------------------------------------------------------------------- the ladder


def rung_deadlines(
    cal: BusinessCalendar, ladder: Sequence[EscalationStep], first_due: datetime
) -> list[datetime]:
    """deadlines[k] = when the ticket must climb to rung k+1 (rung 0 is L1)."""
    deadlines = [first_due]
    for step in ladder[1:-1]:
        assert step.hours is not None  # validated in config
        deadlines.append(cal.add(deadlines[-1], timedelta(hours=step.hours)))
    return deadlines


def required_rung(
    cal: BusinessCalendar, ladder: Sequence[EscalationStep], clocks: TicketClocks, now: datetime
) -> int:
    """The rung a ticket should stand on now. Climbing stops when the first response is made."""
    fr = clocks.first_response
    if fr.due is None:
        return 0
    at = fr.stopped_at or now
    return sum(1 for d in rung_deadlines(cal, ladder, fr.due) if d <= at)


class PlannedEvent(NamedTuple):
    id: str
    kind: str
    payload: dict[str, object]


def sla_event_id(ticket_id: str, key: str, kind: str) -> str:
    return str(uuid.uuid5(SLA_EVENT_NAMESPACE, f"{ticket_id}/{key}/{kind}"))


def planned_sla_events(
    cal: BusinessCalendar,
    ladder: Sequence[EscalationStep],
    clocks: TicketClocks,
    *,
    ticket_id: str,
    warned: set[str],
    breached: set[str],
    escalation_level: int,
    now: datetime,
) -> list[PlannedEvent]:
    """What the monitor must record for this ticket now, each with a deterministic id."""
    out: list[PlannedEvent] = []
    for clock in (clocks.first_response, clocks.resolution):
        if clock.state == "warning" and clock.name not in warned:
            out.append(
                PlannedEvent(
                    sla_event_id(ticket_id, clock.name, "warning"),
                    "sla_warning",
                    {"clock": clock.name, "due": clock.due.isoformat() if clock.due else None},
                )
            )
        if clock.state == "breached" and clock.name not in breached:
            out.append(
                PlannedEvent(
                    sla_event_id(ticket_id, clock.name, "breached"),
                    "sla_breached",
                    {"clock": clock.name, "due": clock.due.isoformat() if clock.due else None},
                )
            )
    rung = min(required_rung(cal, ladder, clocks, now), len(ladder) - 1)
    if rung > escalation_level and clocks.first_response.due is not None:
        deadlines = rung_deadlines(cal, ladder, clocks.first_response.due)
        for level in range(escalation_level + 1, rung + 1):
            step = ladder[level]
            out.append(
                PlannedEvent(
                    sla_event_id(ticket_id, f"L{level}", "escalated"),
                    "escalated",
                    {
                        "level": level,
                        "step": step.id,
                        "tier": step.tier,
                        "due": deadlines[level - 1].isoformat(),
                    },
                )
            )
    return out
