"""E-mail in: the server reads a support mailbox over IMAP and files each new message as a
ticket with channel e-mail, or as a note on the ticket a reply names (inbound_route.py).

Exactly once, whatever breaks: the mailbox's UIDVALIDITY and the highest UID dealt with live in
the database (store/mailbox.py), and each message is filed together with its ledger row in one
transaction. A poll reads the UIDs above the last one in order, so a connection dropped mid-fetch
or a crash leaves the next poll to start at the first message not yet in the ledger; a new
UIDVALIDITY starts the mailbox over, and messages seen before are recognised by Message-ID.
Marking a message \\Seen afterwards is a courtesy to people reading the mailbox, not the record.

Of several server workers, the one holding the mailbox's lease polls; the others skip. Loop
protection: machine-sent mail (Auto-Submitted, Precedence bulk/junk/list, bounces), mail from
our own address, and a sender over the per-sender rate are refused, with the reason logged and
kept in the ledger. Hostile mail is read as text or refused (inbound_parse.py), never a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import os
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from classroom_support.central.mail.inbound_parse import MailRefused, message_key, read_mail
from classroom_support.central.mail.inbound_route import mail_filing
from classroom_support.central.store.mailbox import MailImport, SenderRate
from classroom_support.config import Config
from classroom_support.tickets import TicketError

log = logging.getLogger("classroom_support.central.mail")

FETCH_BYTES = 32 * 1024 * 1024  # message bytes fetched in one go, at most (one larger mail alone)
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapServer(Protocol):
    """Where the mailbox is (the `[mail] imap` URL, parsed): `security` is "tls" (implicit),
    "starttls" or "none"."""

    host: str
    port: int
    user: str
    password: str
    security: str


@dataclass(frozen=True)
class InboundSettings:
    server: ImapServer
    folder: str = "INBOX"
    interval: float = 60.0  # seconds between polls
    max_attachment_bytes: int = 10 * 1024 * 1024  # larger ones are marked in the note
    max_message_bytes: int = 25 * 1024 * 1024  # larger messages are refused unread
    own_addresses: tuple[str, ...] = ()  # our own From addresses: never filed (mail loops)
    sender_limit: int = 20  # messages per sender in `sender_window` seconds
    sender_window: float = 3600.0
    batch: int = 100  # messages fetched per FETCH
    timeout: float = 30.0

    @property
    def mailbox_key(self) -> str:
        """The mailbox's name in the database: server, user and folder (never the password)."""
        s = self.server
        return f"imap://{s.user}@{s.host}:{s.port}/{self.folder}"

    @property
    def lease_ms(self) -> int:
        """How long a poller keeps the mailbox after its last poll before another may take
        it: a worker that died is replaced within this."""
        return int((2 * self.interval + 60) * 1000)


def inbound_settings(config: Config) -> InboundSettings | None:
    """The channel's settings from `[mail]`, or None when no `imap` mailbox is configured."""
    mail = config.mail
    if mail.imap is None:
        return None
    own = tuple(dict.fromkeys(a for a in (mail.from_address, config.email) if a))
    return InboundSettings(
        server=mail.imap,
        folder=mail.imap_folder,
        interval=mail.imap_interval,
        max_attachment_bytes=mail.max_attachment_bytes,
        own_addresses=own,
        sender_limit=mail.imap_sender_limit,
        sender_window=mail.imap_sender_window,
        timeout=mail.timeout,
    )


@dataclass
class PollReport:
    tickets: list[str] = field(default_factory=list)  # refs of the new tickets
    notes: list[str] = field(default_factory=list)  # refs the replies were noted on
    refused: int = 0
    duplicates: int = 0
    polled: bool = True  # False: another worker holds the mailbox
    error: str = ""  # the mailbox could not be read to the end (retried next poll)


