"""A real SMTP server in the test process (aiosmtpd on 127.0.0.1, a free port) that records what
it receives and can be told to fail: answer 4xx or 5xx, drop the connection, take a message but
hold back the answer until released, or be down (stopped, the port refused) and come back on
the same port."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
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
    """`tls`: "" (plain), "starttls" (offered, required) or "implicit" (smtps); `login`:
    (user, password) the server requires, over TLS."""

    def __init__(
        self,
        tls: str = "",
        context: ssl.SSLContext | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.tls = tls
        self.context = context
        self.login = login
        self.port = free_port()
        self.mode = OK
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.holding = threading.Event()  # a message is being held (HOLD)
        self.release = threading.Event()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        if self.tls == "implicit":
            return f"smtps://127.0.0.1:{self.port}"
        return f"smtp://127.0.0.1:{self.port}?{'starttls' if self.tls else 'plain'}"

    def start(self) -> SmtpServer:
        options: dict[str, Any] = {}
        if self.tls == "implicit":
            options["ssl_context"] = self.context
        elif self.tls == "starttls":
            options.update(tls_context=self.context, require_starttls=True)
        if self.login is not None:
            options.update(auth_required=True, authenticator=self._authenticate)
            if self.tls == "implicit":  # aiosmtpd does not count smtps as TLS for AUTH
                options["auth_require_tls"] = False
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **options
        )
        self.controller.start()
        return self

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

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


def self_signed(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 made with Debian's openssl: (the file a client trusts via
    SSL_CERT_FILE, the server's context)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    argv = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert)]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context
