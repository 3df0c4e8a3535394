"""How the laptop talks to the central server: the URL and token, one HTTP client, retries.

Transport: httpx with explicit timeouts; any `httpx.TransportError` (refused, reset, timeout,
and `RemoteProtocolError` from a keep-alive connection that died while the laptop slept) means
"offline, try later"; 429/503 honour `Retry-After`; other failures back off exponentially with
full jitter, capped. The token is read from a 0600 file and never logged (only `abcd…`).
Every answer carrying `X-Server-Time` measures the laptop's clock skew.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from classroom_support.clock import (
    Clock,
    ClockAnchor,
    CorrectedClock,
    device_clock,
    steady_clock,
)
from classroom_support.db import Database
from classroom_support.db_plain import TOKEN_SUFFIX

if TYPE_CHECKING:
    from classroom_support.sync import SyncReport

API_PREFIX = "/api/v1"
# 4xx answers that are about one item of the request (bisect the batch, park the culprit);
# 401/403 (token), 404/405 (not a sync API), 409 (state) and 429 (busy) are about the setup.
ITEM_STATUSES = (400, 413, 414, 415, 422)
CLIENT_TIME_HEADER = "X-Client-Time"  # the device's own clock when it sent the request

Progress = Callable[[str, int, int], object]


# --------------------------------------------------------------------------- the token


def token_path(database: Path) -> Path:
    """The token lives beside its database (in the data dir by default), mode 0600."""
    return database.with_name(database.name + TOKEN_SUFFIX)


def token_hint(token: str) -> str:
    return f"{token[:4]}…" if token else ""


def valid_token(token: str) -> bool:
    return 16 <= len(token) <= 512 and all(33 <= ord(ch) < 127 for ch in token)


def write_token(path: Path, token: str) -> None:
    """Write atomically with 0600 permissions from the first byte (never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, token.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    os.chmod(path, 0o600)


def read_token(path: Path) -> str | None:
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # someone loosened it: tighten before reading
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token if valid_token(token) else None


def check_url(url: str) -> str:
    """The central URL, normalised; ValueError when it is not an http(s) address."""
    url = url.strip().rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not an http(s) address")
    return url


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


# --------------------------------------------------------------------------- errors, retries


class SyncError(Exception):
    def __init__(
        self, outcome: str, message: str, *, retry_after: float | None = None, status: int = 0
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.retry_after = retry_after
        self.status = status


class _Restart(Exception):
    """The server has forgotten what it acknowledged (restored from a backup): start over."""


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Backoff:
    """Capped exponential backoff with full jitter: uniform(0, min(cap, base * 2**n))."""

    def __init__(self, base: float = 1.0, cap: float = 900.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()

    def ceiling(self, attempt: int) -> float:
        return min(self.cap, self.base * 2 ** min(attempt, 32))

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, self.ceiling(attempt))


Progress = Callable[[str, int, int], object]


# --------------------------------------------------------------------------- the HTTP half


class Transport:
    """The HTTP half of `SyncClient`: one request with its retries, and reading errors."""

    db: Database
    clock: Clock
    transport: httpx.BaseTransport | None
    verify: bool
    timeout: httpx.Timeout
    sleep: Callable[[float], None]
    backoff: Backoff
    attempts: int
    budget: float
    _spent: float
    _log: Callable[..., None]  # the sync log (SyncClient)

    def _client(self, url: str, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=url + API_PREFIX,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": "classroom-support-sync/1",
                "Accept": "application/json",
            },
            timeout=self.timeout,
            verify=self.verify,  # TLS certificates are verified (the default)
            transport=self.transport,
            follow_redirects=False,
        )

    def _request(
        self, http: httpx.Client, method: str, path: str, report: SyncReport, **kwargs: Any
    ) -> httpx.Response:
        """One request, retried within the run on offline/busy/5xx; 4xx go back to the caller."""
        attempt = 0
        device, steady = device_clock(self.clock), steady_clock(self.clock)
        extra_headers = kwargs.pop("headers", {})
        while True:
            before, before_steady = device.now(), steady()
            report.requests += 1
            # The device's own time at send, so the server can tell how far off it is.
            headers = {**extra_headers, CLIENT_TIME_HEADER: _stamp(before)}
            try:
                response = http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                # Refused, reset, timed out, or a stale keep-alive after sleep
                # (RemoteProtocolError is a TransportError, not a NetworkError).
                error = SyncError("offline", f"{type(exc).__name__}: {exc}"[:300])
            else:
                self._measure_skew(response, before, before_steady, report)
                if response.status_code < 400 or (
                    400 <= response.status_code < 500 and response.status_code != 429
                ):
                    return response
                wait = parse_retry_after(response.headers.get("retry-after"), self.clock.now())
                if response.status_code in (429, 503):
                    error = SyncError(
                        "busy",
                        f"server busy (HTTP {response.status_code})",
                        retry_after=wait,
                        status=response.status_code,
                    )
                else:
                    error = SyncError(
                        "server_error",
                        f"server error (HTTP {response.status_code})",
                        retry_after=wait,
                        status=response.status_code,
                    )
            attempt += 1
            delay = (
                error.retry_after
                if error.retry_after is not None
                else self.backoff.delay(attempt - 1)
            )
            giving_up = attempt >= self.attempts or self._spent + delay > self.budget
            with self.db.write() as s:
                self._log(
                    s,
                    path.strip("/").split("/")[-1],
                    error.outcome,
                    detail=f"{error.message}; "
                    + ("giving up for now" if giving_up else f"retrying in {delay:.1f} s"),
                )
            if giving_up:
                error.retry_after = delay
                raise error
            self.sleep(delay)
            self._spent += delay

    def _measure_skew(
        self, response: httpx.Response, before: datetime, before_steady: float, report: SyncReport
    ) -> None:
        """NTP-style: the server stamped its time somewhere within the round trip, so taking
        the midpoint errs by at most half of it. The run keeps its most precise sample."""
        device, steady = device_clock(self.clock), steady_clock(self.clock)
        after, after_steady = device.now(), steady()
        stamp = response.headers.get("x-server-time")
        if not stamp:
            return
        try:
            server = datetime.fromisoformat(stamp)
        except ValueError:
            return
        if server.tzinfo is None:
            return
        local = before + (after - before) / 2
        skew_ms = int((server - local).total_seconds() * 1000)
        # The round trip from the steady clock: a system clock set meanwhile does not count.
        error_ms = int(max(0.0, after_steady - before_steady) * 500)
        if report.clock_anchor is not None and report.clock_anchor.error_ms <= error_ms:
            return
        report.skew_ms = skew_ms
        report.clock_anchor = ClockAnchor(
            server_at=server.astimezone(UTC),
            steady=(before_steady + after_steady) / 2,
            boot_id=getattr(self.clock, "boot_id", ""),
            skew_ms=skew_ms,
            error_ms=error_ms,
        )
        if isinstance(self.clock, CorrectedClock):
            # At once, so every time this run still computes (retry_at, next_attempt_at, the
            # log) is on the clock the next run compares it with.
            self.clock.use(report.clock_anchor)

    @staticmethod
    def _detail(response: httpx.Response) -> tuple[str, str]:
        try:
            detail = response.json().get("detail")
        except ValueError:
            return "", response.text[:200]
        if isinstance(detail, dict):
            return str(detail.get("code", "")), str(detail.get("message", ""))[:300]
        return "", str(detail)[:300]

    def _setup_error(self, response: httpx.Response) -> SyncError:
        code, message = self._detail(response)
        status = response.status_code
        if status in (401, 403):
            return SyncError(
                "unauthorized", message or "the server refused the token", status=status
            )
        if status == 409:
            return SyncError("conflict", f"{code}: {message}", status=status)
        return SyncError(
            "error", f"HTTP {status} from the server: {message or 'not a sync API?'}", status=status
        )
