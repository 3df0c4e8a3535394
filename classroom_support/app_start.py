"""Start-up from the first frame: the queue is painted from plain `sqlite3` (first_frame.py);
the real context (the ORM, the SLA monitor's service, the desk) opens in a worker thread after
that frame and is swapped in, and keys and clicks that come meanwhile wait and are handled, in
order, once it is in. Mixed into `ClassroomSupportApp` (app.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events

from classroom_support import heap

if TYPE_CHECKING:
    from textual.app import App

    from classroom_support.context import AppContext

    _Base = App[None]
else:
    _Base = object

HANGUP_SIGNALS = (signal.SIGHUP, signal.SIGTERM)  # FirstFrameStart.exit_on_hangup


def is_ready(ctx: object) -> bool:
    """False for the first frame's stand-in (first_frame.FirstFrameContext)."""
    return bool(getattr(ctx, "ready", True))


class FirstFrameStart(_Base):
    """The first-frame half of the app's start (on_mount is in app.py)."""

    ctx: Any
    open_context: Callable[[], AppContext] | None
    held_input: list[events.Event] | None
    manage_heap: bool
    start_error: Exception | None
    sync_client: Any
    _sync_status: tuple[float, Any]
    # provided by app.py
    _make_sync_client: Callable[[AppContext], Any]
    wire_context: Callable[[], None]
    refresh_headers: Callable[[], None]

    def on_ready(self) -> None:
        """Textual's start-up batch is over. A frame drawn inside it is never sent (the queue
        screen draws none there: `QueueScreen._compositor_refresh`), and the compositor sends
        only what changed after a frame: the first frame sent once held the header and footer,
        and the rows came a frame later. The whole screen marked for a repaint makes the first
        frame sent the whole queue, drawn once. The real context opens once that frame is
        out: the thread that imports the ORM holds the GIL for much of its time, and opened
        before it, it slowed the frame down."""
        if is_ready(self.ctx) or self.open_context is None:
            return
        self.screen._dirty_widgets.add(self.screen)
        self.call_after_refresh(self.after_first_frame)

    def after_first_frame(self) -> None:
        """The first frame is out: the queue's rows it left out go in, the desk opens."""
        from classroom_support.screens.queue import QueueScreen

        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                screen.add_pending_rows()
        self.open_real_context()

    def open_real_context(self) -> None:
        if self.manage_heap:
            heap.release()  # the first frame is out (cli.cmd_tui held the collector)
        self.run_worker(
            self._open_in_thread,
            name="open-desk",
            group="open-desk",
            thread=True,
            exit_on_error=False,
        )

    def _open_in_thread(self) -> None:
        assert self.open_context is not None
        try:
            ctx = self.open_context()
        except Exception as exc:
            self.call_from_thread(self._open_failed, exc)
            return
        self.call_from_thread(self.desk_ready, ctx)

    def _open_failed(self, exc: Exception) -> None:
        self.start_error = exc
        self.exit(return_code=2)

    def desk_ready(self, ctx: AppContext) -> None:
        """The real context is open: swap it in, reload the queue through it (the same page, so
        nothing moves on screen), start the monitor and sync, then handle the held input."""
        if not self.is_running:
            ctx.close()
            return
        self.ctx = ctx
        self.sync_client = self._make_sync_client(ctx)
        self._sync_status = (0.0, None)
        self.wire_context()
        from classroom_support.screens.queue import QueueScreen

        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen) and screen.page is not None:
                screen.seen_generation = ctx.db.watcher().generation
                screen.reload()
        self.refresh_headers()
        held, self.held_input = self.held_input or [], None
        for event in held:
            self.post_message(event)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseEvent)):
            self.last_input = time.monotonic()  # not idle: heap.py waits for a quiet moment
        # Until the real context is in, keys and clicks wait (in order); see __init__.
        if (
            self.held_input is not None
            and isinstance(event, (events.Key, events.MouseEvent))
            and not isinstance(event, events.MouseMove)
            and not event.is_forwarded
        ):
            self.held_input.append(event)
            return
        await super().on_event(event)

    def exit_on_hangup(self, on: bool) -> None:
        """The terminal closed (SIGHUP) or the session is ending (SIGTERM): exit as Ctrl+Q does,
        so the caller closes the database and SQLite folds its -wal back in. Killed instead,
        the app would leave the -wal with frames, and the next start would verify it on a copy
        (db_files) instead of painting from the first frame. On in a terminal (app.py)."""
        loop = asyncio.get_running_loop()
        for number in HANGUP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                if on:
                    loop.add_signal_handler(number, self.exit)
                else:
                    loop.remove_signal_handler(number)
