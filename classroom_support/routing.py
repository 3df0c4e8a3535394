"""Routing (Level 1): handing a ticket to its hall's technician or to Level 2, with an optional
note. A `route` event like every other change, so it syncs and merges by the same rules; the
ticket's projection says who has it now (`Ticket.with_desk`: "hall", "level2", or
"contact-centre" for a call the contact centre logged and has not routed yet).

Payload: `{"to": {"hall": "A101"}}` or `{"to": {"level2": true}}`, plus `"note"` when given.
A ticket is routed to its own hall (the hall that pulls it) or to Level 2. Who may route where
is the permission table's (permissions.py): the contact centre anywhere in its scope, a hall
to Level 2 only, Level 2 back to the hall.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from classroom_support.models import Ticket
from classroom_support.permissions import route_target
from classroom_support.tickets import (
    MAX_NOTE,
    InvalidTransition,
    TicketDesk,
    TicketError,
    ValidationError,
)

# Who can have a ticket: its hall, Level 2, or the contact centre that took the call and has
# not routed it yet (a ticket never goes back to the contact centre).
WITH_DESKS = ("hall", "level2", "contact-centre")


class AlreadyThere(TicketError):
    pass


def route_problem(payload: Mapping[str, Any]) -> str:
    """Why this `route` payload is malformed (a short code), or "" when it is well formed."""
    if route_target(payload) is None:
        return "to"
    note = payload.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        return "note"
    return ""


def apply_route(ticket: Ticket, data: Mapping[str, Any]) -> None:
    """Fold one `route` event into `ticket` (InvalidTransition: untouched)."""
    target = route_target(data)
    if target is None or route_problem(data):
        raise InvalidTransition("error.bad_event", kind="route")
    if ticket.status == "verified":
        raise InvalidTransition("error.closed")
    desk, hall = target
    if desk == "hall" and hall != ticket.hall_code:
        raise InvalidTransition("error.route_other_hall", hall=hall, own=ticket.hall_code)
    ticket.with_desk = desk


def route_ticket(desk: TicketDesk, ref: str, *, level2: bool, note: str = "") -> Ticket:
    """Route the ticket to Level 2 (`level2`), or to its hall. AlreadyThere when it is with
    that desk already; NotPermitted when this desk's role may not route there."""
    if len(note) > MAX_NOTE:
        raise ValidationError("note", "error.too_long", length=len(note), limit=MAX_NOTE)
    ticket = desk.get(ref)
    to: dict[str, Any] = {"level2": True} if level2 else {"hall": ticket.hall_code}
    wanted = "level2" if level2 else "hall"
    if ticket.with_desk == wanted:
        raise AlreadyThere("error.already_with", ref=ticket.ref, desk=with_text(ticket))
    payload: dict[str, Any] = {"to": to}
    if note.strip():
        payload["note"] = note
    return desk._act(ticket.ref, "route", payload)


def with_text(ticket: Ticket) -> str:
    """ "Hall A101" / "Level 2" (translated): who has the ticket now."""
    from classroom_support.i18n import tr

    if ticket.with_desk in ("level2", "contact-centre"):
        return tr(f"role.{ticket.with_desk}")
    return tr("scope.hall", halls=ticket.hall_code)
