"""The ticket status page, `/status/{ticket uuid}`: the UUID (122 random bits) is the only key,
so the link is unguessable; a ref is not accepted. It shows the status, when the first response
is due (the same SLA code as the laptops, on the central calendar: weekly hours, course
sessions and holidays), and the public part of the history: status changes and their times.
Never notes, messages, actors, names or contact details: the link may be shown on a projector.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from classroom_support.central.store import CentralStore
from classroom_support.central.web.common import (
    LocalTime,
    language_of,
    local_time,
    not_found,
    render,
    store_of,
    with_lang,
)
from classroom_support.central.web.form import parse_ticket_id
from classroom_support.models import Ticket
from classroom_support.sla_policy import clocks_of
from classroom_support.tickets import TicketNotFound

# Events a trainee may see (kind only, with its time); everything else stays internal.
PUBLIC_KINDS = ("created", "responded", "paused", "resumed", "resolved", "verified", "reopened")

router = APIRouter(include_in_schema=False)
ZONE_NAMES = {"Asia/Riyadh": ("Riyadh", "الرياض")}


def zone_name(zone: str, lang: str) -> str:
    names = ZONE_NAMES.get(zone)
    if names is None:
        return zone
    return names[1] if lang == "ar" else names[0]


@dataclass(frozen=True)
class PublicEvent:
    kind: str
    at: LocalTime


@dataclass(frozen=True)
class ResponseDue:
    due: LocalTime | None
    overdue: bool
    responded: LocalTime | None


def public_history(store: CentralStore, ticket_id: str, lang: str) -> list[PublicEvent]:
    events = sorted(store.events(ticket_id), key=lambda e: (e["hlc"], e["id"]))
    out = []
    for event in events:
        if event["kind"] in PUBLIC_KINDS:
            at = datetime.fromisoformat(event["occurred_at"])
            out.append(PublicEvent(event["kind"], local_time(at, lang, store.config)))
    return out


def response_due(store: CentralStore, ticket: Ticket, lang: str) -> ResponseDue:
    config = store.config
    if ticket.first_response_at is not None:
        return ResponseDue(None, False, local_time(ticket.first_response_at, lang, config))
    clocks = clocks_of(store.calendar(ticket.hall_code), store.policy, ticket, store.clock.now())
    fr = clocks.first_response
    due = local_time(fr.due, lang, config) if fr.due is not None else None
    return ResponseDue(due, fr.state == "breached", None)


def _hall_name(store: CentralStore, code: str, lang: str) -> str:
    hall = store.config.hall_named(code)
    if hall is None:
        return code
    return (hall.name_ar or hall.name) if lang == "ar" else hall.name


@router.get("/status/{ticket_id}")
def status_page(ticket_id: str, request: Request) -> Response:
    store = store_of(request)
    lang = language_of(request)
    canonical = parse_ticket_id(ticket_id)
    if canonical is None:
        return not_found(request, lang)
    try:
        ticket = store.ticket(canonical)
    except TicketNotFound:
        return not_found(request, lang)
    if ticket.id != canonical:  # never by ref
        return not_found(request, lang)
    context: dict[str, Any] = {
        "ticket": ticket,
        "hall_name": _hall_name(store, ticket.hall_code, lang),
        "due": response_due(store, ticket, lang),
        "resolved": local_time(ticket.resolved_at, lang, store.config)
        if ticket.resolved_at
        else None,
        "history": public_history(store, ticket.id, lang),
        "zone": zone_name(store.config.timezone, lang),
        "form_url": with_lang("/form", lang, {"hall": ticket.hall_code, "ref": ticket.ref}),
    }
    return render(request, "status.html", lang, **context)
