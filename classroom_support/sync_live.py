"""Live updates while online: one waiting pull (`GET /sync/pull?since=<cursor>&wait=S`).

The server holds the request until a change this device can see is committed, or `S` seconds
pass (docs/sync-protocol.md, "Waiting for a change"). A page that comes back with items is
applied exactly like any pulled page (`Pulling._apply_page`: one local transaction with the
new cursor); an empty page only moves the cursor and the time of the last contact. Nothing is
retried here: any failure is handed back, and the caller falls back to the periodic sync.

Async (httpx.AsyncClient), so a caller can cancel an open wait at once — a thread blocked in a
25 s read cannot be interrupted, and an app quitting would wait for it. The database work still
runs in a thread (`asyncio.to_thread`), as blocking calls must not stall the caller's loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from classroom_support.models import SyncState
from classroom_support.sync_pull import Pulling
from classroom_support.sync_transport import API_PREFIX

if TYPE_CHECKING:
    from classroom_support.sync import SyncReport

LIVE_WAIT_S = 25.0  # what a desk asks the server to wait (the server allows up to 30 s)
READ_MARGIN_S = 10.0  # the HTTP read timeout is the wait plus this
# An empty answer well before the wait ran out means the server did not wait: an older server
# that ignores `wait`, one without its change feed, or one shutting down. Asking again at once
# would turn the wait into a busy loop, so the caller backs off instead.
EARLY_SHARE = 0.5

LIVE_OK = ("changed", "quiet")


@dataclass
class LiveResult:
    """How one waiting pull ended.

    outcome: `changed` (a page with items was applied), `quiet` (the wait ran out with nothing
    new), `early` (an empty answer long before the wait ended: the server does not wait),
    `offline` (a transport error or timeout), `refused` (any HTTP status but 200, or a body
    that is not a page), `not_configured` (no URL/token, or not bound by a first sync yet)."""

    outcome: str
    message: str = ""
    status: int = 0
    elapsed_s: float = 0.0
    pulled: int = 0
    has_more: bool = False
    changed_tickets: set[str] = field(default_factory=set)
    calendar_changed: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome in LIVE_OK


class Waiting(Pulling):
    """The live half of `SyncClient`: one waiting pull at a time, cancellable."""

    live_transport: httpx.AsyncBaseTransport | None

    def _live_client(self, url: str, token: str, wait: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=url + API_PREFIX,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": "classroom-support-sync/1",
                "Accept": "application/json",
            },
            # The read timeout must outlast the server's wait, or every quiet wait is an error.
            timeout=httpx.Timeout(wait + READ_MARGIN_S, connect=self.timeout.connect or 10.0),
            verify=self.verify,
            transport=self.live_transport,
            follow_redirects=False,
        )

    async def wait_for_changes(self, wait: float = LIVE_WAIT_S) -> LiveResult:
        """Ask the server to answer when something this device can see changes, or after
        `wait` seconds; apply what comes. Cancelling the task ends the request at once."""
        state, token = await asyncio.to_thread(self._live_setup)
        if not state.central_url or token is None or not state.device_bound:
            return LiveResult("not_configured", "sync is not set up or not bound yet")
        since = state.cursor
        started = time.monotonic()
        params: dict[str, Any] = {"since": since, "limit": self.page_size, "wait": f"{wait:g}"}
        try:
            async with self._live_client(state.central_url, token, wait) as http:
                response = await http.get("/sync/pull", params=params)
        except httpx.TransportError as exc:
            return await self._live_failed(
                LiveResult(
                    "offline", f"{type(exc).__name__}: {exc}"[:300], elapsed_s=_since(started)
                )
            )
        elapsed = _since(started)
        if response.status_code != 200:
            code, message = self._detail(response)
            text = f"HTTP {response.status_code}" + (f" {code}" if code else "")
            text += f": {message}" if message else ""
            return await self._live_failed(
                LiveResult("refused", text[:300], status=response.status_code, elapsed_s=elapsed)
            )
        try:
            data = response.json()
            cursor, has_more = int(data["cursor"]), bool(data["has_more"])
            empty = not has_more and not any(
                data.get(k) for k in ("events", "sessions", "closures", "roster", "kb")
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return await self._live_failed(
                LiveResult(
                    "refused",
                    f"not a pull page: {type(exc).__name__}",
                    status=200,
                    elapsed_s=elapsed,
                )
            )
        if empty:
            await asyncio.to_thread(self._live_contact, cursor)
            if elapsed < wait * EARLY_SHARE:
                return await self._live_failed(
                    LiveResult(
                        "early", f"answered in {elapsed:.1f} s without waiting", elapsed_s=elapsed
                    )
                )
            return LiveResult("quiet", elapsed_s=elapsed)
        data["_ms"] = int(elapsed * 1000)
        report = await asyncio.to_thread(self._live_apply, data)
        return LiveResult(
            "changed",
            elapsed_s=elapsed,
            pulled=report.pulled + report.rows_pulled,
            has_more=has_more,
            changed_tickets=set(report.changed_tickets),
            calendar_changed=report.calendar_changed,
        )

    # ---- the blocking parts, run in a thread

    def _live_setup(self) -> tuple[SyncState, str | None]:
        return self.state(), self.token()

    def _live_apply(self, data: dict[str, Any]) -> SyncReport:
        from classroom_support.sync import SyncReport

        report = SyncReport()
        self._apply_page(data, report, step="live")
        self._live_contact(None)
        return report

    async def _live_failed(self, result: LiveResult) -> LiveResult:
        """One line in the sync log; the caller falls back to the periodic sync."""
        await asyncio.to_thread(self._live_log, result)
        return result

    def _live_log(self, result: LiveResult) -> None:
        with self.db.write() as s:
            self._log(
                s,
                "live",
                result.outcome,
                duration_ms=int(result.elapsed_s * 1000),
                detail=result.message,
            )

    def _live_contact(self, cursor: int | None) -> None:
        """The server answered: the desk is current as of now (the header's "synced" time).
        An empty page's cursor is the server's head: nothing up to it is for this device."""
        now: datetime = self.clock.now()
        with self.db.write() as s:
            state = s.get(SyncState, 1) or SyncState(id=1)
            if cursor is not None:
                state.cursor = max(state.cursor, cursor)
            if state.last_result in ("ok", "parked"):
                state.last_success_at = now
                state.last_attempt_at = now
            s.add(state)


def _since(started: float) -> float:
    return time.monotonic() - started
