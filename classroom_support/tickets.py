"""The ticket domain: every change is an event; the ticket row is a deterministic fold of them.

Commands (`TicketDesk.respond`, `.resolve`, ...) check the transition against the current row,
append one event and fold it into the row, all in one `BEGIN IMMEDIATE` transaction. `fold()`
rebuilds a ticket from its events alone; a test holds the two to the same answer.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from classroom_support.clock import DEVICE_TIME_KEY, Clock, CorrectedClock
from classroom_support.config import Config
from classroom_support.db import Database
from classroom_support.hlc import HLC, tick
from classroom_support.i18n import tr
from classroom_support.models import DeviceIdentity, Ticket, TicketEvent
from classroom_support.permissions import (
    CONTACT_CENTRE,
    DeviceScope,
    refusal_key,
    scope_from_text,
    stored_scope,
)
from classroom_support.plain_read import QueuePage as QueuePage  # re-exported
from classroom_support.plain_read import age_text as age_text  # re-exported
from classroom_support.plain_read import read_queue
from classroom_support.queue_sql import OPEN_STATUSES as OPEN_STATUSES  # re-exported
from classroom_support.queue_sql import (
    PRIORITIES,
    QueueQuery,
    read_blocking,
)
from classroom_support.queue_sql import SORTS as SORTS
from classroom_support.queue_sql import STATUSES as STATUSES
from classroom_support.sla_policy import pause_spans_from_json
from classroom_support.syncwire import FoldEvent
from classroom_support.ticket_rows import (
    CREATE_LOOKUPS,
    EVENT_INSERT,
    TICKET_COLUMNS,
    TICKET_INSERT,
    event_in_order,
    loaded_ticket,
    stored_row,
    stored_ticket,
    ticket_in_order,
    ticket_values,
)
from classroom_support.ticket_terms import CATEGORIES as CATEGORIES  # re-exported
from classroom_support.ticket_terms import CHANNELS as CHANNELS  # re-exported
from classroom_support.ticket_terms import RCA_CAUSES as RCA_CAUSES  # re-exported

CALLER_CHANNELS = ("phone", "whatsapp")
REMOTE_CHANNELS = ("remote_access",)
EVENT_KINDS = (
    "created",
    "responded",
    "note",
    "assigned",
    "priority_set",
    "category_set",
    "paused",
    "resumed",
    "resolved",
    "verified",
    "reopened",
    "sla_warning",
    "sla_breached",
    "escalated",
    "rca_recorded",
    "edited",
    "route",
)
SLA_CLOCKS = ("first_response", "resolution")

# Documented limits (README): text above them is refused with a message, never cut silently.
MAX_TITLE = 2000
MAX_SHORT = 200
MAX_NOTE = 10_000
# The ticket's own text, as the new-ticket form takes it (and as edits change it).
TEXT_LIMITS = {
    "title": MAX_TITLE,
    "seat": MAX_SHORT,
    "trainee_name": MAX_SHORT,
    "trainee_contact": MAX_SHORT,
    "caller_number": MAX_SHORT,
    "remote_session_id": MAX_SHORT,
}

# Reference prefixes avoid letters that are misheard or misread aloud (0/O, 1/I/L, 5/S, 8/B...).
REF_ALPHABET = "ACDEFHJKMNPRTVWXY34679"
REF_PREFIX_LEN = 4

# json.dumps(..., ensure_ascii=False) without building an encoder per event.
_to_json = json.JSONEncoder(ensure_ascii=False).encode


class TicketError(Exception):
    """A domain error with a translated, user-facing message."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(tr(key, **values))


class ValidationError(TicketError):
    def __init__(self, field_name: str, key: str, **values: Any) -> None:
        self.field = field_name
        super().__init__(key, field=tr(f"field.{field_name}"), **values)


class InvalidTransition(TicketError):
    pass


class TicketNotFound(TicketError):
    pass


class NotPermitted(TicketError):
    """This desk's role may not make this change (permissions.py); nothing was written."""


@dataclass(frozen=True)
class TicketDraft:
    """What the new-ticket form and `tickets add` collect."""

    title: str
    seat: str = ""
    trainee_name: str = ""
    trainee_contact: str = ""
    category: str = "other"
    priority: str = "normal"
    channel: str = "in_hall"
    caller_number: str = ""
    remote_session_id: str = ""
    hall_code: str | None = None
    session_id: str | None = None


