"""Laptop ⇄ central sync (headless). The outbox is simply the events not yet acknowledged.

An event without a server sequence number has not been acknowledged by the central server;
events the server refused are *parked* (`sync_parked`, with the reason) and left out of the
outbox until the technician retries them. `SyncClient.sync()` runs one round: hello (once),
push edited sessions/closures, push the outbox in batches, pull pages of changes. Every page
is applied together with the new cursor in one local transaction. See docs/sync-protocol.md.

`SyncClient` is the orchestrator (setup, status, one run, hello, the sync log); its parts live
beside it: `sync_transport` (URL, token, HTTP, retries, backoff, skew), `sync_push` (rows and
the outbox, parking), `sync_pull` (pages, merge, re-fold) and `sync_live` (the waiting pull
an online desk keeps open for live updates).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, update
from sqlmodel import Session, col, func, select

from classroom_support.clock import CLOCK_ANCHOR_KEY, Clock, ClockAnchor, CorrectedClock
from classroom_support.config import Config
from classroom_support.db import Database
from classroom_support.models import (
    ClosureRow,
    CourseSession,
    DeviceIdentity,
    MetaEntry,
    SyncLogEntry,
    SyncParked,
    SyncState,
    Ticket,
    TicketEvent,
)
from classroom_support.sync_live import LIVE_WAIT_S, LiveResult, Waiting
from classroom_support.sync_pull import take_scope
from classroom_support.sync_push import Pushing, _parked, pending_count
from classroom_support.sync_status import PENDING_CAP, SKEW_WARNING_MS, SyncStatus, pending_sql
from classroom_support.sync_transport import (
    API_PREFIX,
    ITEM_STATUSES,
    TOKEN_SUFFIX,
    Backoff,
    Progress,
    SyncError,
    _Restart,
    check_url,
    parse_retry_after,
    read_token,
    token_hint,
    token_path,
    valid_token,
    write_token,
)
from classroom_support.syncwire import SEED_TIME

__all__ = [
    "API_PREFIX",
    "EXIT_OFFLINE",
    "EXIT_OK",
    "EXIT_PARKED",
    "EXIT_SETUP",
    "ITEM_STATUSES",
    "LIVE_WAIT_S",
    "LOG_KEPT",
    "OUTCOME_EXIT",
    "PENDING_CAP",
    "SKEW_WARNING_MS",
    "TOKEN_SUFFIX",
    "Backoff",
    "LiveResult",
    "Progress",
    "SyncClient",
    "SyncError",
    "SyncReport",
    "SyncStatus",
    "check_url",
    "parse_retry_after",
    "pending_count",
    "read_token",
    "token_hint",
    "token_path",
    "valid_token",
    "write_token",
]

log = logging.getLogger("classroom_support.sync")

LOG_KEPT = 500
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
    head: int | None = None  # the server's sequence head; None when it was never reached
    pending: int = 0  # outbox after the run
    skew_ms: int | None = None  # server clock minus this laptop's, the run's best sample
    clock_anchor: ClockAnchor | None = None  # that sample, for the corrected clock
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
            "skew_error_ms": self.clock_anchor.error_ms if self.clock_anchor else None,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "exit_code": self.exit_code,
        }


# --------------------------------------------------------------------------- the client


class SyncClient(Pushing, Waiting):
    """One laptop database's sync with the central server. Thread-safe: one run at a time
    per client; runs from several processes on one database are safe too (idempotent
    writes, and the cursor only moves forward). A waiting pull (`wait_for_changes`, async)
    may run beside a run for the same reasons."""

    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        *,
        token_file: Path | None = None,
        transport: httpx.BaseTransport | None = None,
        live_transport: httpx.AsyncBaseTransport | None = None,
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
        self.live_transport = live_transport
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
                parked = int(s.exec(select(func.count()).select_from(SyncParked)).one())
                pending = int(
                    s.connection()
                    .exec_driver_sql(pending_sql(parked), (PENDING_CAP + 1,))
                    .scalar_one()
                )
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
            role=state.role,
            all_halls=state.all_halls,
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
        log.info("sync: %d parked item(s) put back in the outbox", count)
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
            anchor = report.clock_anchor
            if anchor is not None:
                state.skew_ms = anchor.skew_ms
                s.merge(MetaEntry(key=CLOCK_ANCHOR_KEY, value=anchor.to_json()))
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
        anchor = report.clock_anchor
        if anchor is not None and isinstance(self.clock, CorrectedClock) and self.clock.corrected:
            log.info("clock: corrected by %+d ms (±%d ms)", anchor.skew_ms, anchor.error_ms)
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
            take_scope(state, data)
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
