"""Who is told what (docs/mail.md has the table). Pure: an event and the ticket after it, the
staff directory and the configuration in; `Notice`s out, one per recipient.

A notice's `cause` is stable (the event's id, or a key such as `rca/<ticket>` for what time
causes), so the outbox's unique (cause, recipient) makes every cause one mail per person,
whichever path (a laptop's push, the server's SLA run, the web form) recorded the event first.

Breach and escalation: the first-response breach is the instant the ticket climbs to the
ladder's second rung (the deadlines coincide), so it is told once, as the `breach` mail of the
`escalated` event to level 1; the `sla_breached` event itself mails only when nothing climbs
with it (the resolution clock, or a one-rung ladder).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from classroom_support.config import Config, EscalationStep
from classroom_support.config_mail import RUNG
from classroom_support.models import Ticket
from classroom_support.people import EMAIL_RE, TECHNICIAN, Person, responsible

STAFF = "staff"
TRAINEE = "trainee"


@dataclass(frozen=True)
class Recipient:
    address: str
    lang: str = ""  # "" = Arabic first, English below
    name: str = ""
    person_id: str = ""


@dataclass(frozen=True)
class Notice:
    cause: str
    kind: str  # the template: warning, breach, escalated, routed_l2, rca_missing, trainee_*...
    recipient: Recipient
    audience: str  # STAFF or TRAINEE: what the mail may show
    ticket_id: str = ""
    step: str = ""  # the ladder step concerned (its id), "" when none
    due: str = ""  # ISO instant of the deadline concerned, "" when none
    clock: str = ""  # the SLA clock concerned (first_response, resolution), "" when none


def trainee_address(ticket: Ticket) -> str:
    """The ticket's contact when it is one e-mail address, else ""."""
    contact = ticket.trainee_contact.strip()
    return contact if len(contact) <= 254 and EMAIL_RE.match(contact) else ""


def resolve(
    targets: Sequence[str],
    step: EscalationStep | None,
    hall: str,
    people: Iterable[Person],
    config: Config,
) -> list[Recipient]:
    """The addresses a notify list names, each once, in order; people without e-mail skipped."""
    people = list(people)
    steps = {s.id: s for s in config.escalation}
    found: list[Recipient] = []
    for target in targets:
        if target == RUNG:
            chosen = responsible(step, hall, people, config) if step is not None else []
        elif target in steps:
            chosen = responsible(steps[target], hall, people, config)
        elif "@" in target:
            found.append(Recipient(target))
            continue
        else:
            chosen = [
                p for p in people if p.role == target and (p.role != TECHNICIAN or hall in p.halls)
            ]
        found.extend(Recipient(p.email, p.lang, p.name, p.id) for p in chosen if p.email)
    seen: set[str] = set()
    out = []
    for r in found:
        if r.address.casefold() not in seen:
            seen.add(r.address.casefold())
            out.append(r)
    return out


def notices_for_event(
    *,
    event_id: str,
    kind: str,
    payload: str | dict[str, Any],
    ticket: Ticket,
    people: Sequence[Person],
    config: Config,
) -> list[Notice]:
    """What one stored event causes (a trainee's first-response mail is keyed by the ticket, so
    only the first `responded` sends it)."""
    data = payload if isinstance(payload, dict) else _json(payload)
    mail = config.mail
    ladder = config.escalation
    out: list[Notice] = []

    def staff(cause_kind: str, targets: Sequence[str], step: EscalationStep | None) -> None:
        for r in resolve(targets, step, ticket.hall_code, people, config):
            out.append(
                Notice(
                    cause=event_id,
                    kind=cause_kind,
                    recipient=r,
                    audience=STAFF,
                    ticket_id=ticket.id,
                    step=step.id if step else "",
                    due=str(data.get("due") or ""),
                    clock=str(data.get("clock") or ""),
                )
            )

    level = min(max(ticket.escalation_level, 0), len(ladder) - 1)
    if kind == "sla_warning":
        staff("warning", mail.notify["warning"], ladder[level])
    elif kind == "sla_breached":
        climbs = data.get("clock") == "first_response" and len(ladder) > 1
        if not climbs:
            staff("breach", mail.notify["breach"], ladder[level])
    elif kind == "escalated":
        to = data.get("level")
        if isinstance(to, int) and 0 < to < len(ladder):
            staff("breach" if to == 1 else "escalated", mail.notify["breach"], ladder[to])
    elif kind == "route":
        to = data.get("to")
        if isinstance(to, dict) and to.get("level2") is True:
            staff("routed_l2", mail.notify["routed_l2"], None)
    address = trainee_address(ticket)
    if address:
        trainee_kind = {
            "created": "received",
            "paused": "waiting",
            "resolved": "resolved",
        }.get(kind)
        cause = event_id
        if kind == "responded":
            trainee_kind, cause = "first_response", f"first_response/{ticket.id}"
        if trainee_kind in mail.trainee:
            out.append(
                Notice(
                    cause=cause,
                    kind=f"trainee_{trainee_kind}",
                    recipient=Recipient(address),
                    audience=TRAINEE,
                    ticket_id=ticket.id,
                )
            )
    return out


def rca_missing_notices(
    ticket: Ticket, people: Sequence[Person], config: Config, breached_at: str
) -> list[Notice]:
    """The managers (by default) told that a breached ticket still has no root-cause analysis
    `rca_after_hours` working hours after its breach; once per ticket."""
    return [
        Notice(
            cause=f"rca/{ticket.id}",
            kind="rca_missing",
            recipient=r,
            audience=STAFF,
            ticket_id=ticket.id,
            due=breached_at,
        )
        for r in resolve(config.mail.notify["rca_missing"], None, ticket.hall_code, people, config)
    ]


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
