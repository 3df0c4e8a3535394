"""Slow and greedy clients against a real `classroom-support central serve` process on
127.0.0.1: a client that stops in the middle of its headers is disconnected, connections
beyond the per-address cap are refused while others are still served, and a client that is
slow but finishes its request is served normally."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from central_process import START_TIMEOUT_S  # a wait-until: seconds when the machine is idle

EOF_BOUND_S = 30.0  # generous: only says the server closed it at all
RUNNING_RE = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@contextmanager
def central_serve(tmp_path: Path, *options: str) -> Iterator[int]:
    """`central serve` on an ephemeral loopback port; yields the port, stops it afterwards."""
    command = [
        sys.executable,
        "-m",
        "classroom_support.cli",
        "central",
        "serve",
        "--db",
        str(tmp_path / "central.sqlite3"),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--sla-interval",
        "0",
        "--log-level",
        "info",
        *options,
    ]
    log = (tmp_path / "serve.log").open("w+", encoding="utf-8")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        port = None
        while port is None:
            log.seek(0)
            found = RUNNING_RE.search(log.read())
            if found:
                port = int(found.group(1))
            elif proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise AssertionError(f"central serve did not start:\n{log.read()}")
            else:
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(
        ("127.0.0.1", port), timeout=EOF_BOUND_S, source_address=(source, 0)
    )
    return sock


def read_until_closed(sock: socket.socket) -> bytes | None:
    """Everything the server sends until it closes; None if it is still open at the bound."""
    received = b""
    deadline = time.monotonic() + EOF_BOUND_S
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            return None
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    return None


def health(port: int, source: str) -> int:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10.0) as client:
        return client.get(f"http://127.0.0.1:{port}/api/v1/health").status_code


def test_a_client_that_stops_sending_headers_is_disconnected(tmp_path: Path) -> None:
    with central_serve(tmp_path, "--header-timeout", "1") as port:
        half = connect(port)
        silent = connect(port)
        with half, silent:
            half.sendall(b"GET /api/v1/health HT")  # half a request line, then nothing
            answer = read_until_closed(half)
            assert answer is not None, "the server kept a half-sent request open"
            assert answer.startswith(b"HTTP/1.1 408")
            assert read_until_closed(silent) == b""  # connected and said nothing: just closed
        assert health(port, "127.0.0.1") == 200


def test_connections_beyond_the_cap_per_address_are_refused(tmp_path: Path) -> None:
    cap, extra = 4, 3
    with (
        central_serve(tmp_path, "--header-timeout", "120", "--max-conns-per-ip", str(cap)) as port,
        ExitStack() as stack,
    ):
        held = [stack.enter_context(connect(port)) for _ in range(cap)]
        for sock in held:
            sock.sendall(b"GET /api/v1/health HT")  # holding on, as a slow client would
        for _ in range(extra):
            with connect(port) as sock:
                answer = read_until_closed(sock)
                assert answer is not None, "a connection beyond the cap was kept open"
                assert answer.startswith(b"HTTP/1.1 503")
        # Another address is not affected...
        assert health(port, "127.0.0.2") == 200
        # ...and the held ones still count: still refused from 127.0.0.1.
        with connect(port) as sock:
            assert (read_until_closed(sock) or b"").startswith(b"HTTP/1.1 503")
        for sock in held:
            sock.close()
        # Once they are gone, the address is served again (the count went back down).
        deadline = time.monotonic() + EOF_BOUND_S
        status = 0
        while status != 200 and time.monotonic() < deadline:
            try:
                status = health(port, "127.0.0.1")
            except httpx.TransportError:
                status = 0
            if status != 200:
                time.sleep(0.1)
        assert status == 200


def test_a_slow_client_that_finishes_its_headers_is_served(tmp_path: Path) -> None:
    options = ("--header-timeout", "10", "--max-conns-per-ip", "4")
    with central_serve(tmp_path, *options) as port, connect(port) as sock:
        for _request in range(2):  # the deadline is re-armed for the kept-alive request
            for part in (b"GET /api/v1/he", b"alth HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"\r\n"):
                sock.sendall(part)
                time.sleep(0.2)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                assert chunk, "closed before answering"
                head += chunk
            assert head.startswith(b"HTTP/1.1 200")
            found = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
            assert found is not None
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < int(found.group(1)):
                body += sock.recv(4096)


@pytest.mark.parametrize(
    ("option", "value"),
    [("--header-timeout", "-1"), ("--header-timeout", "nan"), ("--max-conns-per-ip", "-3")],
)
def test_a_bad_limit_is_refused_before_serving(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative or non-numeric limit is a mistake, not a silent 'no limit'."""
    from classroom_support.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["central", "serve", option, value])
    assert exit_info.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err
