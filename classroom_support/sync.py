"""Laptop ⇄ central sync (headless). The outbox is simply the events not yet acknowledged.

An event without a server sequence number has not been acknowledged by the central server;
events the server refused are *parked* (`sync_parked`, with the reason) and left out of the
outbox until the technician retries them. `SyncClient.sync()` runs one round: hello (once),
push edited sessions/closures, push the outbox in batches, pull pages of changes. Every page
is applied together with the new cursor in one local transaction. See docs/sync-protocol.md.

Transport: httpx with explicit timeouts; any `httpx.TransportError` (refused, reset, timeout,
and `RemoteProtocolError` from a keep-alive connection that died while the laptop slept) means
"offline, try later"; 429/503 honour `Retry-After`; other failures back off exponentially with
full jitter, capped. The token is read from a 0600 file and never logged (only `abcd…`).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import bindparam, delete, exists, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from classroom_support.clock import Clock
from classroom_support.config import Config
from classroom_support.db import Database
from classroom_support.models import (
    ClosureRow,
    CourseSession,
    DeviceIdentity,
    KbArticleRow,
    MetaEntry,
    RosterEntry,
    SyncLogEntry,
    SyncParked,
    SyncState,
    Ticket,
    TicketEvent,
)
from classroom_support.syncwire import (
    CLOSURE_FIELDS,
    SEED_TIME,
    SESSION_FIELDS,
    FoldEvent,
    closure_from_wire,
    closure_to_wire,
    fold_event,
    fold_event_from_row,
    light_to_wire,
    parse_time,
    same_light,
    session_from_wire,
    session_to_wire,
    wins,
)
from classroom_support.tickets import fold

log = logging.getLogger("classroom_support.sync")

API_PREFIX = "/api/v1"
TOKEN_SUFFIX = ".sync-token"
LOG_KEPT = 500
SKEW_WARNING_MS = 120_000  # the header warns past two minutes
PENDING_CAP = 10_000  # the header counts the outbox up to this, then shows "10000+"
# Exit codes of `classroom-support sync` (and SyncReport.exit_code).
EXIT_OK, EXIT_SETUP, EXIT_OFFLINE, EXIT_PARKED = 0, 2, 3, 4
OUTCOME_EXIT = {
    "ok": EXIT_OK,
    "parked": EXIT_PARKED,
    "offline": EXIT_OFFLINE,
    "busy": EXIT_OFFLINE,
    "server_error": EXIT_OFFLINE,
    "waiting": EXIT_OFFLINE,
    "running": EXIT_OFFLINE,
    "not_configured": EXIT_SETUP,
    "unauthorized": EXIT_SETUP,
    "conflict": EXIT_SETUP,
    "error": EXIT_SETUP,
}
_EVENTS: Any = TicketEvent.__table__  # type: ignore[attr-defined]
_TICKETS: Any = Ticket.__table__  # type: ignore[attr-defined]
# 4xx answers that are about one item of the request (bisect the batch, park the culprit);
# 401/403 (token), 404/405 (not a sync API), 409 (state) and 429 (busy) are about the setup.
ITEM_STATUSES = (400, 413, 414, 415, 422)


def pending_count(db: Database) -> int:
    """How many events wait in the outbox (parked events are not waiting: they need a person)."""
    with db.read() as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(TicketEvent)
                .where(col(TicketEvent.server_seq).is_(None), ~_parked(TicketEvent.id))
            ).one()
        )


def _parked(column: Any) -> Any:
    return exists().where(col(SyncParked.item_id) == column)


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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


# --------------------------------------------------------------------------- results


@dataclass
class SyncReport:
    outcome: str = "ok"
    message: str = ""
    pushed: int = 0  # events the server stored new
    duplicates: int = 0  # events it already had (e.g. the answer was lost last time)
    parked: int = 0  # events/rows refused in this run
    parked_total: int = 0  # all parked items now
    pulled: int = 0  # events received
    rows_pushed: int = 0
    rows_pulled: int = 0  # sessions, closures, roster entries received
    cursor: int = 0
    head: int = 0
    pending: int = 0  # outbox after the run
    skew_ms: int | None = None
    retry_at: datetime | None = None
    requests: int = 0
    changed_tickets: set[str] = field(default_factory=set)
    calendar_changed: bool = False

    @property
    def exit_code(self) -> int:
        return OUTCOME_EXIT.get(self.outcome, EXIT_SETUP)

    @property
    def online(self) -> bool:
        return self.outcome in ("ok", "parked")

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "message": self.message,
            "pushed": self.pushed,
            "duplicates": self.duplicates,
            "pulled": self.pulled,
            "parked": self.parked_total,
            "parked_now": self.parked,
            "rows_pushed": self.rows_pushed,
            "rows_pulled": self.rows_pulled,
            "pending": self.pending,
            "cursor": self.cursor,
            "head": self.head,
            "skew_ms": self.skew_ms,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "exit_code": self.exit_code,
        }


@dataclass(frozen=True)
class SyncStatus:
    """What the header and the sync screen show; read from the database, never guessed."""

    configured: bool
    url: str
    last_result: str
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str
    pending: int
    parked: int
    skew_ms: int | None
    cursor: int
    device_name: str
    halls: str

    @property
    def online(self) -> bool:
        return self.last_result in ("ok", "parked")

    @property
    def pending_text(self) -> str:
        return f"{PENDING_CAP}+" if self.pending > PENDING_CAP else str(self.pending)

    @property
    def skew_warning(self) -> bool:
        return self.skew_ms is not None and abs(self.skew_ms) > SKEW_WARNING_MS


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


# --------------------------------------------------------------------------- the client


class SyncClient:
    """One laptop database's sync with the central server. Thread-safe: one run at a time
    per client; runs from several processes on one database are safe too (idempotent
    writes, and the cursor only moves forward)."""

    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        *,
        token_file: Path | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
        timeout: httpx.Timeout | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        batch_size: int = 200,
        page_size: int = 500,
        attempts: int = 3,
        budget: float = 30.0,
        on_device_change: Callable[[], object] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.token_file = token_file or token_path(db.path)
        self.transport = transport
        self.verify = verify
        self.timeout = timeout or httpx.Timeout(30.0, connect=10.0, pool=10.0)
        self.sleep = sleep
        self.backoff = Backoff(rng=rng)
        self.batch_size = batch_size
        self.page_size = page_size
        self.attempts = attempts
        self.budget = budget
        self.on_device_change = on_device_change
        self._lock = threading.Lock()
        self._spent = 0.0

    # ---- setup and status

    def state(self) -> SyncState:
        with self.db.read() as s:
            return s.get(SyncState, 1) or SyncState(id=1)

    def token(self) -> str | None:
        return read_token(self.token_file)

    def is_configured(self) -> bool:
        return bool(self.state().central_url) and self.token() is not None

    def configure(self, url: str, token: str, *, reset: bool = False) -> None:
        """Store the URL (database) and the token (0600 file). `reset` forgets what a
        previous server acknowledged, so everything is pushed and pulled again."""
        url = check_url(url)
        token = token.strip()
        if not valid_token(token):
            raise ValueError("the token should be one line of 16-512 printable characters")
        write_token(self.token_file, token)
        with self.db.write() as s:
            state = s.get(SyncState, 1) or SyncState(id=1)
            if state.central_url != url or reset:
                state.device_bound = False
            state.central_url = url
            state.failures = 0
            state.next_attempt_at = None
            s.add(state)
        if reset:
            self._forget_server()
        log.info("sync set up: %s, token %s", url, token_hint(token))

    def status(self) -> SyncStatus:
        """Cheap enough for the header's 1 s tick: nothing is counted when sync is not set up,
        and the outbox count stops at PENDING_CAP (shown as "10000+")."""
        with self.db.read() as s:
            state = s.get(SyncState, 1) or SyncState(id=1)
            configured = bool(state.central_url) and self.token_file.exists()
            pending = parked = 0
            if configured:
                te = _EVENTS
                waiting = (
                    sa_select(te.c.id)
                    .where(te.c.server_seq.is_(None), ~_parked(te.c.id))
                    .limit(PENDING_CAP + 1)
                    .subquery()
                )
                conn = s.connection()
                pending = int(
                    conn.execute(sa_select(func.count()).select_from(waiting)).scalar_one()
                )
                parked = int(s.exec(select(func.count()).select_from(SyncParked)).one())
        return SyncStatus(
            configured=configured,
            url=state.central_url,
            last_result=state.last_result,
            last_success_at=state.last_success_at,
            last_attempt_at=state.last_attempt_at,
            next_attempt_at=state.next_attempt_at,
            last_error=state.last_error,
            pending=pending,
            parked=parked,
            skew_ms=state.skew_ms,
            cursor=state.cursor,
            device_name=state.device_name,
            halls=state.halls,
        )

    def log_entries(self, limit: int = 200) -> list[SyncLogEntry]:
        with self.db.read() as s:
            return list(
                s.exec(
                    select(SyncLogEntry).order_by(col(SyncLogEntry.id).desc()).limit(limit)
                ).all()
            )

    def parked(self) -> list[tuple[SyncParked, TicketEvent | None, str]]:
        """Parked items with their event and ticket reference (when it is an event)."""
        with self.db.read() as s:
            rows = s.exec(select(SyncParked).order_by(col(SyncParked.parked_at))).all()
            out = []
            for row in rows:
                event = s.get(TicketEvent, row.item_id) if row.item_kind == "event" else None
                ref = ""
                if event is not None:
                    ticket = s.get(Ticket, event.ticket_id)
                    ref = ticket.ref if ticket else ""
                out.append((row, event, ref))
        return out

    def retry_parked(self) -> int:
        """Put parked items back in the outbox (after the cause was fixed centrally)."""
        with self.db.write() as s:
            count = len(s.exec(select(SyncParked.item_id)).all())
            s.connection().execute(delete(SyncParked))
        return count

    # ---- one run

    def check(self) -> SyncReport:
        """Only the hello: is the server there, and does it accept this token and laptop?"""
        report = SyncReport()
        state = self.state()
        token = self.token()
        if not state.central_url or token is None:
            return SyncReport(outcome="not_configured", message="sync is not set up")
        self._spent = 0.0
        try:
            with self._client(state.central_url, token) as http:
                self._hello(http, report)
        except SyncError as exc:
            report.outcome = exc.outcome
            report.message = exc.message
        return report

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

    def sync(self, progress: Progress | None = None, *, manual: bool = True) -> SyncReport:
        if not self._lock.acquire(blocking=False):
            return SyncReport(outcome="running", message="a sync is already running")
        try:
            return self._sync(progress, manual)
        finally:
            self._lock.release()

    def _sync(self, progress: Progress | None, manual: bool) -> SyncReport:
        report = SyncReport()
        state = self.state()
        token = self.token()
        now = self.clock.now()
        if not state.central_url or token is None:
            report.outcome = "not_configured"
            report.message = "sync is not set up: classroom-support connect URL --token-file FILE"
            return report
        if not manual and state.next_attempt_at is not None and now < state.next_attempt_at:
            report.outcome = "waiting"
            report.retry_at = state.next_attempt_at
            return report
        self._spent = 0.0
        started = time.monotonic()
        try:
            with self._client(state.central_url, token) as http:
                for _round in range(2):
                    try:
                        if not self.state().device_bound:
                            self._hello(http, report)
                        self._push_rows(http, report)
                        self._push_events(http, report, progress)
                        self._pull(http, report, progress)
                        break
                    except _Restart:
                        report.message = "the server was restored from a backup; resent all"
                        continue
            report.outcome = "ok"
        except SyncError as exc:
            report.outcome = exc.outcome
            report.message = exc.message
            if exc.retry_after is not None:
                report.retry_at = self.clock.now() + timedelta(seconds=exc.retry_after)
        except (ValueError, KeyError, TypeError) as exc:  # a reply we cannot read
            report.outcome = "error"
            report.message = f"unexpected reply from the server: {type(exc).__name__}: {exc}"
            log.exception("sync: unexpected reply")
        self._finish(report, int((time.monotonic() - started) * 1000))
        return report

    def _finish(self, report: SyncReport, duration_ms: int) -> None:
        now = self.clock.now()
        with self.db.write() as s:
            state = s.get(SyncState, 1) or SyncState(id=1)
            report.parked_total = int(s.exec(select(func.count()).select_from(SyncParked)).one())
            if report.outcome == "ok" and report.parked_total:
                report.outcome = "parked"
                report.message = report.message or f"{report.parked_total} item(s) parked"
            state.last_attempt_at = now
            state.last_result = report.outcome
            state.last_error = report.message if not report.online else ""
            if report.online:
                state.last_success_at = now
                state.failures = 0
                state.next_attempt_at = None
            elif report.outcome in ("offline", "busy", "server_error"):
                state.failures += 1
                wait = self.backoff.delay(state.failures)
                if report.retry_at is not None:
                    wait = max(wait, (report.retry_at - now).total_seconds())
                state.next_attempt_at = now + timedelta(seconds=wait)
                report.retry_at = state.next_attempt_at
            if report.skew_ms is not None:
                state.skew_ms = report.skew_ms
            report.cursor = state.cursor
            s.add(state)
            report.pending = int(
                s.exec(
                    select(func.count())
                    .select_from(TicketEvent)
                    .where(col(TicketEvent.server_seq).is_(None), ~_parked(TicketEvent.id))
                ).one()
            )
            self._log(
                s,
                "run",
                report.outcome,
                sent=report.pushed + report.duplicates,
                applied=report.pushed,
                duplicates=report.duplicates,
                rejected=report.parked,
                received=report.pulled,
                cursor=state.cursor,
                duration_ms=duration_ms,
                detail=report.message,
            )
        log.info(
            "sync %s: pushed %d (+%d duplicates), pulled %d, parked %d, pending %d%s",
            report.outcome,
            report.pushed,
            report.duplicates,
            report.pulled,
            report.parked_total,
            report.pending,
            f" ({report.message})" if report.message else "",
        )

    # ---- HTTP

    def _request(
        self, http: httpx.Client, method: str, path: str, report: SyncReport, **kwargs: Any
    ) -> httpx.Response:
        """One request, retried within the run on offline/busy/5xx; 4xx go back to the caller."""
        attempt = 0
        while True:
            before = self.clock.now()
            report.requests += 1
            try:
                response = http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                # Refused, reset, timed out, or a stale keep-alive after sleep
                # (RemoteProtocolError is a TransportError, not a NetworkError).
                error = SyncError("offline", f"{type(exc).__name__}: {exc}"[:300])
            else:
                self._measure_skew(response, before, report)
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

    def _measure_skew(self, response: httpx.Response, before: datetime, report: SyncReport) -> None:
        stamp = response.headers.get("x-server-time")
        if not stamp:
            return
        try:
            server = datetime.fromisoformat(stamp)
        except ValueError:
            return
        if server.tzinfo is None:
            return
        after = self.clock.now()
        local = before + (after - before) / 2
        report.skew_ms = int((server - local).total_seconds() * 1000)

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

    # ---- hello

    def _hello(self, http: httpx.Client, report: SyncReport) -> None:
        device = self._device()
        with self.db.read() as s:
            issued = int(
                s.exec(
                    select(func.count())
                    .select_from(Ticket)
                    .where(Ticket.origin_device == device.device_id)
                ).one()
            )
        response = self._request(
            http,
            "POST",
            "/sync/hello",
            report,
            json={"device_id": device.device_id, "ref_prefix": device.ref_prefix, "issued": issued},
        )
        if response.status_code != 200:
            error = self._setup_error(response)
            with self.db.write() as s:
                self._log(s, "hello", str(response.status_code), detail=error.message)
            raise error
        data = response.json()
        prefix = str(data["ref_prefix"])
        changed = False
        with self.db.write() as s:
            if prefix != device.ref_prefix:
                numbered = s.exec(
                    select(func.count())
                    .select_from(Ticket)
                    .where(Ticket.origin_device == device.device_id)
                ).one()
                if numbered:
                    raise SyncError(
                        "conflict", f"the server wants prefix {prefix} but tickets are numbered"
                    )
                row = s.get(DeviceIdentity, 1)
                assert row is not None
                row.ref_prefix = prefix
                s.add(row)
                changed = True
            state = s.get(SyncState, 1) or SyncState(id=1)
            state.device_bound = True
            state.device_name = str(data.get("device_name", ""))
            state.halls = ",".join(str(h) for h in data.get("halls", []))
            s.add(state)
            self._log(s, "hello", "ok", cursor=int(data.get("head", 0)), detail=state.halls)
        if changed and self.on_device_change is not None:
            self.on_device_change()

    def _device(self) -> DeviceIdentity:
        with self.db.read() as s:
            device = s.get(DeviceIdentity, 1)
        if device is None:  # a laptop that never logged a ticket still has an identity
            from classroom_support.tickets import TicketDesk

            device = TicketDesk(self.db, self.clock, self.config).device
        return device

    # ---- push

    def _send(
        self,
        http: httpx.Client,
        report: SyncReport,
        items: Sequence[Any],
        body: Callable[[Sequence[Any]], dict[str, Any]],
        apply: Callable[[Sequence[Any], dict[str, Any]], None],
        park: Callable[[Any, str, int], None],
        step: str,
    ) -> int:
        """Send `items` in one request, splitting it when the server refuses it as a whole
        (400/413/422: too big or malformed) until the one item at fault is found and parked."""
        pending: list[Sequence[Any]] = [items]
        sent = 0
        while pending:
            chunk = pending.pop(0)
            started = time.monotonic()
            response = self._request(http, "POST", "/sync/push", report, json=body(chunk))
            if response.status_code in ITEM_STATUSES:
                code, message = self._detail(response)
                reason = f"HTTP {response.status_code} {code}: {message}".strip()
                with self.db.write() as s:
                    self._log(s, step, str(response.status_code), sent=len(chunk), detail=reason)
                if len(chunk) > 1:
                    half = len(chunk) // 2
                    pending[:0] = [chunk[:half], chunk[half:]]
                    continue
                park(chunk[0], reason, response.status_code)
                report.parked += 1
                continue
            if response.status_code == 409:
                code, _message = self._detail(response)
                if code == "not_bound":  # the server forgot the binding (restored): hello again
                    with self.db.write() as s:
                        state = s.get(SyncState, 1) or SyncState(id=1)
                        state.device_bound = False
                        s.add(state)
                    self._hello(http, report)
                    pending.insert(0, chunk)
                    continue
            if response.status_code != 200:
                raise self._setup_error(response)
            data = response.json()
            data["_ms"] = int((time.monotonic() - started) * 1000)
            apply(chunk, data)
            sent += len(chunk)
        return sent

    def _push_rows(self, http: httpx.Client, report: SyncReport) -> None:
        with self.db.read() as s:
            sessions = list(
                s.exec(
                    select(CourseSession).where(
                        col(CourseSession.sync_pending).is_(True), ~_parked(CourseSession.id)
                    )
                ).all()
            )
            closures = list(
                s.exec(
                    select(ClosureRow).where(
                        col(ClosureRow.sync_pending).is_(True), ~_parked(ClosureRow.id)
                    )
                ).all()
            )
        items: list[tuple[str, dict[str, Any]]] = [
            ("session", session_to_wire(r)) for r in sessions
        ]
        items += [("closure", closure_to_wire(r)) for r in closures]
        for i in range(0, len(items), self.batch_size):
            self._send(
                http,
                report,
                items[i : i + self.batch_size],
                lambda chunk: {
                    "events": [],
                    "sessions": [w for t, w in chunk if t == "session"],
                    "closures": [w for t, w in chunk if t == "closure"],
                },
                lambda chunk, data: self._apply_row_results(chunk, data, report),
                lambda item, reason, status: self._park(item[1]["id"], item[0], reason, status),
                "rows",
            )

    def _apply_row_results(
        self, chunk: Sequence[tuple[str, dict[str, Any]]], data: dict[str, Any], report: SyncReport
    ) -> None:
        sent = {(t, w["id"]): w for t, w in chunk}
        results = data.get("rows", [])
        if {(r["table"], r["id"]) for r in results} != set(sent):
            raise SyncError("error", "the server's answer does not match the rows sent")
        changed = False
        with self.db.write() as s:
            for r in results:
                table, rid = r["table"], r["id"]
                model: Any = CourseSession if table == "session" else ClosureRow
                to_wire: Any = session_to_wire if table == "session" else closure_to_wire
                fields = SESSION_FIELDS if table == "session" else CLOSURE_FIELDS
                row = s.get(model, rid)
                if row is None:
                    continue
                unchanged = not wins(to_wire(row), sent[(table, rid)], fields) and not wins(
                    sent[(table, rid)], to_wire(row), fields
                )
                if r["status"] == "applied":
                    if unchanged:  # compare-and-clear: an edit made meanwhile stays pending
                        row.sync_pending = False
                        report.rows_pushed += 1
                elif r["status"] == "superseded" and r.get("current"):
                    if unchanged:
                        self._overwrite_row(row, table, r["current"])
                        changed = True
                else:
                    self._park_in(s, rid, table, str(r.get("reason", "")), 200)
                    report.parked += 1
                s.add(row)
            self._log(
                s,
                "rows",
                "ok",
                sent=len(chunk),
                applied=sum(1 for r in results if r["status"] == "applied"),
                duplicates=sum(1 for r in results if r["status"] == "superseded"),
                rejected=sum(1 for r in results if r["status"] == "rejected"),
                duration_ms=int(data.get("_ms", 0)),
            )
        if changed:
            report.calendar_changed = True

    @staticmethod
    def _overwrite_row(row: Any, table: str, wire: dict[str, Any]) -> None:
        values = session_from_wire(wire) if table == "session" else closure_from_wire(wire)
        for name, value in values.items():
            if name != "id":
                setattr(row, name, value)
        row.sync_pending = False

    def _outbox(self, limit: int) -> list[FoldEvent]:
        """The oldest unacknowledged, unparked events, in (hlc, id) order."""
        te = _EVENTS
        with self.db.read() as s:
            rows = s.connection().execute(
                sa_select(te)
                .where(te.c.server_seq.is_(None), ~_parked(te.c.id))
                .order_by(te.c.hlc, te.c.id)
                .limit(limit)
            )
            return [fold_event_from_row(r) for r in rows]

    def _push_events(
        self, http: httpx.Client, report: SyncReport, progress: Progress | None
    ) -> None:
        total = pending_count(self.db)
        done = 0
        if progress and total:
            progress("push", 0, total)
        rounds = 0
        while True:
            batch = self._outbox(self.batch_size)
            if not batch:
                break
            rounds += 1
            if rounds > total // max(1, self.batch_size) + 50:
                raise SyncError("error", "the outbox does not drain; see the sync log")
            done += self._send(
                http,
                report,
                batch,
                lambda chunk: {"events": [light_to_wire(e) for e in chunk]},
                lambda chunk, data: self._apply_push_results(chunk, data, report),
                lambda event, reason, status: self._park(event.id, "event", reason, status),
                "push",
            )
            if progress:
                progress("push", min(done, total), max(total, done))

    def _apply_push_results(
        self, batch: Sequence[FoldEvent], data: dict[str, Any], report: SyncReport
    ) -> None:
        results = data["results"]
        if [r["id"] for r in results] != [e.id for e in batch]:
            raise SyncError("error", "the server's answer does not match the events sent")
        by_id = {e.id: e for e in batch}
        refold_ids: set[str] = set()
        acks: list[dict[str, Any]] = []
        counts = {"applied": 0, "duplicate": 0, "rejected": 0}
        te = _EVENTS
        with self.db.write() as s:
            conn = s.connection()
            for r in results:
                status = r["status"]
                counts[status] = counts.get(status, 0) + 1
                local = by_id[r["id"]]
                if status == "rejected":
                    self._park_in(s, local.id, "event", str(r.get("reason", "")), 200)
                    report.parked += 1
                    continue
                canonical = r.get("canonical")
                if canonical:
                    theirs = fold_event(canonical, seq=int(r["seq"]))
                    if theirs.ticket_id != local.ticket_id:
                        self._park_in(s, local.id, "event", "id_collision", 200)
                        report.parked += 1
                        continue
                    if not same_light(theirs, local):
                        # The server's copy of this id wins (e.g. the same SLA escalation
                        # raised on both sides): take it, and re-fold the ticket.
                        values = theirs.values()
                        del values["id"], values["ticket_id"]
                        conn.execute(update(te).where(te.c.id == local.id).values(**values))
                        refold_ids.add(local.ticket_id)
                        continue
                acks.append({"b_id": local.id, "server_seq": int(r["seq"])})
            if acks:
                conn.execute(update(te).where(te.c.id == bindparam("b_id")), acks)
            if refold_ids:
                self._refold(conn, refold_ids)
                report.changed_tickets.update(refold_ids)
            self._log(
                s,
                "push",
                "ok",
                sent=len(batch),
                applied=counts["applied"],
                duplicates=counts["duplicate"],
                rejected=counts["rejected"],
                cursor=int(data.get("head", 0)),
                duration_ms=int(data.get("_ms", 0)),
            )
        report.pushed += counts["applied"]
        report.duplicates += counts["duplicate"]
        report.head = max(report.head, int(data.get("head", 0)))

    def _park(self, item_id: str, kind: str, reason: str, status: int) -> None:
        with self.db.write() as s:
            self._park_in(s, item_id, kind, reason, status)

    def _park_in(self, s: Session, item_id: str, kind: str, reason: str, status: int) -> None:
        s.merge(
            SyncParked(
                item_id=item_id,
                item_kind=kind,
                reason=reason[:1000],
                status_code=status,
                parked_at=self.clock.now(),
            )
        )
        log.warning("sync: parked %s %s: %s", kind, item_id, reason[:200])

    # ---- pull

    def _pull(self, http: httpx.Client, report: SyncReport, progress: Progress | None) -> None:
        rounds = 0
        while True:
            cursor = self.state().cursor
            started = time.monotonic()
            response = self._request(
                http, "GET", "/sync/pull", report, params={"since": cursor, "limit": self.page_size}
            )
            if response.status_code == 409 and self._detail(response)[0] == "cursor_ahead":
                self._forget_server()
                raise _Restart
            if response.status_code != 200:
                raise self._setup_error(response)
            data = response.json()
            data["_ms"] = int((time.monotonic() - started) * 1000)
            self._apply_page(data, report)
            rounds += 1
            if progress:
                progress("pull", int(data["cursor"]), int(data["head"]))
            if not data["has_more"]:
                break
            if int(data["cursor"]) <= cursor or rounds > 100_000:
                raise SyncError("error", "the server's cursor did not advance")

    def _apply_page(self, data: dict[str, Any], report: SyncReport) -> None:
        """Insert-if-absent by id, the server's copy winning; re-fold every touched ticket
        from ALL its events; merge rows; move the cursor. One transaction."""
        touched: set[str] = set()
        calendar = False
        with self.db.write() as s:
            state = s.get(SyncState, 1) or SyncState(id=1)
            wires = data.get("events", [])
            touched = self._merge_events(s.connection(), wires)
            for wire in data.get("sessions", []):
                calendar |= self._merge_pulled(s, CourseSession, "session", wire)
            for wire in data.get("closures", []):
                calendar |= self._merge_pulled(s, ClosureRow, "closure", wire)
            roster = data.get("roster", [])
            if roster and s.get(MetaEntry, "roster_source") is None:
                # The first roster from the centre replaces the config's; from cursor 0 the
                # server sends every entry it has, so the two end up the same.
                s.connection().execute(delete(RosterEntry))
            for wire in roster:
                found = s.get(RosterEntry, wire["id"])
                if wire.get("deleted"):
                    if found is not None:
                        s.delete(found)
                    continue
                s.merge(
                    RosterEntry(
                        id=str(wire["id"]),
                        title=str(wire["title"]),
                        title_ar=str(wire.get("title_ar", "")),
                        responsibility=str(wire.get("responsibility", "")),
                        contact=str(wire.get("contact", "")),
                    )
                )
            if roster:
                s.merge(MetaEntry(key="roster_source", value="central"))
            articles = data.get("kb", [])
            self._merge_kb(s, articles)
            new_cursor = int(data["cursor"])
            state.cursor = max(state.cursor, new_cursor)  # never goes back
            s.add(state)
            rows = (
                len(data.get("sessions", []))
                + len(data.get("closures", []))
                + len(roster)
                + len(articles)
            )
            self._log(
                s,
                "pull",
                "ok",
                received=len(wires) + rows,
                cursor=state.cursor,
                duration_ms=int(data.get("_ms", 0)),
            )
        report.pulled += len(wires)
        report.rows_pulled += rows
        report.changed_tickets.update(touched)
        report.head = max(report.head, int(data.get("head", 0)))
        if calendar:
            report.calendar_changed = True

    @staticmethod
    def _merge_kb(s: Session, articles: list[dict[str, Any]]) -> None:
        """Knowledge-base articles: the centre's copy replaces ours (they are read-only here);
        a tombstone removes the article. Slugs are unique, so an article that took over a
        deleted one's slug in this page replaces that row first."""
        for wire in articles:
            found = s.get(KbArticleRow, str(wire["id"]))
            if wire.get("deleted"):
                if found is not None:
                    s.delete(found)
                    s.flush()
                continue
            slug = str(wire["slug"])
            clash = s.exec(select(KbArticleRow).where(KbArticleRow.slug == slug)).first()
            if clash is not None and clash.id != wire["id"]:
                s.delete(clash)
                s.flush()
            row = found or KbArticleRow(id=str(wire["id"]), slug=slug)
            row.slug = slug
            row.title = str(wire.get("title", ""))
            row.title_ar = str(wire.get("title_ar", ""))
            row.tags = ",".join(str(t) for t in wire.get("tags", []))
            row.body = str(wire.get("body", ""))
            row.body_ar = str(wire.get("body_ar", ""))
            row.updated_at = parse_time(wire["updated_at"])
            s.add(row)
            s.flush()

    def _merge_pulled(self, s: Session, model: Any, table: str, wire: dict[str, Any]) -> bool:
        fields = SESSION_FIELDS if table == "session" else CLOSURE_FIELDS
        to_wire: Any = session_to_wire if table == "session" else closure_to_wire
        values = session_from_wire(wire) if table == "session" else closure_from_wire(wire)
        row = s.get(model, values["id"])
        if row is None:
            s.add(model(**values, sync_pending=False))
            return True
        if wins(wire, to_wire(row), fields):
            self._overwrite_row(row, table, wire)
            s.add(row)
            return True
        return False  # ours is newer: it stays pending and goes up next time

    def _merge_events(self, conn: Any, wires: Sequence[dict[str, Any]]) -> set[str]:
        """Insert-if-absent by id (the server's copy winning over a different local copy),
        then re-fold every touched ticket from ALL its events and write tickets before
        events (foreign key). Core statements, executemany: pages are thousands of events."""
        te = _EVENTS
        incoming = [fold_event(w, seq=int(w["seq"])) for w in wires]
        ids = [e.id for e in incoming]
        stored: dict[str, FoldEvent] = {}
        for chunk in _chunks(ids):
            conn.execute(delete(SyncParked).where(col(SyncParked.item_id).in_(chunk)))
            for row in conn.execute(sa_select(te).where(te.c.id.in_(chunk))):
                stored[row.id] = fold_event_from_row(row)
        new: list[FoldEvent] = []
        changed: list[FoldEvent] = []
        acks: list[dict[str, Any]] = []
        touched: set[str] = set()
        for event in incoming:
            local = stored.get(event.id)
            if local is None:
                new.append(event)
                touched.add(event.ticket_id)
            elif not same_light(event, local):
                if local.ticket_id != event.ticket_id:
                    raise SyncError("error", f"event id {event.id} names two tickets")
                changed.append(event)
                touched.add(event.ticket_id)
            elif local.server_seq != event.server_seq:
                acks.append({"b_id": event.id, "server_seq": event.server_seq})
        if touched:
            self._refold(conn, touched, [*new, *changed])
        if new:
            conn.execute(insert(te), [e.values() for e in new])
        if changed:
            rows = []
            for e in changed:
                values = e.values()
                del values["id"], values["ticket_id"]
                rows.append({**values, "b_id": e.id})
            conn.execute(update(te).where(te.c.id == bindparam("b_id")), rows)
        if acks:
            conn.execute(update(te).where(te.c.id == bindparam("b_id")), acks)
        return touched

    def _refold(
        self, conn: Any, ticket_ids: Iterable[str], overrides: Sequence[FoldEvent] = ()
    ) -> None:
        """Write each ticket row as the fold of all its events (stored ones, with `overrides`
        replacing or adding by id). Tickets that do not exist yet are inserted."""
        te, tt = _EVENTS, _TICKETS
        ids = list(ticket_ids)
        grouped: dict[str, dict[str, FoldEvent]] = {tid: {} for tid in ids}
        existing: set[str] = set()
        for chunk in _chunks(ids):
            for row in conn.execute(sa_select(te).where(te.c.ticket_id.in_(chunk))):
                grouped[row.ticket_id][row.id] = fold_event_from_row(row)
            existing.update(conn.execute(sa_select(tt.c.id).where(tt.c.id.in_(chunk))).scalars())
        for event in overrides:
            grouped.setdefault(event.ticket_id, {})[event.id] = event
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for ticket_id, events in grouped.items():
            if not any(e.kind == "created" for e in events.values()):
                raise SyncError("error", f"ticket {ticket_id}: events arrived before its creation")
            values = fold(events.values()).model_dump()
            if ticket_id in existing:
                del values["id"]
                updates.append({**values, "b_id": ticket_id})
            else:
                inserts.append(values)
        if inserts:
            conn.execute(insert(tt), inserts)
        if updates:
            conn.execute(update(tt).where(tt.c.id == bindparam("b_id")), updates)

    def _forget_server(self) -> None:
        """Everything is unacknowledged again; sessions and closures go up again (the merge is
        idempotent); the cursor starts from 0. Used after a server restore or `connect --reset`."""
        with self.db.write() as s:
            conn = s.connection()
            conn.execute(update(TicketEvent).values(server_seq=None))
            conn.execute(update(CourseSession).values(sync_pending=True))
            conn.execute(
                update(ClosureRow)
                .where(col(ClosureRow.updated_at) > SEED_TIME)  # seeded defaults stay local
                .values(sync_pending=True)
            )
            state = s.get(SyncState, 1) or SyncState(id=1)
            state.cursor = 0
            state.device_bound = False
            s.add(state)
            self._log(s, "reset", "ok", detail="cursor and acknowledgements cleared")

    # ---- the log

    def _log(self, s: Session, step: str, outcome: str, **values: Any) -> None:
        s.add(SyncLogEntry(at=self.clock.now(), step=step, outcome=outcome, **values))
        s.flush()
        newest = s.exec(select(func.max(SyncLogEntry.id))).one() or 0
        if newest > LOG_KEPT and newest % 50 == 0:
            s.connection().execute(
                delete(SyncLogEntry).where(col(SyncLogEntry.id) <= newest - LOG_KEPT)
            )
