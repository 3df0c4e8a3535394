"""Routed to me: which tickets a desk's queue puts first and marks new, and which arrivals
it is told about (a toast and the bell). Local to this desk; nothing here is synced.

- A `level2` desk: its open tickets that are with Level 2 (`with_desk == "level2"`).
- A `hall` desk: its open tickets that are with the hall *because a route event sent them
  there* (a ticket that never left its hall is not "routed").
- A contact-centre or manager desk: nothing is routed to it (it routes, or it watches), so
  its queue keeps its plain order.

A routed ticket is new until this desk opens it after its latest route event (`RouteSeen.
opened_event`); routed again, it is new again. A sync that brings a route event this desk has
not been told about yet tells it once (`RouteSeen.told_event`); route events this device made
itself are recorded as told without a word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists
from sqlmodel import Session, col, select

from classroom_support.first_frame import routed_target  # noqa: F401  (re-exported)
from classroom_support.models import RouteSeen, Ticket, TicketEvent

# More arrivals than this in one sync are told as one count, not a toast each.
MAX_TOASTS = 3


def routed_condition(target: str) -> Any:
    """SQL: this ticket is routed to a desk receiving as `target` (None when nothing is)."""
    if target == "level2":
        return and_(col(Ticket.is_open).is_(True), Ticket.with_desk == "level2")
    if target == "hall":
        routed = exists().where(
            col(TicketEvent.ticket_id) == col(Ticket.id), TicketEvent.kind == "route"
        )
        return and_(col(Ticket.is_open).is_(True), Ticket.with_desk == "hall", routed)
    return None


def latest_routes(s: Session, ticket_ids: Iterable[str]) -> dict[str, TicketEvent]:
    """Each ticket's latest route event (HLC order, as the fold applies them)."""
    ids = list(ticket_ids)
    latest: dict[str, TicketEvent] = {}
    for start in range(0, len(ids), 500):
        rows = s.exec(
            select(TicketEvent).where(
                col(TicketEvent.ticket_id).in_(ids[start : start + 500]),
                TicketEvent.kind == "route",
            )
        ).all()
        for event in rows:
            held = latest.get(event.ticket_id)
            if held is None or (event.hlc, event.id) > (held.hlc, held.id):
                latest[event.ticket_id] = event
    return latest


def _is_routed(ticket: Ticket, target: str, routes: dict[str, TicketEvent]) -> bool:
    return bool(target) and ticket.is_open and ticket.with_desk == target and ticket.id in routes


def _seen(s: Session, ids: Sequence[str]) -> dict[str, RouteSeen]:
    if not ids:
        return {}
    rows = s.exec(select(RouteSeen).where(col(RouteSeen.ticket_id).in_(ids))).all()
    return {r.ticket_id: r for r in rows}


def new_ids(db: Any, tickets: Sequence[Ticket], target: str) -> set[str]:
    """The ids of `tickets` (a queue page) routed to this desk and not opened since."""
    if not target or not tickets:
        return set()
    with db.read() as s:
        routes = latest_routes(s, (t.id for t in tickets))
        routed = [t.id for t in tickets if _is_routed(t, target, routes)]
        seen = _seen(s, routed)
    return {tid for tid in routed if tid not in seen or seen[tid].opened_event != routes[tid].id}


def mark_opened(db: Any, ticket_id: str) -> None:
    """This desk opened the ticket: its latest route event is no longer new (nor to be told)."""
    with db.write() as s:
        route = latest_routes(s, [ticket_id]).get(ticket_id)
        if route is None:
            return
        row = s.get(RouteSeen, ticket_id) or RouteSeen(ticket_id=ticket_id)
        if row.opened_event == route.id and row.told_event == route.id:
            return
        row.opened_event = row.told_event = route.id
        s.add(row)


@dataclass(frozen=True)
class Arrival:
    ticket: Ticket
    event: TicketEvent


def take_arrivals(db: Any, target: str, own_device: str) -> list[Arrival]:
    """The tickets newly routed to this desk since it was last told (oldest route first), each
    recorded as told so it is never told twice. Routes this device made are recorded silently."""
    condition = routed_condition(target)
    if condition is None:
        return []
    arrivals: list[Arrival] = []
    with db.write() as s:
        tickets = s.exec(select(Ticket).where(condition)).all()
        routes = latest_routes(s, (t.id for t in tickets))
        seen = _seen(s, [t.id for t in tickets])
        for ticket in tickets:
            route = routes.get(ticket.id)
            if route is None:
                continue
            row = seen.get(ticket.id) or RouteSeen(ticket_id=ticket.id)
            if row.told_event == route.id:
                continue
            row.told_event = route.id
            s.add(row)
            if route.device_id != own_device:
                arrivals.append(Arrival(ticket, route))
    arrivals.sort(key=lambda a: (a.event.hlc, a.event.id))
    return arrivals
