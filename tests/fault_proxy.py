"""A fault-injecting HTTP/1.1 proxy on 127.0.0.1 for the sync tests and the benchmark.

It reads each request from the client (head + Content-Length body), applies the next planned
fault, forwards the request to the upstream server on a fresh connection, reads the complete
response, applies the fault again where it bites after the server has committed, and sends
the response back. Faults, one per request, consumed in order:

    drop_before    close the client connection before forwarding (nothing reaches the server)
    reset          RST the client connection before forwarding
    drop_after     forward, let the server commit, then close without answering
    reset_after    forward, then RST without answering
    truncate       forward, then send half of the answer and close
    502_after      forward (the server commits), answer 502 instead
    400 / 404 / 500 / 502 / 503 / 429   answer that status without forwarding (503 and 429
                   carry Retry-After: 1)
    delay:SECONDS  wait, then forward

`latency` adds a fixed delay to every request (benchmarks); `down` resets every connection
(a laptop without network); `when[needle] = fault` applies a fault to every request whose
request line holds `needle` (not consumed: e.g. `b"wait="` for a server that refuses waiting
pulls). Everything is bounded: threads are daemons, sockets time out.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections import deque

IO_TIMEOUT = 10.0


def _read_message(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 message (head and Content-Length body); None if the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data or None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _canned(status: int, reason: str, retry_after: bool) -> bytes:
    body = b'{"detail": {"code": "proxy", "message": "injected fault"}}'
    extra = b"Retry-After: 1\r\n" if retry_after else b""
    return (
        f"HTTP/1.1 {status} {reason}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + extra
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


CANNED = {
    "400": (400, "Bad Request", False),
    "404": (404, "Not Found", False),
    "500": (500, "Internal Server Error", False),
    "502": (502, "Bad Gateway", False),
    "503": (503, "Service Unavailable", True),
    "429": (429, "Too Many Requests", True),
}


def _rst(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultyProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.faults: deque[str] = deque()
        self.latency = 0.0
        self.down = False
        self.when: dict[bytes, str] = {}
        self.upstream_timeout = IO_TIMEOUT  # longer for waiting pulls (`pull?wait=S`)
        self.requests = 0
        self.forwarded = 0
        self.applied: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._clients: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="fault-proxy")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plan(self, *faults: str) -> None:
        with self._lock:
            self.faults.extend(faults)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self) -> FaultyProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(IO_TIMEOUT)
            with self._lock:
                self._clients.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _next_fault(self, request: bytes) -> str:
        line = request.split(b"\r\n", 1)[0]
        with self._lock:
            self.requests += 1
            ruled = next((f for needle, f in self.when.items() if needle in line), "")
            fault = (
                "reset" if self.down else ruled or (self.faults.popleft() if self.faults else "")
            )
            if fault:
                self.applied.append(fault)
            return fault

    def _serve(self, conn: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                if self.down:
                    _rst(conn)
                    return
                try:
                    request = _read_message(conn)
                except OSError:
                    return
                if request is None:
                    return
                fault = self._next_fault(request)
                if self.latency:
                    time.sleep(self.latency)
                if fault == "drop_before":
                    conn.close()
                    return
                if fault == "reset":
                    _rst(conn)
                    return
                if fault in CANNED:
                    conn.sendall(_canned(*CANNED[fault]))
                    continue
                if fault.startswith("delay:"):
                    time.sleep(float(fault.split(":", 1)[1]))
                response = self._forward(request)
                if response is None or fault == "drop_after":
                    conn.close()
                    return
                if fault == "reset_after":
                    _rst(conn)
                    return
                if fault == "truncate":
                    conn.sendall(response[: max(1, len(response) // 2)])
                    conn.close()
                    return
                if fault == "502_after":
                    conn.sendall(_canned(502, "Bad Gateway", False))
                    continue
                conn.sendall(response)
        except OSError:
            return
        finally:
            with self._lock:
                self._clients.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _forward(self, request: bytes) -> bytes | None:
        with socket.create_connection(self.upstream, timeout=self.upstream_timeout) as upstream:
            upstream.sendall(request)
            response = _read_message(upstream)
        with self._lock:
            self.forwarded += 1
        return response
