"""Editing a ticket's own text after it was saved: the problem, the seat, the trainee's name
and contact. One `edited` event carries each changed field with the value it replaced, so the
history keeps "Seat: 12 → 14"; the fold applies the new values field by field, so concurrent
edits of different fields both hold and edits of one field end with the last in (HLC, id)
order, like every other change.

Payload: `{"changes": {"seat": {"old": "12", "new": "14"}, ...}}`. The new values obey the
new-ticket form's rules (`tickets.check_text`); the fold, a pushed event (central server) and
a central edit check the same shape with `edit_problem`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from classroom_support.models import Ticket
from classroom_support.tickets import (
    TEXT_LIMITS,
    InvalidTransition,
    TicketDesk,
    TicketError,
    ValidationError,
    check_text,
)

EDITABLE_FIELDS = ("title", "seat", "trainee_name", "trainee_contact")
# Statuses in which the text may change: like assigning or re-prioritising, not once verified.
EDITABLE_STATUSES = ("new", "in_progress", "waiting", "resolved")


class NothingChanged(TicketError):
    pass


def edit_problem(payload: Mapping[str, Any]) -> str:
    """Why this `edited` payload cannot be applied (a short code), or "" when it can."""
    changes = payload.get("changes")
    if not isinstance(changes, Mapping) or not changes:
        return "changes"
    for name, change in changes.items():
        if name not in EDITABLE_FIELDS:
            return f"field {str(name)[:40]}"
        if not isinstance(change, Mapping):
            return name
        new, old = change.get("new"), change.get("old", "")
        if not isinstance(new, str) or not isinstance(old, str):
            return name
        if len(new) > TEXT_LIMITS[name] or (name == "title" and not new.strip()):
            return name
    return ""


def apply_edit(ticket: Ticket, data: Mapping[str, Any]) -> None:
    """Fold one `edited` event's payload into `ticket` (InvalidTransition: untouched)."""
    if edit_problem(data):
        raise InvalidTransition("error.bad_event", kind="edited")
    if ticket.status not in EDITABLE_STATUSES:
        raise InvalidTransition("error.closed")
    for name, change in data["changes"].items():
        setattr(ticket, name, change["new"])


def edit_ticket(desk: TicketDesk, ref: str, values: Mapping[str, str]) -> Ticket:
    """Change some of the ticket's text; the event records each changed field's old value.
    ValidationError for a bad value (nothing written), NothingChanged when every value is
    already the ticket's."""
    unknown = [name for name in values if name not in EDITABLE_FIELDS]
    if unknown:
        raise ValidationError(unknown[0], "error.not_editable")
    check_text(dict(values))
    ticket = desk.get(ref)
    changes = {
        name: {"old": getattr(ticket, name), "new": value}
        for name, value in values.items()
        if getattr(ticket, name) != value
    }
    if not changes:
        raise NothingChanged("error.nothing_changed", ref=ticket.ref)
    # Written like every other action (the desk's checks, one transaction); the old values
    # are what this desk showed, and the fold applies only the new ones.
    return desk._act(ticket.ref, "edited", {"changes": changes})
