"""Calendar edits in the TUI: deadlines recomputed without holding up the screen. Mixed into
`ClassroomSupportApp`; the recompute itself is headless (`due_recompute`, `monitor`).

- A session or closure saved at this desk can only move deadlines at or after the earliest
  instant it touched. That recompute starts a moment after the save (the frame showing it is
  painted first) and runs on the event loop in steps of a few milliseconds
  (`DueRecompute.step`), so frames are painted and keys handled between them. It is not a
  worker thread: a thread computing beside the UI thread made both wait for the GIL, and on a
  busy machine a frame then waited hundreds of milliseconds.
- Edits saved while one is being recomputed are gathered: the next job starts from the
  earliest instant any of them touched, after the current one has applied its deadlines.
- A sync that brought calendar rows recomputes every open ticket (seconds at 20,000 open
  tickets): that runs in a worker thread, as the monitor's runs do.
- When the deadline tables are held by a monitor run (a worker thread), the loop does not wait
  for the lock: it looks again a little later.
- When the result is in, tickets whose deadline moved earlier are named in a notice (with the
  bell) and the queue is redrawn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from classroom_support.i18n import tr
from classroom_support.widgets import data_text

if TYPE_CHECKING:
    from textual.app import App

    from classroom_support.context import AppContext
    from classroom_support.monitor import MonitorResult

    _Base = App[None]
else:
    _Base = object

STEP_BUDGET_S = 0.002  # work per step before the loop gets a turn (at least one chunk)
# Between steps the loop waits this long rather than only yielding (sleep(0)): measured,
# only a real wait let the screen paint between steps (bench/edit_frames.py).
STEP_PAUSE_S = 0.002
FIRST_STEP_DELAY_S = 0.08  # after the save: the frames that show the closed form come first
BUSY_RETRY_S = 0.02  # a monitor run holds the tables: look again this much later
T = TypeVar("T")


class CalendarRecompute(_Base):
    ctx: AppContext
    _edit_since: datetime | None = None  # the earliest instant edits not yet recomputed touched
    _edits_running = False

    def calendar_edited(self, since: datetime | None = None) -> None:
        """A session or closure changed (here or by sync): recompute what it can move."""
        if since is None:
            self.run_worker(
                partial(self._recompute_in_thread, None),
                name="calendar",
                group="calendar",
                thread=True,
                exit_on_error=False,
            )
            return
        pending = self._edit_since
        self._edit_since = since if pending is None else min(pending, since)
        if not self._edits_running:
            self._edits_running = True
            self.run_worker(
                self._recompute_edits(), name="calendar-edit", group="calendar", exit_on_error=False
            )

    def _recompute_in_thread(self, since: datetime | None) -> MonitorResult:
        result = self.ctx.sla.calendar_changed(since, notify=False)
        self.call_from_thread(self.on_calendar_result, result)
        return result

    async def _recompute_edits(self) -> None:
        sla = self.ctx.sla
        try:
            # The frames that show the save first. (Not call_after_refresh: that waits on the
            # current screen, which is the form being closed, and can be dropped with it.)
            await asyncio.sleep(FIRST_STEP_DELAY_S)
            while (since := self._edit_since) is not None:
                self._edit_since = None
                job = await self._when_free(partial(sla.begin_recompute, since, blocking=False))
                if job is None:  # no deadlines known yet: every open ticket, in a thread
                    self.calendar_edited(None)
                    continue
                while not job.step(STEP_BUDGET_S):
                    await asyncio.sleep(STEP_PAUSE_S)
                result = await self._when_free(partial(sla.finish_recompute, job, blocking=False))
                self.on_calendar_result(result)
        finally:
            self._edits_running = False

    async def _when_free(self, call: Callable[[], T]) -> T:
        """`call()`, trying again later while a monitor run holds the deadline tables."""
        from classroom_support.monitor import RecomputeBusy

        while True:
            try:
                return call()
            except RecomputeBusy:
                await asyncio.sleep(BUSY_RETRY_S)

    def on_calendar_result(self, result: MonitorResult) -> None:
        if result.moved_earlier:
            refs = ", ".join(result.moved_earlier[:8])
            self.notify(
                data_text(
                    tr("sla.moved_earlier_toast", count=len(result.moved_earlier), refs=refs)
                ),
                severity="warning",
                timeout=15,
            )
            self.bell()
        self.refresh_queue()

    if TYPE_CHECKING:

        def refresh_queue(self) -> None: ...
