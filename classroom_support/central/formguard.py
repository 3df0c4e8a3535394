"""What stands between the public web form and the ticket store: CSRF tokens that file at
most one ticket, a per-client rate limit, and the server secret they are signed with. Nothing
here is kept in one process's memory that another process would need: the secret, the spent
tokens and the rate-limit counts are all in the central database, so `central serve --workers N`
(and several machines behind one proxy) behave as one server.

CSRF: a token bound to a browser cookie. The form cookie holds a signed random browser id;
every form page gets its own token `nonce.issued.signature`, the HMAC-SHA256 (server secret)
of browser id, nonce and issue time, in a hidden field. A post is accepted only with the cookie
whose id the token was signed for, a good signature and a token younger than `max_age`. Another
site can make a browser post the form, but cannot read or set the cookie, nor forge a token.
Several tabs each have their own token, all valid with the one cookie.

Single use: the token's nonce is recorded with the ticket it filed, in the transaction that
files it (`CentralStore.file_form_ticket`). A post whose token already filed a ticket files
nothing: if it sends the same thing (a replayed post, a double click, the browser's Back then
Send on the cached form page) it gets the first ticket's confirmation; if it sends something
else (Back, a new problem typed over the old one), the form comes back with what was typed,
a fresh token and a note naming the first ticket, so nothing is lost and nothing is doubled.
The form page is cacheable for the browser's history (`private, no-cache`) precisely so that
Back shows the same page, with the same token, instead of fetching a fresh one. Where a browser
fetches it afresh anyway (no history cache; it then restores what was typed into a page with a
new token), the same problem from the same browser cookie within the token lifetime is
recognised too (the spent-token row keeps the browser id and a keyed digest of what was sent,
never the text) and gets the first ticket's confirmation.

Rate limit: a sliding window per client address, counted in the database
(`CentralStore.count_form_post`), one short transaction per post with the client's row locked,
so N workers together allow exactly the limit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from classroom_support.central import models as m
from classroom_support.central.store import CentralStore

SECRET_KEY = "web_form_secret"
log = logging.getLogger("classroom_support.central")


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


@dataclass(frozen=True)
class FormToken:
    """A form token that this server signed for this browser."""

    nonce: str
    browser: str  # the id in the browser cookie it was issued for
    fresh: bool  # not expired (nor from the future)


@dataclass
class CsrfTokens:
    secret: bytes
    max_age: float = 4 * 3600.0
    now: Callable[[], float] = time.time

    def mac(self, purpose: str, value: str) -> str:
        """A signature of `value` for one purpose (tokens for different uses never mix)."""
        digest = hmac.new(self.secret, f"{purpose}|{value}".encode(), hashlib.sha256).digest()
        return _b64(digest)

    def new_browser(self) -> str:
        """A browser cookie: a random id and its signature."""
        browser = _b64(secrets.token_bytes(16))
        return f"{browser}.{self.mac('browser', browser)}"

    def browser_of(self, cookie: str | None) -> str | None:
        """The browser id in a cookie this server set, else None."""
        if not cookie or len(cookie) > 100 or not cookie.isascii():
            return None
        browser, _, signature = cookie.partition(".")
        if not browser or not hmac.compare_digest(signature, self.mac("browser", browser)):
            return None
        return browser

    def issue(self, cookie: str) -> str:
        """A new token for one form page, valid only with this browser cookie."""
        browser = self.browser_of(cookie)
        assert browser is not None, "issue() needs a cookie from new_browser()"
        nonce = _b64(secrets.token_bytes(16))
        issued = int(self.now())
        return f"{nonce}.{issued}.{self._sign(browser, nonce, issued)}"

    def _sign(self, browser: str, nonce: str, issued: int) -> str:
        return self.mac("csrf", f"{browser}|{nonce}|{issued}")

    def read(self, cookie: str | None, submitted: str | None) -> FormToken | None:
        """The token if this server signed it for the browser holding `cookie`, else None.
        An expired token is returned too (not `fresh`): it may have filed a ticket already."""
        browser = self.browser_of(cookie)
        if browser is None or not submitted or len(submitted) > 200 or not submitted.isascii():
            return None
        parts = submitted.split(".")
        if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
            return None
        nonce, issued_text, signature = parts
        issued = int(issued_text)
        if not hmac.compare_digest(signature, self._sign(browser, nonce, issued)):
            return None
        age = self.now() - issued
        return FormToken(nonce=nonce, browser=browser, fresh=-60 <= age <= self.max_age)


@dataclass
class FormRateLimit:
    """At most `limit` posts per `window` seconds per client (sliding window), counted in
    the database so every worker shares the count. The wall clock, not a monotonic one:
    the counts are compared across processes and machines."""

    limit: int
    window: float = 60.0
    now: Callable[[], float] = time.time
    _pruned_at: float = field(default=float("-inf"), init=False)

    def hit(self, store: CentralStore, key: str) -> float:
        """Count a post by `key`; 0.0 if allowed, else the seconds until the next is allowed
        (the refused post is not counted, so waiting that long always works)."""
        now = self.now()
        window_ms = int(self.window * 1000)
        wait_ms = store.count_form_post(key, int(now * 1000), self.limit, window_ms)
        if not -self.window <= now - self._pruned_at < self.window:
            # When to sweep is this process's own business; what is swept is shared.
            self._pruned_at = now
            try:
                store.prune_form_rate(int(now * 1000) - window_ms)
            except SQLAlchemyError as exc:  # a sweep can wait for the next one
                log.warning("form rate sweep skipped: %s", str(exc).splitlines()[0][:200])
        return wait_ms / 1000.0