class MailboxPoller:
    """One mailbox, polled by `poll_once` (blocking: run it in a thread)."""

    def __init__(self, store: Any, settings: InboundSettings, holder: str = "") -> None:
        self.store = store
        self.settings = settings
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.key = settings.mailbox_key
        self._people: list[Any] | None = None

    # ------------------------------------------------------------------ the IMAP side

    def _connect(self) -> imaplib.IMAP4:
        s = self.settings.server
        timeout = self.settings.timeout
        if s.security == "tls":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                s.host, s.port, ssl_context=ssl.create_default_context(), timeout=timeout
            )
        else:
            imap = imaplib.IMAP4(s.host, s.port, timeout=timeout)
            if s.security == "starttls":
                imap.starttls(ssl.create_default_context())
        imap.login(s.user, s.password)
        return imap

    def poll_once(self) -> PollReport:
        """Read the new messages and file each once. Never raises for the mailbox's faults (a
        refused login, a dropped connection): they are logged and in the report."""
        report = PollReport()
        if not self.store.claim_mailbox(
            self.key, self.holder, int(time.time() * 1000), self.settings.lease_ms
        ):
            report.polled = False
            return report
        imap: imaplib.IMAP4 | None = None
        self._people = None
        try:
            imap = self._connect()
            self._poll(imap, report)
        except (imaplib.IMAP4.error, OSError) as exc:
            report.error = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.warning("mailbox %s: %s (the next poll goes on from here)", self.key, report.error)
        finally:
            if imap is not None:
                with contextlib.suppress(Exception):
                    imap.logout()
        return report

    def release(self) -> None:
        self.store.release_mailbox(self.key, self.holder)

    def _poll(self, imap: imaplib.IMAP4, report: PollReport) -> None:
        folder = self.settings.folder
        typ, data = imap.select(_quoted(folder))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {folder!r}: {_text(data)}")
        uidvalidity = int(imap.response("UIDVALIDITY")[1][-1] or 0)
        state = self.store.mailbox_state(self.key)
        if state.uidvalidity != uidvalidity:
            if state.uidvalidity:
                log.warning(
                    "mailbox %s: UIDVALIDITY %d -> %d, reading it again from the start",
                    self.key,
                    state.uidvalidity,
                    uidvalidity,
                )
            self.store.start_uidvalidity(self.key, uidvalidity)
            last = 0
        else:
            last = state.last_uid
        typ, data = imap.uid("SEARCH", "UID", f"{last + 1}:*")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID SEARCH failed: {_text(data)}")
        # "n:*" always matches the highest UID, even when it is below n.
        uids = sorted(u for u in (int(x) for x in b" ".join(data).split()) if u > last)
        for start in range(0, len(uids), self.settings.batch):
            chunk = uids[start : start + self.settings.batch]
            self._chunk(imap, uidvalidity, chunk, report)
            # The lease is renewed as a long backlog is worked through.
            self.store.claim_mailbox(
                self.key, self.holder, int(time.time() * 1000), self.settings.lease_ms
            )

    def _chunk(
        self, imap: imaplib.IMAP4, uidvalidity: int, uids: list[int], report: PollReport
    ) -> None:
        wanted = ",".join(str(u) for u in uids)
        typ, data = imap.uid("FETCH", wanted, "(RFC822.SIZE)")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH failed: {_text(data)}")
        sizes = _sizes(data)
        # Bodies are fetched in groups of at most FETCH_BYTES, so a batch of large mails
        # never sits in memory at once; each group is filed before the next is fetched.
        group: list[int] = []
        group_bytes = 0
        for uid in uids:
            if uid not in sizes:
                continue  # expunged meanwhile: nothing to file
            if sizes[uid] > self.settings.max_message_bytes:
                self._file_group(imap, uidvalidity, group, sizes, report)
                group, group_bytes = [], 0
                _count(report, self._file(uidvalidity, uid, None, sizes[uid]))
                continue
            if group and group_bytes + sizes[uid] > FETCH_BYTES:
                self._file_group(imap, uidvalidity, group, sizes, report)
                group, group_bytes = [], 0
            group.append(uid)
            group_bytes += sizes[uid]
        self._file_group(imap, uidvalidity, group, sizes, report)
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.uid("STORE", wanted, "+FLAGS.SILENT", "(\\Seen)")

    def _file_group(
        self,
        imap: imaplib.IMAP4,
        uidvalidity: int,
        uids: list[int],
        sizes: dict[int, int],
        report: PollReport,
    ) -> None:
        if not uids:
            return
        typ, data = imap.uid("FETCH", ",".join(str(u) for u in uids), "(BODY.PEEK[])")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH failed: {_text(data)}")
        bodies = _bodies(data)
        for uid in uids:
            raw = bodies.get(uid)
            if raw is None:
                # Gone between the two fetches, or a server that did not send it: the ledger
                # must not pass it by, so stop here and let the next poll try again.
                raise imaplib.IMAP4.error(f"UID {uid}: no message body in the answer")
            _count(report, self._file(uidvalidity, uid, raw, sizes[uid]))

    # ------------------------------------------------------------------ one message

    def _file(self, uidvalidity: int, uid: int, raw: bytes | None, size: int) -> MailImport:
        store = self.store
        if raw is None:
            key = hashlib.sha256(f"unread:{self.key}:{uidvalidity}:{uid}".encode()).hexdigest()
            return self._refuse(uidvalidity, uid, key, "", f"too large ({size} bytes)")
        key = message_key(raw)
        try:
            mail = read_mail(raw)
        except MailRefused as exc:
            return self._refuse(uidvalidity, uid, key, "", exc.reason)
        sender = mail.sender
        if mail.automatic:
            return self._refuse(uidvalidity, uid, key, sender, f"automatic: {mail.automatic}")
        if sender.casefold() in {a.casefold() for a in self.settings.own_addresses}:
            return self._refuse(uidvalidity, uid, key, sender, "from our own address")
        if self._people is None:  # once per poll: the directory rarely changes
            self._people = store.people()
        filing = mail_filing(
            mail,
            store.config,
            self._people,
            max_attachment_bytes=self.settings.max_attachment_bytes,
        )
        rate = SenderRate(self.settings.sender_limit, self.settings.sender_window)
        try:
            done = store.import_mail(
                self.key, uidvalidity, uid, key, sender.casefold(), filing, rate=rate
            )
        except TicketError as exc:  # the draft broke a rule of the ticket form
            return self._refuse(uidvalidity, uid, key, sender, f"not a valid ticket: {exc}")
        if done.outcome == "refused" and done.new:
            log.warning(
                "mailbox %s: UID %d from %r refused: %s", self.key, uid, sender, done.reason
            )
            return done
        log.info(
            "mailbox %s: UID %d from %s -> %s %s", self.key, uid, sender, done.outcome, done.ref
        )
        return done

    def _refuse(self, uidvalidity: int, uid: int, key: str, sender: str, reason: str) -> MailImport:
        done = self.store.import_mail(
            self.key, uidvalidity, uid, key, sender.casefold(), None, reason
        )
        if done.new:
            log.warning("mailbox %s: UID %d from %r refused: %s", self.key, uid, sender, reason)
        return done


def _count(report: PollReport, done: MailImport) -> None:
    if not done.new:
        return
    if done.outcome == "ticket":
        report.tickets.append(done.ref)
    elif done.outcome == "note":
        report.notes.append(done.ref)
    elif done.outcome == "duplicate":
        report.duplicates += 1
    else:
        report.refused += 1


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: Any) -> str:
    return " ".join(x.decode(errors="replace") if isinstance(x, bytes) else str(x) for x in data)[
        :200
    ]


def _sizes(data: list[Any]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid, size = _UID.search(line), _SIZE.search(line)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _bodies(data: list[Any]) -> dict[int, bytes]:
    """UID -> message bytes from a `UID FETCH (BODY.PEEK[])` answer (the UID may come before
    the literal or after it)."""
    bodies: dict[int, bytes] = {}
    pending: bytes | None = None
    for item in data:
        if isinstance(item, tuple):
            head, literal = item[0], item[1]
            found = _UID.search(head)
            if found:
                bodies[int(found.group(1))] = literal
                pending = None
            else:
                pending = literal
        elif isinstance(item, bytes) and pending is not None:
            found = _UID.search(item)
            if found:
                bodies[int(found.group(1))] = pending
            pending = None
    return bodies
