"""Slow and greedy clients at the connection level, before any request reaches the app.

uvicorn's `timeout_keep_alive` only closes an idle connection *after* a response; a client that
connects and then sends its request headers a byte at a time (or never) holds a socket and a
file descriptor for as long as it likes. `GuardedH11Protocol` is uvicorn's h11 protocol with
two additions:

- a **header deadline**: from the moment a connection opens (or a keep-alive connection starts
  its next request) the client has `header_timeout` seconds to finish the request line and
  headers; otherwise the connection is closed (with a `408` if part of a request had arrived);
- a **per-address cap**: at most `max_per_address` open connections from one client address;
  a connection beyond it is answered `503` and closed at once.

Counts are per server process. Behind a reverse proxy every connection comes from the proxy's
address: there, turn the cap off (0) and let the proxy limit per client (README).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("classroom_support.central.guard")

DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_MAX_PER_ADDRESS = 50

REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 33\r\nconnection: close\r\n\r\n"
    b"request headers arrived too late\n"
)
TOO_MANY = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 39\r\nretry-after: 5\r\n"
    b"connection: close\r\n\r\n"
    b"too many connections from this address\n"
)


class GuardedH11Protocol(H11Protocol):
    """Configured by subclassing (`guarded_protocol`): uvicorn builds one per connection."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT  # 0: no deadline
    max_per_address: int = DEFAULT_MAX_PER_ADDRESS  # 0: no cap
    open_by_address: Counter[str]  # shared by every connection of one server

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._counted: str | None = None
        self._request_bytes = 0  # of the request whose headers are awaited

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else None
        if address is not None and self.max_per_address > 0:
            self.open_by_address[address] += 1
            self._counted = address
            if self.open_by_address[address] > self.max_per_address:
                log.warning(
                    "refused a connection from %s: %d open (limit %d)",
                    address,
                    self.open_by_address[address] - 1,
                    self.max_per_address,
                )
                transport.write(TOO_MANY)
                transport.close()
                return
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._request_bytes += len(data)
        super().data_received(data)
        self._watch_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request on this keep-alive connection is uvicorn's keep-alive timer's
        # business until its first byte arrives (data_received re-arms the deadline).
        self._request_bytes = 0
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._counted is not None:
            self.open_by_address[self._counted] -= 1
            if self.open_by_address[self._counted] <= 0:
                del self.open_by_address[self._counted]
            self._counted = None
        super().connection_lost(exc)

    # ---------------------------------------------------------------- the header deadline

    def _awaiting_headers(self) -> bool:
        return (
            self.conn.their_state is h11.IDLE
            and self.conn.our_state is h11.IDLE
            and not self.transport.is_closing()
        )

    def _watch_headers(self) -> None:
        """Armed while a request's headers are awaited; disarmed once they are complete."""
        if self.header_timeout <= 0:
            return
        if not self._awaiting_headers():
            self._disarm()
            self._request_bytes = 0
        elif self._header_timer is None and (self.cycle is None or self._request_bytes > 0):
            # a new connection, or the first bytes of the next request on a kept-alive one
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_late(self) -> None:
        self._header_timer = None
        if not self._awaiting_headers():
            return
        log.info(
            "closed a connection from %s: no complete request headers after %gs",
            self.client[0] if self.client else "?",
            self.header_timeout,
        )
        if self._request_bytes:
            self.transport.write(REQUEST_TIMEOUT)
        self.transport.close()


def guarded_protocol(
    header_timeout: float = DEFAULT_HEADER_TIMEOUT, max_per_address: int = DEFAULT_MAX_PER_ADDRESS
) -> type[GuardedH11Protocol]:
    """A protocol class for one server (`uvicorn.Config(http=...)`), with its own counts."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {
            "header_timeout": max(0.0, header_timeout),
            "max_per_address": max(0, max_per_address),
            "open_by_address": Counter(),
        },
    )


SERVE_PROTOCOL_ENV = "CLASSROOM_SUPPORT_CENTRAL_GUARD"  # "header_timeout,max_per_address"
SERVE_PROTOCOL = "classroom_support.central.guard:WorkerH11Protocol"


def _settings_from_env() -> tuple[float, int]:
    try:
        timeout, cap = os.environ.get(SERVE_PROTOCOL_ENV, "").split(",")
        return max(0.0, float(timeout)), max(0, int(cap))
    except ValueError:
        return DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_PER_ADDRESS


class WorkerH11Protocol(GuardedH11Protocol):
    """The guarded protocol of `central serve --workers N`, named by import string: uvicorn
    sends its settings to each spawned worker by pickling, which a class made at run time
    (`guarded_protocol`) does not survive. Its settings come from the environment the parent
    sets before starting the workers; the counts are per process, as connections are."""

    header_timeout, max_per_address = _settings_from_env()
    open_by_address: Counter[str] = Counter()