def created_payload(
    draft: TicketDraft, ref_prefix: str, seq: int, session_label: str
) -> dict[str, Any]:
    """The payload of a ticket's `created` event, on a laptop desk and on the central server."""
    return {
        "ref": f"{ref_prefix}-{seq}",
        "device_seq": seq,
        "hall_code": draft.hall_code,
        "session_id": draft.session_id,
        "session_label": session_label,
        "title": draft.title,
        "seat": draft.seat,
        "trainee_name": draft.trainee_name,
        "trainee_contact": draft.trainee_contact,
        "category": draft.category,
        "priority": draft.priority,
        "channel": draft.channel,
        "caller_number": draft.caller_number,
        "remote_session_id": draft.remote_session_id,
    }


def _check_len(field_name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValidationError(field_name, "error.too_long", length=len(value), limit=limit)


def check_text(values: dict[str, str]) -> None:
    """The form's rules for the ticket's text (new tickets and edits alike): the problem is
    required, every field within its limit. ValidationError names the first bad field."""
    if "title" in values and not values["title"].strip():
        raise ValidationError("title", "error.required")
    for name, value in values.items():
        _check_len(name, value, TEXT_LIMITS[name])


def validate_draft(draft: TicketDraft, config: Config, halls: Sequence[str] = ()) -> TicketDraft:
    """The draft as it will be stored, or ValidationError naming the first bad field. `halls`
    are the codes this desk may file for besides the configured ones (a desk over several
    halls learns them from its scope and from the tickets it holds)."""
    check_text({name: getattr(draft, name) for name in TEXT_LIMITS})
    if draft.category not in CATEGORIES:
        raise ValidationError(
            "category", "error.choice", value=draft.category, choices=", ".join(CATEGORIES)
        )
    if draft.priority not in PRIORITIES:
        raise ValidationError(
            "priority", "error.choice", value=draft.priority, choices=", ".join(PRIORITIES)
        )
    if draft.channel not in CHANNELS:
        raise ValidationError(
            "channel", "error.choice", value=draft.channel, choices=", ".join(CHANNELS)
        )
    number = draft.caller_number.strip()
    if number and not all(ch.isdigit() or ch in "+-() " for ch in number):
        raise ValidationError("caller_number", "error.phone", value=number)
    hall = (draft.hall_code or config.hall).strip()
    if config.hall_named(hall) is None and hall not in halls:
        known = dict.fromkeys([*(h.code for h in config.halls), *halls])
        raise ValidationError("hall", "error.choice", value=hall, choices=", ".join(known))
    if hall == draft.hall_code and number == draft.caller_number:
        return draft  # as it will be stored already (frozen: nothing can change it)
    return replace(draft, hall_code=hall, caller_number=number)


# --------------------------------------------------------------------------- the fold


def _payload(event: TicketEvent | FoldEvent) -> dict[str, Any]:
    return json.loads(event.payload)


def verify_refusal(ticket: Ticket) -> InvalidTransition | None:
    """Why verifying `ticket` would be refused, or None when it may be verified. The one rule
    both the event log and the screens use, so the desk can say no before asking for a note."""
    if ticket.status != "resolved":
        return InvalidTransition(
            "error.transition", action=tr("action.verify"), status=tr(f"status.{ticket.status}")
        )
    if ticket.breached and ticket.rca_at is None:
        return InvalidTransition("error.rca_required")
    return None


def can_verify(ticket: Ticket) -> str | None:
    """The translated reason verifying `ticket` is refused, or None when it is allowed."""
    refusal = verify_refusal(ticket)
    return str(refusal) if refusal is not None else None


def apply_event(ticket: Ticket, event: TicketEvent) -> None:
    """Fold one event into `ticket`. Raises InvalidTransition (ticket untouched) if not allowed."""
    kind = event.kind
    data = _payload(event)
    status = ticket.status
    at = event.occurred_at
    if kind == "responded":
        if ticket.first_response_at is not None:
            raise InvalidTransition("error.already_responded")
        if status == "verified":
            raise InvalidTransition("error.closed")
        ticket.first_response_at = at
        if status == "new":
            ticket.status = "in_progress"
    elif kind == "note":
        pass
    elif kind in ("sla_warning", "sla_breached"):
        clock = data.get("clock")
        if clock not in SLA_CLOCKS:
            raise InvalidTransition("error.bad_event", kind=kind)
        field_name = "warned" if kind == "sla_warning" else "breached"
        marks = _marks(getattr(ticket, field_name))
        if clock in marks:
            raise InvalidTransition("error.duplicate_sla", kind=kind)
        setattr(ticket, field_name, ",".join(sorted({*marks, clock})))
    elif kind == "escalated":
        level = data.get("level")
        if not isinstance(level, int) or level != ticket.escalation_level + 1:
            raise InvalidTransition(
                "error.bad_escalation", level=level, current=ticket.escalation_level
            )
        ticket.escalation_level = level
        ticket.escalated_at = at
        ticket.tier = str(data.get("tier", ticket.tier))
    elif kind == "rca_recorded":
        if not ticket.breached:
            raise InvalidTransition("error.rca_not_needed")
        if data.get("cause") not in RCA_CAUSES:
            raise InvalidTransition("error.bad_event", kind=kind)
        ticket.rca_cause = data["cause"]
        ticket.rca_what = str(data.get("what", ""))
        ticket.rca_action = str(data.get("action", ""))
        ticket.rca_owner = str(data.get("owner", ""))
        ticket.rca_at = at
    elif kind == "edited":
        # The edit rules live beside the command that writes them (imported here, not at
        # the top: that module builds on this one).
        from classroom_support.ticket_edits import apply_edit

        apply_edit(ticket, data)
    elif kind == "route":
        from classroom_support.routing import apply_route  # builds on this module too

        apply_route(ticket, data)
    elif kind == "assigned":
        _require_not_closed(status)
        ticket.assignee = str(data.get("assignee", ""))
    elif kind == "priority_set":
        _require_not_closed(status)
        if data.get("priority") not in PRIORITIES:
            raise InvalidTransition("error.bad_event", kind=kind)
        ticket.priority = data["priority"]
        ticket.priority_rank = PRIORITIES.index(data["priority"])
    elif kind == "category_set":
        _require_not_closed(status)
        if data.get("category") not in CATEGORIES:
            raise InvalidTransition("error.bad_event", kind=kind)
        ticket.category = data["category"]
    elif kind == "paused":
        if status not in ("new", "in_progress"):
            raise InvalidTransition(
                "error.transition", action=tr("action.pause"), status=tr(f"status.{status}")
            )
        ticket.status = "waiting"
        ticket.pauses = json.dumps([*json.loads(ticket.pauses), [at.isoformat(), None]])
    elif kind == "resumed":
        if status != "waiting":
            raise InvalidTransition(
                "error.transition", action=tr("action.resume"), status=tr(f"status.{status}")
            )
        ticket.status = "in_progress"
        ticket.pauses = _close_pause(ticket.pauses, at)
    elif kind == "resolved":
        if status not in ("new", "in_progress", "waiting"):
            raise InvalidTransition(
                "error.transition", action=tr("action.resolve"), status=tr(f"status.{status}")
            )
        ticket.status = "resolved"
        ticket.resolved_at = at
        ticket.pauses = _close_pause(ticket.pauses, at)
        if ticket.first_response_at is None:
            ticket.first_response_at = at  # solving it on the spot is also the first response
    elif kind == "verified":
        refusal = verify_refusal(ticket)
        if refusal is not None:
            raise refusal
        ticket.status = "verified"
        ticket.verified_at = at
        ticket.is_open = False
    elif kind == "reopened":
        if status not in ("resolved", "verified"):
            raise InvalidTransition(
                "error.transition", action=tr("action.reopen"), status=tr(f"status.{status}")
            )
        ticket.status = "in_progress"
        ticket.resolved_at = None
        ticket.verified_at = None
        ticket.is_open = True
    else:
        raise InvalidTransition("error.bad_event", kind=kind)
    ticket.updated_at = max(ticket.updated_at, at)
    ticket.last_hlc = max(ticket.last_hlc, event.hlc)
    ticket.event_count += 1


def _marks(text: str) -> set[str]:
    return {m for m in text.split(",") if m}


def _close_pause(pauses: str, at: datetime) -> str:
    spans = json.loads(pauses)
    if spans and spans[-1][1] is None:
        spans[-1][1] = at.isoformat()
    return json.dumps(spans)


def pause_spans(ticket: Ticket) -> list[tuple[datetime, datetime | None]]:
    return pause_spans_from_json(ticket.pauses)


def _require_not_closed(status: str) -> None:
    if status == "verified":
        raise InvalidTransition("error.closed")


def ticket_from_created(event: TicketEvent | FoldEvent) -> Ticket:
    return Ticket(**created_values(event))


def created_values(event: TicketEvent | FoldEvent) -> dict[str, Any]:
    """The fields of the ticket a `created` event starts (the others keep their defaults)."""
    return created_fields(_payload(event), event)


def created_fields(data: dict[str, Any], event: TicketEvent | FoldEvent) -> dict[str, Any]:
    """`created_values` from the event's payload as an object (create has it before the text)."""
    return {
        "id": event.ticket_id,
        "ref": data["ref"],
        "hall_code": data["hall_code"],
        "session_id": data.get("session_id"),
        "session_label": data.get("session_label", ""),
        "title": data["title"],
        "seat": data.get("seat", ""),
        "trainee_name": data.get("trainee_name", ""),
        "trainee_contact": data.get("trainee_contact", ""),
        "category": data.get("category", "other"),
        "priority": data.get("priority", "normal"),
        "priority_rank": PRIORITIES.index(data.get("priority", "normal")),
        "channel": data.get("channel", "in_hall"),
        "caller_number": data.get("caller_number", ""),
        "remote_session_id": data.get("remote_session_id", ""),
        "with_desk": data.get("with_desk", "hall"),
        "status": "new",
        "assignee": "",
        "tier": "L1",
        "created_by": event.actor,
        "origin_device": event.device_id,
        "device_seq": int(data.get("device_seq", 0)),
        "created_at": event.occurred_at,
        "updated_at": event.occurred_at,
        "last_hlc": event.hlc,
        "event_count": 1,
        "conflicts": 0,
        "is_open": True,
    }


def fold(events: Iterable[TicketEvent]) -> Ticket:
    """The ticket that these events describe, in (HLC, id) order. Invalid steps become conflicts."""
    ordered = sorted(events, key=lambda e: (e.hlc, e.id))
    created = [e for e in ordered if e.kind == "created"]
    if not created:
        raise TicketError("error.no_created_event")
    ticket = ticket_from_created(created[0])
    for event in ordered:
        if event is not created[0]:
            fold_step(ticket, event)
    return ticket


def fold_step(ticket: Ticket, event: Any) -> None:
    """One step of the fold, for an event that sorts after every event already folded:
    a second 'created' or a transition invalid at this point counts as a conflict."""
    if event.kind == "created":
        ticket.conflicts += 1
        return
    try:
        apply_event(ticket, event)
    except InvalidTransition:
        ticket.conflicts += 1


# --------------------------------------------------------------------------- queries


# --------------------------------------------------------------------------- the desk


class TicketDesk:
    """The headless façade the TUI, the CLI and (later) sync all use."""

    def __init__(
        self, db: Database, clock: Clock, config: Config, *, role: str | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        # None: the role the central server gave this device (permissions.stored_scope).
        # A fixed role is for generators that write history as several desks would (demo).
        self.fixed_role = role
        self._device: DeviceIdentity | None = None
        self._fts: bool | None = None  # the search index of migration 0012 is there
        # Called with the ref before every change, so SLA facts are recorded first (monitor.py).
        self.before_change: Callable[[str], object] | None = None
        # Called with the ref after a change was committed (the TUI sends it up soon after).
        self.after_change: Callable[[str], object] | None = None

    # ---- identity

    @property
    def device(self) -> DeviceIdentity:
        if self._device is None:
            self._device = self._load_or_create_device()
        return self._device

    def _load_or_create_device(self) -> DeviceIdentity:
        with self.db.read() as s:
            found = s.get(DeviceIdentity, 1)
        if found is not None:
            return found
        with self.db.write() as s:
            found = s.get(DeviceIdentity, 1)
            if found is None:
                prefix = "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_PREFIX_LEN))
                found = DeviceIdentity(
                    id=1,
                    device_id=str(uuid.uuid4()),
                    ref_prefix=prefix,
                    created_at=self.clock.now(),
                )
                s.add(found)
        return found

    def scope(self) -> DeviceScope:
        with self.db.read() as s:
            return self._scope(s)

    def _scope(self, s: Session) -> DeviceScope:
        if self.fixed_role is not None:
            return DeviceScope(role=self.fixed_role)
        return stored_scope(s)

    def multi_hall(self) -> bool:
        """True on a desk over more than one hall (a contact centre, Level 2, a manager): its
        queue shows a Hall column and a hall filter, and its form asks for the hall."""
        scope = self.scope()
        return scope.known and (scope.all_halls or len(scope.halls) > 1)

    def scope_halls(self) -> tuple[str, ...]:
        """The hall codes this desk serves, in a stable order: its scope's halls; for every
        hall, the configured ones then any other its tickets name (halls added later)."""
        scope = self.scope()
        if scope.known and not scope.all_halls:
            return scope.halls
        with self.db.read() as s:
            held = s.exec(select(Ticket.hall_code).distinct()).all()
        configured = [h.code for h in self.config.halls]
        return tuple(dict.fromkeys([*configured, *sorted(h for h in held if h)]))

    def permitted(self, kind: str, payload: dict[str, Any] | None = None) -> str | None:
        """Why this desk may not make an event of `kind` (translated), None when it may."""
        refused = self._refusal(self.scope(), kind, payload)
        return None if refused is None else str(refused)

    @staticmethod
    def _refusal(
        scope: DeviceScope, kind: str, payload: dict[str, Any] | None
    ) -> NotPermitted | None:
        key = refusal_key(scope.role, kind, payload)
        return None if key is None else NotPermitted(key, role=tr(f"role.{scope.role}"))

    def _scope_from_state(
        self, role: str | None, halls: str | None, all_halls: bool | None
    ) -> DeviceScope:
        """`_scope` from the sync_state columns read with plain SQL (create's lookup); None
        when the row does not exist (permissions.stored_scope)."""
        if self.fixed_role is not None:
            return DeviceScope(role=self.fixed_role)
        if role is None:
            return DeviceScope()
        every = bool(all_halls)
        return scope_from_text(role, halls or "", every, known=every or bool(halls))

    def _check_permitted(
        self, s: Session, kind: str, payload: dict[str, Any], hall: str | None
    ) -> None:
        self._check_scope(self._scope(s), kind, payload, hall)

    def _check_scope(
        self, scope: DeviceScope, kind: str, payload: dict[str, Any], hall: str | None
    ) -> None:
        """Refuse before anything is written: the role's table, then the hall scope."""
        refused = self._refusal(scope, kind, payload)
        if refused is not None:
            raise refused
        if hall is not None and not scope.covers(hall):
            raise NotPermitted("error.out_of_scope", hall=hall, halls=", ".join(scope.halls))

    # ---- writes

    def _next_hlc(self, s: Session) -> HLC:
        return self._tick(s.exec(select(func.max(TicketEvent.hlc))).one())

    def _tick(self, last: str | None) -> HLC:
        """The HLC after `last` (the newest stored, or None) at the clock's time."""
        last_hlc = HLC.decode(last) if last else HLC(0, 0)
        return tick(last_hlc, int(self.clock.now().timestamp() * 1000))

    def new_event(
        self,
        s: Session,
        ticket_id: str,
        kind: str,
        payload: dict[str, Any],
        *,
        event_id: str | None = None,
    ) -> TicketEvent:
        """An event stamped by this device, actor, clock and the next HLC (not yet added).
        When the clock is corrected against the server, the device's own time is kept too."""
        return self._stamped(ticket_id, kind, payload, self._next_hlc(s), event_id)

    def _stamped(
        self,
        ticket_id: str,
        kind: str,
        payload: dict[str, Any],
        hlc: HLC,
        event_id: str | None = None,
        make: Callable[..., Any] = TicketEvent,
    ) -> Any:
        """The event as `make` builds it: an ORM object to add to a session, or a plain
        FoldEvent for a statement that writes the row itself (create)."""
        if isinstance(self.clock, CorrectedClock) and self.clock.corrected:
            payload = {**payload, DEVICE_TIME_KEY: self.clock.device_time().isoformat()}
        return make(
            id=event_id or str(uuid.uuid4()),
            ticket_id=ticket_id,
            kind=kind,
            payload=_to_json(payload),
            device_id=self.device.device_id,
            actor=self.config.technician,
            occurred_at=self.clock.now(),
            hlc=hlc.encode(),
        )

    def create(self, draft: TicketDraft) -> Ticket:
        """Validate, then write the ticket row and its `created` event in one transaction.

        The hot path of the desk: one lookup SELECT and the two rows' fixed INSERTs go straight
        to the pool's `sqlite3` connection (`Database.write_driver`, ticket_rows.py), not
        through SQLAlchemy; the transaction, its BEGIN IMMEDIATE and the rows are the same."""
        hall = (draft.hall_code or "").strip()
        # The scope is read only for a hall the config does not name (a multi-hall desk).
        extra = self.scope_halls() if hall and self.config.hall_named(hall) is None else ()
        draft = validate_draft(draft, self.config, extra)
        device = self.device  # before the transaction: a first use may write the identity
        values = self.db.write_driver(lambda conn: self._write_created(conn, draft, device))
        if self.after_change is not None:
            self.after_change(values["ref"])
        return stored_ticket(values)

    def _write_created(
        self, conn: sqlite3.Connection, draft: TicketDraft, device: DeviceIdentity
    ) -> dict[str, Any]:
        """create's statements, inside its transaction; the new ticket's values."""
        last_seq, last_hlc, course, role, halls, all_halls = conn.execute(
            CREATE_LOOKUPS, (device.device_id, draft.session_id)
        ).fetchone()
        scope = self._scope_from_state(role, halls, all_halls)
        self._check_scope(scope, "created", {}, draft.hall_code)
        seq = (last_seq or 0) + 1
        payload = created_payload(draft, device.ref_prefix, seq, course or "")
        if scope.role == CONTACT_CENTRE:
            # A call taken at the contact centre stays there until it is routed.
            payload["with_desk"] = CONTACT_CENTRE
        event = self._stamped(
            str(uuid.uuid4()), "created", payload, self._tick(last_hlc), make=FoldEvent
        )
        values = ticket_values(created_fields(payload, event))
        # The ticket row first: its event refers to it (foreign key).
        conn.execute(TICKET_INSERT, stored_row(ticket_in_order(values)))
        conn.execute(EVENT_INSERT, stored_row(event_in_order(event)))
        return values

    def _act(self, ref: str, kind: str, payload: dict[str, Any]) -> Ticket:
        if self.before_change is not None:
            self.before_change(ref)
        with self.db.write() as s:
            ticket = self._find(s, ref)
            self._check_permitted(s, kind, payload, ticket.hall_code)
            event = self.new_event(s, ticket.id, kind, payload)
            apply_event(ticket, event)  # raises before anything is written
            s.add(event)
            s.add(ticket)
        if self.after_change is not None:
            self.after_change(ref)
        return ticket

    def respond(self, ref: str, message: str) -> Ticket:
        _check_len("message", message, MAX_NOTE)
        return self._act(ref, "responded", {"message": message})

    def add_note(self, ref: str, text: str) -> Ticket:
        if not text.strip():
            raise ValidationError("note", "error.required")
        _check_len("note", text, MAX_NOTE)
        return self._act(ref, "note", {"text": text})

    def assign(self, ref: str, assignee: str, *, person_id: str = "") -> Ticket:
        """`person_id`: the staff directory's id when the name was picked from it (kept in
        the event, so the assignment still names the person after a rename)."""
        _check_len("assignee", assignee, MAX_SHORT)
        payload = {"assignee": assignee}
        if person_id:
            payload["person_id"] = person_id
        return self._act(ref, "assigned", payload)

    def set_priority(self, ref: str, priority: str) -> Ticket:
        if priority not in PRIORITIES:
            raise ValidationError(
                "priority", "error.choice", value=priority, choices=", ".join(PRIORITIES)
            )
        return self._act(ref, "priority_set", {"priority": priority})

    def set_category(self, ref: str, category: str) -> Ticket:
        if category not in CATEGORIES:
            raise ValidationError(
                "category", "error.choice", value=category, choices=", ".join(CATEGORIES)
            )
        return self._act(ref, "category_set", {"category": category})

    def pause(self, ref: str, reason: str = "") -> Ticket:
        _check_len("reason", reason, MAX_NOTE)
        return self._act(ref, "paused", {"reason": reason})

    def resume(self, ref: str) -> Ticket:
        return self._act(ref, "resumed", {})

    def resolve(self, ref: str, summary: str = "") -> Ticket:
        _check_len("summary", summary, MAX_NOTE)
        return self._act(ref, "resolved", {"summary": summary})

    def verify(self, ref: str, note: str = "") -> Ticket:
        _check_len("note", note, MAX_NOTE)
        return self._act(ref, "verified", {"note": note})

    def record_rca(self, ref: str, cause: str, what: str, action: str, owner: str) -> Ticket:
        """Root-cause analysis of a missed SLA: required before a breached ticket is verified."""
        if cause not in RCA_CAUSES:
            raise ValidationError(
                "rca_cause", "error.choice", value=cause, choices=", ".join(RCA_CAUSES)
            )
        for name, value in (("rca_what", what), ("rca_action", action)):
            if not value.strip():
                raise ValidationError(name, "error.required")
            _check_len(name, value, MAX_NOTE)
        if not owner.strip():
            raise ValidationError("rca_owner", "error.required")
        _check_len("rca_owner", owner, MAX_SHORT)
        return self._act(
            ref, "rca_recorded", {"cause": cause, "what": what, "action": action, "owner": owner}
        )

    def reopen(self, ref: str, reason: str = "") -> Ticket:
        _check_len("reason", reason, MAX_NOTE)
        return self._act(ref, "reopened", {"reason": reason})

    # ---- reads

    def _find(self, s: Session, ref: str) -> Ticket:
        key = ref.strip()
        ticket = s.exec(select(Ticket).where(Ticket.ref == key.upper())).first()
        if ticket is None:
            ticket = s.get(Ticket, key)
        if ticket is None:
            raise TicketNotFound("error.not_found", ref=key)
        return ticket

    def get(self, ref: str) -> Ticket:
        with self.db.read() as s:
            return self._find(s, ref)

    def history(self, ticket_id: str) -> list[TicketEvent]:
        with self.db.read() as s:
            rows = s.exec(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(col(TicketEvent.hlc), col(TicketEvent.id))
            ).all()
        return list(rows)

    def queue(self, query: QueueQuery, columns: Sequence[str] = TICKET_COLUMNS) -> QueuePage:
        """One page of the queue, read along the page indexes (queue_sql.py) on the database's
        reader connection (`Database.read_driver`), its rows read-only (`plain_read.TicketRow`:
        a ticket's attributes without the ORM, which cost a word search a tenth of its time),
        with `columns` only (the queue screen: `QUEUE_VIEW_COLUMNS`)."""
        return self.db.read_driver(
            lambda conn: read_queue(conn, query, self._has_fts(conn), columns)
        )

    def _has_fts(self, conn: Any) -> bool:
        if self._fts is None:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ticket_fts_open'"
            ).fetchone()
            self._fts = found is not None
        return self._fts

    def blocking(
        self, hall_code: str, categories: tuple[str, ...], limit: int = 20
    ) -> list[Ticket]:
        """Open, unresolved tickets that stop a class: critical, or about the hall's equipment."""
        with self.db.read() as s:
            conn = s.connection().connection.driver_connection
            assert conn is not None
            found = read_blocking(conn, hall_code, categories, limit, TICKET_COLUMNS)
        return [loaded_ticket(r) for r in found]

    def escalated(self) -> list[Ticket]:
        with self.db.read() as s:
            return list(
                s.exec(
                    select(Ticket)
                    # Resolved (awaiting verification) is no longer an escalation to act on.
                    .where(
                        col(Ticket.is_open).is_(True),
                        Ticket.escalation_level > 0,
                        Ticket.status != "resolved",
                    )
                    .order_by(col(Ticket.escalation_level).desc(), col(Ticket.created_at))
                ).all()
            )

    def breaches(self) -> list[Ticket]:
        with self.db.read() as s:
            return list(
                s.exec(
                    select(Ticket).where(Ticket.breached != "").order_by(col(Ticket.created_at))
                ).all()
            )

    def count_open(self, hall_code: str | None = None) -> int:
        page = self.queue(QueueQuery(hall_code=hall_code, limit=0))
        return page.total
