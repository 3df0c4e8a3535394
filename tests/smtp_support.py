"""A real SMTP server in the test process (aiosmtpd on 127.0.0.1, a free port) that records what
it receives and can be told to fail: answer 4xx or 5xx, drop the connection, take a message but
hold back the answer until released, or be down (stopped, the port refused) and come back on
the same port."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from central_process import free_port

OK, TEMPFAIL, PERMFAIL, DROP, HOLD = "ok", "4xx", "5xx", "drop", "hold"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str:
        part = self.message.get_body(("html",))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, smtp: SmtpServer) -> None:
        self.smtp = smtp

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        mode = self.smtp.mode
        if mode == TEMPFAIL:
            return "451 4.3.0 Mailbox busy, try again later"
        if mode == PERMFAIL:
            return "550 5.1.1 No such user here"
        if mode == DROP:
            server.transport.close()
            return "421 4.4.2 Connection dropped"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.smtp.lock:
            self.smtp.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), msg)  # type: ignore[arg-type]
            )
        if self.smtp.mode == HOLD:  # taken, but the answer waits: a client dying now never
            self.smtp.holding.set()  # learns it was delivered
            await asyncio.get_running_loop().run_in_executor(None, self.smtp.release.wait)
        return "250 Message accepted"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mode = OK
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.holding = threading.Event()  # a message is being held (HOLD)
        self.release = threading.Event()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?plain"

    def start(self) -> SmtpServer:
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.messages() if address in r.recipients]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
