"""The Dovecot harness itself: a mailbox takes mail by APPEND, and a stopped server leaves
nothing behind (no process of its group, the port closed), however it was stopped."""

from __future__ import annotations

import os
import socket
import subprocess

from dovecot_support import DovecotServer, Mailbox


def _group_members(pgid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,pgid="], capture_output=True, text=True).stdout
    rows = (line.split() for line in out.splitlines())
    return [int(pid) for pid, group in rows if int(group) == pgid]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def test_a_mailbox_takes_mail_and_is_its_own(mailbox: Mailbox) -> None:
    uids = mailbox.append(b"From: a@example.org\r\nSubject: one\r\n\r\nbody\r\n")
    assert uids == [1]
    imap = mailbox.connect()
    try:
        typ, data = imap.select(mailbox.folder)
        assert (typ, data) == ("OK", [b"1"])
    finally:
        imap.logout()


def test_stopping_leaves_nothing_running() -> None:
    server = DovecotServer()
    try:
        server.start()
        box = server.add_user()
        box.append(b"Subject: x\r\n\r\ny\r\n")
        pid = server.pid
        assert pid is not None and _group_members(pid)  # master and its services
        server.restart()  # the mailbox survives a restart
        assert list(box.flags()) == [1]
        pid = server.pid
        assert pid is not None
        server.stop()
        assert _group_members(pid) == []
        assert not _port_open(server.port)
    finally:
        server.close()
    assert not os.path.exists(server.root)
