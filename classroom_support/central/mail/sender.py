"""The SMTP sender `central serve` runs in every worker: claim due outbox rows, deliver them over
one SMTP conversation per batch, record the outcome.

Answers: 2xx -> sent. 4xx, a refused or dropped connection, a timeout -> tried again later with
backoff (30 s doubling to an hour). 5xx -> dead, with the server's reason (`central mail-queue
--dead`; `central mail-retry ID` sends it again). A failed login is a configuration problem, not
the mail's: retried like a 4xx, so fixing the password delivers the queue.

Each mail carries the Message-ID stored with its row (stable per cause and recipient) and
`Auto-Submitted: auto-generated`, so mailboxes and our own mail intake know it is automatic.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr
from typing import Any

from classroom_support.central.mail.outbox import DEAD, OutboxRow
from classroom_support.config_mail import MailServer

log = logging.getLogger("classroom_support.central.mail")
BATCH = 50
TRANSIENT = (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ssl.SSLError)


class SmtpFailure(Exception):
    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def build_message(row: OutboxRow, sender: str, sender_name: str, date: Any) -> EmailMessage:
    """The row as a MIME message: plain text and HTML alternatives, UTF-8. The `SMTP` policy
    refuses a header holding a line break, whatever got past the renderer."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    msg["Message-ID"] = row.message_id
    msg["Date"] = format_datetime(date)
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = row.lang or "ar, en"
    msg.set_content(row.body_text)
    msg.add_alternative(row.body_html, subtype="html")
    return msg


def connect(server: MailServer, timeout: float) -> smtplib.SMTP:
    """An open, greeted (and, when asked, encrypted and logged-in) SMTP conversation."""
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if server.security == "tls":
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
            if server.security == "starttls":
                smtp.starttls(context=context)
        if server.user:
            smtp.login(server.user, server.password)
        return smtp
    except smtplib.SMTPAuthenticationError as exc:
        raise SmtpFailure(f"login refused: {_reason(exc)}", permanent=False) from None
    except smtplib.SMTPResponseException as exc:
        raise SmtpFailure(_reason(exc), permanent=False) from None
    except (*TRANSIENT, smtplib.SMTPException) as exc:
        raise SmtpFailure(f"cannot reach {server.display}: {exc}", permanent=False) from None


def _reason(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
    return f"{exc.smtp_code} {' '.join(text.split())}"[:900]


def send_one(smtp: smtplib.SMTP, msg: EmailMessage, sender: str, recipient: str) -> None:
    """Deliver one message; SmtpFailure says whether trying again can help."""
    try:
        refused = smtp.send_message(msg, from_addr=sender, to_addrs=[recipient])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        reason = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
        raise SmtpFailure(reason[:900], permanent=500 <= code < 600) from None
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused...
        raise SmtpFailure(_reason(exc), permanent=500 <= exc.smtp_code < 600) from None
    if refused:  # pragma: no cover - one recipient: refusal raises above
        raise SmtpFailure(str(refused)[:900], permanent=False)


class MailSender:
    """Delivers the store's outbox. `step()` does one batch; `run(stop)` loops until `stop`."""

    def __init__(
        self,
        store: Any,
        interval: float = 5.0,
        batch: int = BATCH,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.monotonic = monotonic  # elapsed time of a batch (injected in tests)
        self.interval = interval
        self.batch = batch
        self.worker = worker_name()
        mail = store.config.mail
        self.server: MailServer = mail.smtp
        self.timeout = mail.timeout
        # A claim outlives the longest batch it lets start (see `step`), so no other worker
        # takes a row this one may still send; a dead worker's rows are free after it.
        self.lease = timedelta(seconds=mail.timeout * 6 + 5.0)
        self.sender = store.mail_from()
        self.sender_name = mail.from_name

    def step(self) -> int:
        """Claim due rows and deliver them. Returns how many were sent."""
        rows = self.store.mail_claim(self.worker, self.lease, self.batch)
        if not rows:
            return 0
        claimed = self.monotonic()
        # No send starts after a third of the lease: one send takes at most a few timeouts
        # (MAIL, RCPT, DATA), so it ends before the claim expires.
        cutoff = self.lease.total_seconds() / 3
        sent = 0
        smtp: smtplib.SMTP | None = None
        try:
            for i, row in enumerate(rows):
                if i and self.monotonic() - claimed > cutoff:
                    self.store.mail_release([r.id for r in rows[i:]], self.worker)
                    break
                try:
                    if smtp is None:
                        smtp = connect(self.server, self.timeout)
                    msg = build_message(row, self.sender, self.sender_name, self.store.clock.now())
                    send_one(smtp, msg, self.sender, row.recipient)
                except SmtpFailure as exc:
                    self._failed(row, str(exc), exc.permanent)
                    if not exc.permanent:  # the server is unwell: the rest waits too
                        for rest in rows[i + 1 :]:
                            self._failed(rest, str(exc), False)
                        break
                    continue
                except (*TRANSIENT, smtplib.SMTPException) as exc:
                    self._failed(row, f"connection lost: {exc}"[:900], False)
                    smtp = _close(smtp)
                    continue
                except ValueError as exc:  # a header the SMTP policy refuses: never sendable
                    self._failed(row, f"cannot be written as mail: {exc}"[:900], True)
                    continue
                if self.store.mail_sent(row.id, self.worker):
                    sent += 1
        finally:
            _close(smtp)
        return sent

    def _failed(self, row: OutboxRow, error: str, permanent: bool) -> None:
        status = self.store.mail_failed(row.id, self.worker, error, permanent)
        level = logging.WARNING if status == DEAD else logging.INFO
        log.log(level, "mail %d to %s: %s (%s)", row.id, row.recipient, error, status or "lost")

    def run(self, stop: threading.Event, queue_jobs: Callable[[], None] | None = None) -> None:
        """Until `stop`: queue the digest when due, deliver while there is work, then wait."""
        while not stop.is_set():
            try:
                if queue_jobs is not None:
                    queue_jobs()
                while self.step() and not stop.is_set():
                    pass
            except Exception:  # keep delivering; the next round retries
                log.exception("mail sender round failed")
            stop.wait(self.interval)


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return None
    try:
        smtp.quit()
    except (*TRANSIENT, smtplib.SMTPException):
        smtp.close()
    return None
