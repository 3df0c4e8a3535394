"""Live updates in the TUI: one waiting pull kept open while online, and a push soon after a
local change. Mixed into `ClassroomSupportApp`; the sync itself is headless (`sync_live`).

- The live wait starts when a sync run ends online and asks again as soon as it is answered,
  so a ticket filed centrally reaches the queue within the server's wake-up time (well under
  a second on PostgreSQL, a quarter of a second more on SQLite), not at the next poll.
- Any failure (offline, an HTTP error, a server that does not wait) ends it: the periodic
  sync carries on with its own backoff, and a sync run is asked for after a backoff of the
  live wait's own (capped exponential with full jitter, so desks do not come back in a herd);
  when that run ends online, the wait starts again.
- An async worker, so quitting cancels the open request at once (a thread blocked in a 25 s
  read would hold up the exit: asyncio joins its executor threads when the app's loop ends).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from classroom_support.i18n import tr

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

    from classroom_support.context import AppContext
    from classroom_support.sync import Backoff, LiveResult, SyncClient

    _Base = App[None]
else:
    _Base = object

LIVE_RETRY_BASE_S = 5.0  # first retry within 0-10 s, doubling up to the cap
LIVE_RETRY_CAP_S = 900.0
PUSH_DELAY_S = 1.0  # a burst of edits (respond, then resolve) goes up in one run
# sync_live.LIVE_WAIT_S (a test checks): written out, as this module is imported before the
# first frame and the sync modules are not (first_frame.py).
LIVE_WAIT_S = 25.0


class LiveUpdates(_Base):
    """The live half of the app's sync wiring (the run worker and the timer are in app.py)."""

    ctx: AppContext
    sync_client: SyncClient
    # provided by app.py
    start_sync: Callable[..., None]
    show_pulled: Callable[[bool, bool], None]
    refresh_headers: Callable[[], None]
    reload_sync_log: Callable[[], None]
    live_wait_s: float = LIVE_WAIT_S
    # False: only the periodic sync and F5, no waiting pull and no push after a change (the
    # tests of the periodic path turn it off to stay deterministic)
    live_enabled: bool = True
    live_failures: int = 0
    live_retry_at: float = 0.0  # time.monotonic() before which the wait is not tried again
    _live_backoff: Backoff | None = None
    _push_timer: Timer | None = None
    _sync_again: bool = False  # a local change came while a run was busy: one more run after

    # ------------------------------------------------------------------ the waiting pull

    def live_running(self) -> bool:
        return any(w.group == "live" and w.is_running for w in self.workers)

    def start_live(self) -> None:
        """After a sync run that ended online: keep one waiting pull open (if not already)."""
        if not self.live_enabled or self.live_running():
            return
        if time.monotonic() < self.live_retry_at:
            return  # it failed recently: the retry timer brings it back
        self.run_worker(
            self._live_loop, name="live", group="live", exclusive=True, exit_on_error=False
        )
        self.call_later(self.reload_sync_log)  # "Live updates: on"

    def stop_live(self) -> None:
        for worker in self.workers:
            if worker.group == "live":
                worker.cancel()

    async def _live_loop(self) -> LiveResult:
        while True:
            result = await self.sync_client.wait_for_changes(self.live_wait_s)
            if not result.ok:
                self.live_failed(result)
                return result
            self.live_failures = 0
            if result.outcome == "changed":
                self.show_pulled(result.calendar_changed, True)
            else:
                self.refresh_headers()  # "synced HH:MM" moved on

    def live_failed(self, result: LiveResult) -> None:
        """The wait ended badly (or its worker crashed): retry it later, after a sync run."""
        if result.outcome == "not_configured":
            return  # the next sync run that ends online starts it
        if self._live_backoff is None:
            from classroom_support.sync import Backoff

            self._live_backoff = Backoff(base=LIVE_RETRY_BASE_S, cap=LIVE_RETRY_CAP_S)
        self.live_failures += 1
        delay = self._live_backoff.delay(self.live_failures)
        self.live_retry_at = time.monotonic() + delay
        # A run (respecting the periodic sync's own backoff) decides whether we are online;
        # if it ends online, `sync_finished` starts the wait again.
        self.set_timer(delay, lambda: self.start_sync(manual=False))
        self.reload_sync_log()

    def live_summary(self) -> str:
        """The sync log's line about live updates (shown while the desk is online)."""
        if not self.live_enabled:
            return ""
        if self.live_running():
            return tr("synclog.live_on")
        wait = self.live_retry_at - time.monotonic()
        if wait > 0:
            return tr("synclog.live_retry", seconds=max(1, round(wait)))
        return tr("synclog.live_off")

    # ------------------------------------------------------------------ routed to this desk

    def tell_routed(self) -> None:
        """A pull brought tickets newly routed to this desk: a toast each (a count past a few)
        and the bell once. Each route event is told once (routed.take_arrivals records it)."""
        from classroom_support.routed import MAX_TOASTS, routed_target, take_arrivals
        from classroom_support.routing import with_text
        from classroom_support.widgets import data_text

        target = routed_target(self.ctx.desk.scope().role)
        arrivals = take_arrivals(self.ctx.db, target, self.ctx.desk.device.device_id)
        if not arrivals:
            return
        if len(arrivals) > MAX_TOASTS:
            desk = with_text(arrivals[-1].ticket)
            self.notify(data_text(tr("routed.arrived_many", count=len(arrivals), desk=desk)))
        else:
            for a in arrivals:
                t = a.ticket
                message = tr("routed.arrived", ref=t.ref, desk=with_text(t), title=t.title)
                self.notify(data_text(message))
        self.bell()

    # ------------------------------------------------------------------ push soon after a change

    def local_change(self, _ref: str) -> None:
        """The desk committed a change: send it up in a moment (`TicketDesk.after_change`)."""
        if threading.get_ident() == self._thread_id:
            self._push_soon()
        else:
            self.call_from_thread(self._push_soon)

    def _push_soon(self) -> None:
        if not self.live_enabled or not self.sync_client.is_configured():
            return
        if self._push_timer is not None:
            self._push_timer.stop()
        self._push_timer = self.set_timer(PUSH_DELAY_S, self._push_now)

    def _push_now(self) -> None:
        self._push_timer = None
        if any(w.group == "sync" and w.is_running for w in self.workers):
            self._sync_again = True  # that run may have read the outbox already
            return
        self.start_sync(manual=False)  # within the periodic backoff it does not even try

    def sync_again_if_asked(self) -> None:
        if self._sync_again:
            self._sync_again = False
            self.start_sync(manual=False)
