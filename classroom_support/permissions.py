"""Who may do what: device roles, their hall scope, and the one permission table both the
laptop (before writing an event) and the central server (before storing a pushed one) use.

Headless on purpose: the TUI dims keys with it, `TicketDesk` refuses with it, and the server's
push check refuses with it, so the three can never disagree. The table is documented in
docs/roles.md; change both together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from classroom_support.i18n import CATALOGS, tr
from classroom_support.sla_policy import sla_event_id

if TYPE_CHECKING:  # the first painted queue uses this module before the ORM is loaded
    from sqlmodel import Session

HALL, CONTACT_CENTRE, LEVEL2, MANAGER = "hall", "contact-centre", "level2", "manager"
ROLES = (HALL, CONTACT_CENTRE, LEVEL2, MANAGER)

# Events only the SLA monitor records (laptop or server), with deterministic ids.
MONITOR_KINDS = ("sla_warning", "sla_breached", "escalated")

# role -> event kind -> allowed. A kind missing from a role's set is refused with REASONS[kind]
# (or the generic reason). `route` is further narrowed by where it goes (refusal_key).
# Filing and triage: the contact centre's whole list, and part of every desk that works tickets.
_TRIAGE = frozenset(
    {"created", "responded", "note", "assigned", "priority_set", "category_set", "route", "edited"}
)
# Working a ticket on site: the hall's list; Level 2 also closes the loop.
_WORK = _TRIAGE | {"paused", "resumed", "resolved"}
ALLOWED: dict[str, frozenset[str]] = {
    HALL: _WORK,
    CONTACT_CENTRE: _TRIAGE,
    LEVEL2: _WORK | {"verified", "reopened", "rca_recorded"},
    MANAGER: frozenset({"note", "rca_recorded"}),
}

# Why a kind is refused, whoever asked (translation keys in locales/*.py).
REASONS: dict[str, str] = {
    "verified": "permission.verify",
    "rca_recorded": "permission.rca",
    "reopened": "permission.reopen",
    "created": "permission.create",
    "paused": "permission.work",
    "resumed": "permission.work",
    "resolved": "permission.work",
    "responded": "permission.respond",
    "route": "permission.route",
}
GENERIC_REASON = "permission.generic"
SHOWN_HALLS = 3  # a header names up to this many halls, then counts them


class DeviceScope(NamedTuple):
    """A device's role and the halls it serves. `known` is False on a laptop that has never
    been accepted by a central server: it is a hall device of whatever halls it is set up for,
    as every laptop was before roles existed."""

    role: str = HALL
    halls: tuple[str, ...] = ()
    all_halls: bool = False
    known: bool = False

    def covers(self, hall: str) -> bool:
        if self.all_halls or not self.known:
            return True
        return hall in self.halls


def scope_from_text(role: str, halls: str, all_halls: bool, *, known: bool) -> DeviceScope:
    """The scope as stored (a comma list of halls), with an unknown role read as `hall`."""
    return DeviceScope(
        role=role if role in ROLES else HALL,
        halls=tuple(h for h in halls.split(",") if h),
        all_halls=all_halls,
        known=known,
    )


def stored_scope(s: Session) -> DeviceScope:
    """This laptop's scope as the central server last gave it (hello or pull)."""
    from classroom_support.models import SyncState

    state = s.get(SyncState, 1)
    if state is None:
        return DeviceScope()
    known = state.all_halls or bool(state.halls)
    return scope_from_text(state.role, state.halls, state.all_halls, known=known)


def route_target(payload: Mapping[str, Any]) -> tuple[str, str] | None:
    """("hall", code) or ("level2", "") from a route payload's `to`, None when malformed."""
    to = payload.get("to")
    if not isinstance(to, Mapping) or len(to) != 1:
        return None
    if to.get("level2") is True:
        return ("level2", "")
    hall = to.get("hall")
    if isinstance(hall, str) and hall.strip() and len(hall) <= 40:
        return ("hall", hall)
    return None


def refusal_key(role: str, kind: str, payload: Mapping[str, Any] | None = None) -> str | None:
    """The reason key when `role` may not make an event of `kind` (with this payload, for a
    route), None when it may. Monitor kinds are not decided here: see `monitor_event_ok`."""
    if kind in MONITOR_KINDS:
        return None
    if kind not in ALLOWED.get(role, frozenset()):
        return REASONS.get(kind, GENERIC_REASON)
    if kind == "route" and payload is not None:
        target = route_target(payload)
        if target is None:
            return None  # malformed: the domain's validation says so, not the role table
        if role == HALL and target[0] != "level2":
            return "permission.route_hall"
        if role == LEVEL2 and target[0] != "hall":
            return "permission.route_level2"
    return None


def refusal(role: str, kind: str, payload: Mapping[str, Any] | None = None) -> str | None:
    """`refusal_key`, translated into the current language (None when allowed)."""
    key = refusal_key(role, kind, payload)
    return None if key is None else tr(key, role=tr(f"role.{role}"))


def refusal_english(role: str, kind: str, payload: Mapping[str, Any] | None = None) -> str:
    """The reason in English, for the server's per-event answer ("" when allowed)."""
    key = refusal_key(role, kind, payload)
    if key is None:
        return ""
    english = CATALOGS["en"]
    return english[key].format(role=english[f"role.{role}"])


def monitor_event_ok(event_id: str, ticket_id: str, kind: str, payload: Mapping[str, Any]) -> bool:
    """A warning, breach or escalation is the SLA monitor's when its id is the deterministic
    one for what it says (sla_policy.sla_event_id): such events are allowed from every role,
    since every desk runs the monitor and both copies are the same event."""
    if kind in ("sla_warning", "sla_breached"):
        key = payload.get("clock")
        name = "warning" if kind == "sla_warning" else "breached"
    elif kind == "escalated":
        level = payload.get("level")
        if isinstance(level, bool) or not isinstance(level, int):
            return False
        key, name = f"L{level}", "escalated"
    else:
        return False
    if not isinstance(key, str):
        return False
    return event_id == sla_event_id(ticket_id, key, name)


def scope_label(scope: DeviceScope) -> str:
    """ "Contact centre · all halls", "Hall A101", "Level 2 · A101, B201" (translated)."""
    if scope.all_halls:
        where = tr("scope.all_halls")
    elif len(scope.halls) > SHOWN_HALLS:
        where = tr("scope.n_halls", count=len(scope.halls))
    else:
        where = ", ".join(scope.halls)
    if scope.role == HALL:
        return tr("scope.hall", halls=where) if where else tr("role.hall")
    role = tr(f"role.{scope.role}")
    return tr("scope.role_halls", role=role, halls=where) if where else role
