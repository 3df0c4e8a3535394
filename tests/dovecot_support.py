"""A real IMAP server for the e-mail tests: Debian's Dovecot (`dovecot-imapd`) as a child process.

Loaded as a pytest plugin from tests/conftest.py. The first test that asks for a mailbox starts
one Dovecot per session: a generated dovecot.conf in a temporary directory (its own base_dir,
log file, maildirs and passwd-file; no system users, no TLS), listening on 127.0.0.1 on a free
port with plain-text login allowed there. Each test gets its own user, so its own mailbox.
Mail is put into a mailbox with IMAP APPEND (no delivery agent). The server is stopped at the
end of the session (SIGTERM, then SIGKILL of its process group, bounded in time), and tests
that restart it mid-test (a dropped connection) use `restart()`.

Running as root (CI), Dovecot's own service users (`dovecot`, `dovenull`, from the package) run
its processes and own the maildirs; as anyone else, that user runs everything.
"""

from __future__ import annotations

import atexit
import contextlib
import imaplib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
PASSWORD = "secret-for-tests"
USERS = 2000  # mailboxes one session can hand out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _users() -> tuple[str, str, str]:
    """(internal user, login user, mail user) Dovecot runs as."""
    if os.geteuid() == 0:
        return "dovecot", "dovenull", "dovecot"
    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, me, me


CONFIG = """\
base_dir = {root}/run
instance_name = cs-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
mail_uid = {mail_user}
mail_gid = {mail_group}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%u
}}
"""


@dataclass(frozen=True)
class Mailbox:
    """One user's mailbox on the test Dovecot."""

    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"

    @property
    def url(self) -> str:
        """The `[mail] imap` form of this mailbox (plain IMAP on the loopback)."""
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/{self.folder}"

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=STOP_TIMEOUT_S)
        imap.login(self.user, self.password)
        return imap

    def append(self, *messages: bytes, folder: str | None = None) -> list[int]:
        """Put `messages` into the folder (created if missing); their UIDs, in order."""
        uids: list[int] = []
        imap = self.connect()
        try:
            name = folder or self.folder
            imap.create(name)  # NO when it exists: fine
            for raw in messages:
                typ, data = imap.append(name, None, None, raw)
                assert typ == "OK", data
                code = imap.response("APPENDUID")[1]
                if code and code[-1]:
                    uids.append(int(code[-1].split()[-1]))
        finally:
            with contextlib.suppress(Exception):
                imap.logout()
        return uids

    def flags(self, folder: str | None = None) -> dict[int, str]:
        """UID -> the message's flags, as Dovecot reports them."""
        imap = self.connect()
        try:
            imap.select(folder or self.folder, readonly=True)
            _typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            found: dict[int, str] = {}
            for item in data:
                if isinstance(item, bytes) and b"UID" in item:
                    text = item.decode()
                    uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                    found[uid] = text.split("FLAGS (", 1)[1].split(")", 1)[0]
            return found
        finally:
            with contextlib.suppress(Exception):
                imap.logout()


class DovecotServer:
    """One throw-away Dovecot: generated config, started with `dovecot -F`, stopped by pid."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="cs-dovecot-", dir="/tmp"))
        self.root.chmod(0o755)  # Dovecot's own users must reach the run and mail dirs
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._users = itertools.count(1)
        self._lock = threading.Lock()
        internal, login, mail_user = _users()
        (self.root / "mail").mkdir()
        shutil.chown(self.root / "mail", mail_user, mail_user)
        # Every user up front: Dovecot notices a changed passwd-file by its mtime, which a
        # user added within the same second as the last read would not change.
        (self.root / "passwd").write_text(
            "".join(f"support{i}:{{PLAIN}}{PASSWORD}\n" for i in range(1, USERS + 1))
        )
        (self.root / "dovecot.conf").write_text(
            CONFIG.format(
                root=self.root,
                port=self.port,
                internal=internal,
                internal_group=internal,
                login=login,
                mail_user=mail_user,
                mail_group=mail_user,
            )
        )

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdin=subprocess.DEVNULL,
            stdout=(self.root / "stdout.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing of it outlives stop()
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited ({self.proc.returncode}): {self.tail()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as probe,
            ):
                if probe.recv(64).startswith(b"* OK"):
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dovecot did not answer in time: {self.tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT_S)
        # Any imap or auth process left behind; wait (bounded) until the group is gone.
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.02)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def tail(self, chars: int = 3000) -> str:
        text = ""
        for name in ("stdout.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")[-chars:]
        return text

    def add_user(self) -> Mailbox:
        """A user not handed out before, so a new, empty mailbox."""
        with self._lock:
            number = next(self._users)
        if number > USERS:
            raise RuntimeError(f"more than {USERS} mailboxes in one session: raise USERS")
        return Mailbox("127.0.0.1", self.port, f"support{number}", PASSWORD)


_servers: list[DovecotServer] = []


@atexit.register
def _stop_all() -> None:  # a run interrupted before the session fixture's teardown
    for server in _servers:
        server.close()


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail(f"{DOVECOT} is missing: install Debian's dovecot-imapd (.ci/run does)")
    server = DovecotServer()
    _servers.append(server)
    try:
        server.start()
        yield server
    finally:
        server.close()
        _servers.remove(server)


@pytest.fixture
def mailbox(dovecot_server: DovecotServer) -> Iterator[Mailbox]:
    """An empty mailbox of its own on the session's Dovecot (restarted if a test stopped it)."""
    if dovecot_server.proc is None or dovecot_server.proc.poll() is not None:
        dovecot_server.start()
    yield dovecot_server.add_user()
