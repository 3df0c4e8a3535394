"""Helpers for the e-mail channel's tests: messages as bytes, and a poller on a test mailbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from dovecot_support import Mailbox
from sqlalchemy import select

from classroom_support.central import models as m
from classroom_support.central.mail.inbound import InboundSettings, MailboxPoller
from classroom_support.central.store import CentralStore

OWN = "info@khit.sa"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str
    security: str = "none"


def mail(
    subject: str = "Projector has no signal",
    body: str = "The projector in the hall shows No signal.",
    *,
    sender: str = "trainee@example.org",
    name: str = "Huda Trainee",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    charset: str = "utf-8",
    attachments: list[tuple[str, bytes]] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr((name, sender)) if name else sender
    msg["To"] = OWN
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{abs(hash((subject, body, sender)))}@example.org>"
    for key, value in (headers or {}).items():
        msg[key] = value
    if html is not None and not body:
        msg.set_content(html, subtype="html", charset=charset)
    else:
        msg.set_content(body, charset=charset)
    for filename, data in attachments or []:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return msg.as_bytes()


def settings_for(box: Mailbox, **overrides: Any) -> InboundSettings:
    values: dict[str, Any] = {
        "server": Server(box.host, box.port, box.user, box.password),
        "folder": box.folder,
        "own_addresses": (OWN,),
        "timeout": 10.0,
    }
    values.update(overrides)
    return InboundSettings(**values)


def poller_for(store: CentralStore, box: Mailbox, **overrides: Any) -> MailboxPoller:
    return MailboxPoller(store, settings_for(box, **overrides), holder="test")


def tickets(store: CentralStore) -> dict[str, Any]:
    """ref -> the central projection row."""
    with store.read() as conn:
        return {r.ref: r for r in conn.execute(select(m.tickets))}


def notes(store: CentralStore, ref: str) -> list[str]:
    with store.read() as conn:
        ticket_id = conn.execute(select(m.tickets.c.id).where(m.tickets.c.ref == ref)).scalar()
        rows = conn.execute(
            select(m.events.c.payload)
            .where(m.events.c.ticket_id == ticket_id, m.events.c.kind == "note")
            .order_by(m.events.c.seq)
        )
        return [json.loads(r[0])["text"] for r in rows]
