"""What stands between the public web form and the ticket store: CSRF tokens, a per-client
rate limit and the server secret they are signed with. Pure stdlib.

CSRF: signed double submit. The form page sets a cookie holding `nonce.issued.signature` and
puts the same string in a hidden field; a post is accepted only when the two are equal, the
HMAC-SHA256 signature (server secret) matches and the token is younger than `max_age`. Another
site can make a browser post the form, but cannot read or set the cookie, nor forge the
signature. The secret lives in the central database (`central_meta`), so several app servers
behind one load balancer accept each other's tokens.

Rate limit: a sliding window per client address, in memory (per process: with N app servers
a client gets at most N times the limit, which is still a bound).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from classroom_support.central import models as m
from classroom_support.central.store import CentralStore

SECRET_KEY = "web_form_secret"


def load_secret(store: CentralStore) -> bytes:
    """The server's form secret, created once and shared through the database."""
    with store.read() as conn:
        found = conn.execute(select(m.meta.c.value).where(m.meta.c.key == SECRET_KEY)).scalar()
    if found is None:
        try:
            with store.write() as conn:
                found = conn.execute(
                    select(m.meta.c.value).where(m.meta.c.key == SECRET_KEY)
                ).scalar()
                if found is None:
                    found = secrets.token_hex(32)
                    conn.execute(insert(m.meta).values(key=SECRET_KEY, value=found))
        except IntegrityError:  # another server process created it first
            with store.read() as conn:
                found = conn.execute(
                    select(m.meta.c.value).where(m.meta.c.key == SECRET_KEY)
                ).scalar_one()
    return bytes.fromhex(str(found))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class CsrfTokens:
    secret: bytes
    max_age: float = 4 * 3600.0
    now: Callable[[], float] = time.time

    def _sign(self, nonce: str, issued: int) -> str:
        return self.mac("csrf", f"{nonce}|{issued}")

    def mac(self, purpose: str, value: str) -> str:
        """A signature of `value` for one purpose (tokens for different uses never mix)."""
        digest = hmac.new(self.secret, f"{purpose}|{value}".encode(), hashlib.sha256).digest()
        return _b64(digest)

    def issue(self) -> str:
        nonce = _b64(secrets.token_bytes(16))
        issued = int(self.now())
        return f"{nonce}.{issued}.{self._sign(nonce, issued)}"

    def valid(self, token: str) -> bool:
        """A token this server signed, not expired (nor from the future)."""
        if not token or len(token) > 200 or not token.isascii():
            return False
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            return False
        nonce, issued_text, signature = parts
        issued = int(issued_text)
        age = self.now() - issued
        if not -60 <= age <= self.max_age:
            return False
        return hmac.compare_digest(signature, self._sign(nonce, issued))

    def check(self, cookie: str | None, submitted: str | None) -> bool:
        """The double-submit check: the field equals the cookie, and it is a valid token."""
        if not cookie or not submitted:
            return False
        same = hmac.compare_digest(
            cookie.encode("utf-8", "replace"), submitted.encode("utf-8", "replace")
        )
        return same and self.valid(submitted)


@dataclass
class RateLimiter:
    """At most `limit` hits per `window` seconds per key (sliding window)."""

    limit: int
    window: float = 60.0
    max_keys: int = 100_000
    now: Callable[[], float] = time.monotonic
    _hits: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str) -> float:
        """Count a hit for `key`; 0.0 if allowed, else the seconds until the next is allowed
        (the refused hit is not counted, so waiting that long always works)."""
        now = self.now()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = deque()
                self._hits[key] = hits
                while len(self._hits) > self.max_keys:  # memory bound: forget the stalest
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(0.001, hits[0] + self.window - now)
            hits.append(now)
            return 0.0
