"""The e-mail channel's shared state: which polled mailbox is at which UID, who polls it now
(a lease, so one of several server workers does), and the ledger of messages dealt with.

A message becomes its ticket (or its note on an existing ticket) and its ledger row in ONE
transaction, which also moves the mailbox's last UID: after a crash, a dropped connection or
a second worker racing for the same message, it is in the database with its ticket or not at
all, never twice. What the message says and where it goes is decided before (central/mail/).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from classroom_support.central import models as m
from classroom_support.central.store.edits import EditsMixin
from classroom_support.tickets import MAX_NOTE, TicketDraft, validate_draft

MAX_MAILBOX_KEY = 300
MAX_REASON = 200
MAX_SENDER = 200
OUTCOMES = ("ticket", "note", "refused", "duplicate")


@dataclass(frozen=True)
class MailFiling:
    """What one message files: `reply_note` on the first ticket of `reply_refs` that exists,
    else a new ticket from `draft` with `note` as its first note."""

    draft: TicketDraft
    note: str
    actor: str
    with_desk: str = "hall"
    reply_refs: tuple[str, ...] = ()
    reply_note: str = ""


@dataclass(frozen=True)
class SenderRate:
    """At most `limit` filed messages per sender in `window_s` seconds (loop protection)."""

    limit: int
    window_s: float


@dataclass(frozen=True)
class MailImport:
    """A ledger row: what became of the message at (mailbox, uidvalidity, uid)."""

    outcome: str
    ticket_id: str = ""
    ref: str = ""
    reason: str = ""
    new: bool = True  # False: an earlier poll had dealt with it already


@dataclass(frozen=True)
class MailboxState:
    uidvalidity: int
    last_uid: int


class MailboxMixin(EditsMixin):
    # ------------------------------------------------------------------ lease and state

    def claim_mailbox(self, mailbox: str, holder: str, now_ms: int, lease_ms: int) -> bool:
        """Take (or renew) the right to poll `mailbox` until `now_ms + lease_ms`; False when
        another holder's lease has not run out. One short transaction on the mailbox row."""
        key = mailbox[:MAX_MAILBOX_KEY]
        with self.one_writer(), self.engine.begin() as conn:
            self._ensure_mailbox(conn, key)
            result = conn.execute(
                update(m.mailboxes)
                .where(
                    m.mailboxes.c.mailbox == key,
                    (m.mailboxes.c.holder == holder) | (m.mailboxes.c.lease_until_ms < now_ms),
                )
                .values(holder=holder[:100], lease_until_ms=now_ms + lease_ms)
            )
        return bool(result.rowcount)

    def release_mailbox(self, mailbox: str, holder: str) -> None:
        with self.one_writer(), self.engine.begin() as conn:
            conn.execute(
                update(m.mailboxes)
                .where(
                    m.mailboxes.c.mailbox == mailbox[:MAX_MAILBOX_KEY],
                    m.mailboxes.c.holder == holder,
                )
                .values(holder="", lease_until_ms=0)
            )

    def mailbox_state(self, mailbox: str) -> MailboxState:
        with self.read() as conn:
            row = conn.execute(
                select(m.mailboxes.c.uidvalidity, m.mailboxes.c.last_uid).where(
                    m.mailboxes.c.mailbox == mailbox[:MAX_MAILBOX_KEY]
                )
            ).first()
        return MailboxState(int(row[0]), int(row[1])) if row else MailboxState(0, 0)

    def start_uidvalidity(self, mailbox: str, uidvalidity: int) -> None:
        """The mailbox's UIDs were renumbered (a new UIDVALIDITY): read it again from the
        first UID. Messages seen before are recognised by their key, not imported again."""
        key = mailbox[:MAX_MAILBOX_KEY]
        with self.one_writer(), self.engine.begin() as conn:
            self._ensure_mailbox(conn, key)
            conn.execute(
                update(m.mailboxes)
                .where(m.mailboxes.c.mailbox == key)
                .values(uidvalidity=uidvalidity, last_uid=0)
            )

    def _ensure_mailbox(self, conn: Connection, key: str) -> None:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(m.mailboxes)
            .values(mailbox=key)
            .on_conflict_do_nothing(index_elements=[m.mailboxes.c.mailbox])
        )

    # ------------------------------------------------------------------ the ledger

    def import_mail(
        self,
        mailbox: str,
        uidvalidity: int,
        uid: int,
        message_key: str,
        sender: str,
        filing: MailFiling | None,
        reason: str = "",
        rate: SenderRate | None = None,
    ) -> MailImport:
        """Deal with one message once: file it (`filing`), or record it refused (`filing`
        None, with `reason`). A message already in the ledger at this UID, or under its key
        at any UID, files nothing again; nor does a sender who had `rate.limit` messages
        filed in the window (counted in the ledger, so every worker counts the same)."""
        key = mailbox[:MAX_MAILBOX_KEY]
        draft = validate_draft(filing.draft, self.config) if filing is not None else None
        with self.write() as conn:
            done = conn.execute(
                select(m.mail_imports).where(
                    m.mail_imports.c.mailbox == key,
                    m.mail_imports.c.uidvalidity == uidvalidity,
                    m.mail_imports.c.uid == uid,
                )
            ).first()
            if done is not None:
                ref = self._ref(conn, done.ticket_id)
                return MailImport(done.outcome, done.ticket_id, ref, done.reason, new=False)
            outcome, ticket_id, ref = "refused", "", ""
            earlier = conn.execute(
                select(m.mail_imports.c.ticket_id)
                .where(m.mail_imports.c.message_key == message_key)
                .limit(1)
            ).first()
            if earlier is not None:
                outcome, ticket_id, reason = "duplicate", str(earlier[0]), "seen before"
                ref = self._ref(conn, ticket_id)
            elif filing is not None and draft is not None:
                if rate is not None and self._over_rate(conn, sender[:MAX_SENDER], rate):
                    reason = "sender over the rate limit"
                else:
                    outcome, ticket_id, ref = self._file_mail(conn, filing, draft)
            conn.execute(
                m.mail_imports.insert().values(
                    mailbox=key,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    message_key=message_key,
                    outcome=outcome,
                    ticket_id=ticket_id,
                    sender=sender[:MAX_SENDER],
                    reason=reason[:MAX_REASON],
                    imported_at=self.clock.now(),
                )
            )
            conn.execute(
                update(m.mailboxes)
                .where(
                    m.mailboxes.c.mailbox == key,
                    m.mailboxes.c.uidvalidity == uidvalidity,
                    m.mailboxes.c.last_uid < uid,
                )
                .values(last_uid=uid)
            )
        return MailImport(outcome, ticket_id, ref, reason)

    def _file_mail(
        self, conn: Connection, filing: MailFiling, draft: TicketDraft
    ) -> tuple[str, str, str]:
        for ref in filing.reply_refs:
            if self._ref(conn, ref, by="ref"):
                text = filing.reply_note[:MAX_NOTE]
                ticket = self._act(conn, ref, "note", {"text": text}, filing.actor)
                return "note", ticket.id, ticket.ref
        note = filing.note[:MAX_NOTE]
        ticket = self._file_ticket(conn, draft, filing.actor, filing.with_desk)
        if note.strip():
            self._act(conn, ticket.id, "note", {"text": note}, filing.actor)
        return "ticket", ticket.id, ticket.ref

    def _over_rate(self, conn: Connection, sender: str, rate: SenderRate) -> bool:
        since = self.clock.now() - timedelta(seconds=rate.window_s)
        filed = conn.execute(
            select(func.count())
            .select_from(m.mail_imports)
            .where(
                m.mail_imports.c.sender == sender,
                m.mail_imports.c.imported_at >= since,
                m.mail_imports.c.outcome.in_(("ticket", "note")),
            )
        ).scalar_one()
        return int(filed) >= rate.limit

    def _ref(self, conn: Connection, value: str, by: str = "id") -> str:
        """The ref of the ticket with this id (or ref), "" if there is none."""
        if not value:
            return ""
        column = m.tickets.c.id if by == "id" else m.tickets.c.ref
        found = conn.execute(select(m.tickets.c.ref).where(column == value)).scalar()
        return str(found) if found else ""

    def mail_imports(self, mailbox: str | None = None) -> list[dict[str, Any]]:
        """The ledger, oldest first (tests, `central` diagnostics)."""
        query = select(m.mail_imports).order_by(
            m.mail_imports.c.imported_at, m.mail_imports.c.uidvalidity, m.mail_imports.c.uid
        )
        if mailbox is not None:
            query = query.where(m.mail_imports.c.mailbox == mailbox[:MAX_MAILBOX_KEY])
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def mail_import_count(self) -> int:
        with self.read() as conn:
            return int(conn.execute(select(func.count()).select_from(m.mail_imports)).scalar_one())
