"""Where an incoming mail goes and what it files (no IMAP here, no database writes).

- A `[REF]` tag in the subject naming a ticket that exists: a note on that ticket (a reply).
- Else a new ticket with channel e-mail, the sender as its contact, at the hall of a `[A101]`
  tag in the subject (a configured hall), or else the hall of the staff directory's person with
  that address when they have exactly one; otherwise at the default hall, left with the contact
  centre to route (`with_desk = "contact-centre"`, routing.py).
- The body is the ticket's first note, followed by the attachments by name and size (their
  content is never kept; those over the limit are marked so).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from classroom_support.central.mail.inbound_parse import IncomingMail, one_line
from classroom_support.central.store.mailbox import MailFiling
from classroom_support.central.store.push import REF_RE
from classroom_support.config import Config
from classroom_support.people import Person
from classroom_support.qr import cut, tr_in
from classroom_support.tickets import MAX_NOTE, MAX_SHORT, MAX_TITLE, TicketDraft

ACTOR = "e-mail"
_TAG = re.compile(r"\[([^\[\]\s]{1,40})\]")
TICKET_FIRST_LINE = 200  # the title taken from the body when there is no subject


def subject_tags(subject: str) -> list[str]:
    return _TAG.findall(subject)


def reply_refs(subject: str) -> tuple[str, ...]:
    """The subject's `[REF]` tags that could name a ticket (the first existing one wins)."""
    return tuple(tag for tag in subject_tags(subject) if REF_RE.match(tag))


def mail_hall(mail: IncomingMail, config: Config, people: Iterable[Person]) -> str:
    """The hall the mail names or its sender belongs to, "" when neither says."""
    for tag in subject_tags(mail.subject):
        hall = config.hall_named(tag) or config.hall_named(tag.upper())
        if hall is not None:
            return hall.code
    sender = mail.sender.casefold()
    halls = {
        h for p in people if p.email and p.email.casefold() == sender for h in p.halls
    }  # a person with one hall, or several people who agree
    if len(halls) == 1:
        hall_code = halls.pop()
        if config.hall_named(hall_code) is not None:
            return hall_code
    return ""


def _size_text(language: str, size: int) -> str:
    if size < 1024:
        return tr_in(language, "mail_in.bytes", n=size)
    if size < 1024 * 1024:
        return tr_in(language, "mail_in.kb", n=round(size / 1024))
    return tr_in(language, "mail_in.mb", n=f"{size / (1024 * 1024):.1f}")


def note_text(mail: IncomingMail, language: str, max_attachment_bytes: int, reply: bool) -> str:
    """The body as a note: who wrote (on a reply), the text, then the attachments."""
    head = tr_in(language, "mail_in.from", sender=mail.sender) + "\n\n" if reply else ""
    tail = ""
    if mail.attachments:
        lines = [tr_in(language, "mail_in.attachments")]
        for item in mail.attachments[:50]:
            size = _size_text(language, item.size)
            over = item.size > max_attachment_bytes
            key = "mail_in.attachment_over" if over else "mail_in.attachment"
            lines.append(tr_in(language, key, name=item.name, size=size))
        if len(mail.attachments) > 50:
            lines.append(tr_in(language, "mail_in.more", n=len(mail.attachments) - 50))
        tail = "\n\n" + "\n".join(lines)
    room = MAX_NOTE - len(head) - len(tail)
    body = mail.text or tr_in(language, "mail_in.empty")
    return head + cut(body, max(room, 1)) + tail


def ticket_title(mail: IncomingMail, tags: Iterable[str]) -> str:
    """The subject without its routing tag; else the body's first line; else the sender."""
    title = mail.subject
    for tag in tags:
        title = title.replace(f"[{tag}]", " ")
    title = one_line(title, MAX_TITLE)
    if not title:
        first = next((line for line in mail.text.split("\n") if line.strip()), "")
        title = one_line(first, TICKET_FIRST_LINE)
    return title or mail.sender


def mail_filing(
    mail: IncomingMail, config: Config, people: Iterable[Person], *, max_attachment_bytes: int
) -> MailFiling:
    """What the message files: a note on the ticket its subject names, or a new ticket."""
    language = config.language
    hall = mail_hall(mail, config, people)
    draft = TicketDraft(
        title=ticket_title(mail, [hall] if hall else []),
        trainee_name=cut(mail.sender_name, MAX_SHORT),
        trainee_contact=mail.sender,
        channel="email",
        hall_code=hall or config.hall,
    )
    return MailFiling(
        draft=draft,
        note=note_text(mail, language, max_attachment_bytes, reply=False),
        actor=ACTOR,
        with_desk="hall" if hall else "contact-centre",
        reply_refs=reply_refs(mail.subject),
        reply_note=note_text(mail, language, max_attachment_bytes, reply=True),
    )
