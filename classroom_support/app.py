"""The Textual app: wiring, app-wide keys, command palette, language and theme. Kept thin."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from classroom_support import heap, i18n
from classroom_support.app_calendar import CalendarRecompute
from classroom_support.app_start import FirstFrameStart, is_ready
from classroom_support.app_sync import LiveUpdates
from classroom_support.i18n import tr, ui
from classroom_support.screens.queue import QueueScreen
from classroom_support.stylesheets import app_css
from classroom_support.widgets import data_text, paste_parser

if TYPE_CHECKING:  # loaded after the first frame (first_frame.py), or by the caller
    from textual.driver import Driver

    from classroom_support.context import AppContext
    from classroom_support.first_frame import FirstFrameContext
    from classroom_support.monitor import MonitorResult
    from classroom_support.sync import SyncReport
    from classroom_support.sync_status import SyncStatus

SYNC_INTERVAL_S = 60  # scheduled sync; after failures the client's backoff decides
FIRST_SYNC_S = 5  # the first scheduled run, after start-up
IDLE_COLLECT_CHECK_S = 1.0  # how often to look for a quiet moment to collect garbage (heap.py)


class ClassroomSupportApp(FirstFrameStart, LiveUpdates, CalendarRecompute, App[None]):
    CSS_PATH = app_css()  # the other screens' rules load with them (screens.tcss)
    TITLE = "classroom-support"
    BINDINGS = [
        Binding("f1", "help", "key.help", id="help"),
        Binding("f9", "toggle_language", "key.language", id="toggle-language"),
        Binding("ctrl+q", "quit", "key.quit", id="quit", priority=True),
        # Sync: F5 now (sets it up first if needed), F6 the sync log. Not in the footer
        # (help and the command palette list them).
        Binding("f5", "sync_now", "key.sync", id="sync-now", show=False),
        Binding("f6", "sync_log", "key.sync_log", id="sync-log", show=False),
    ]

    def __init__(
        self,
        ctx: AppContext | FirstFrameContext,
        *,
        cursor_blink: bool = True,
        start: str = "queue",
        monitor: bool = True,
        open_context: Callable[[], AppContext] | None = None,
        manage_heap: bool = False,
    ) -> None:
        """`ctx` is the open context, or (with `open_context`, which opens the real one) the
        first frame's stand-in: the app paints the queue from it, opens the real context in a
        worker after the first frame, then swaps it in (`desk_ready`). Keys and clicks that come
        meanwhile wait and are handled, in order, once it is in. `manage_heap`: the process is
        this app's (the command line), so it takes over the garbage collector's timing
        (heap.py); tests run many apps in one process and leave it alone."""
        # Pasted text reaches the forms verbatim (escape sequences and NUL included).
        paste_parser.install()
        super().__init__()
        self.ctx: Any = ctx
        self.open_context = open_context
        self.held_input: list[events.Event] | None = None if is_ready(ctx) else []
        self.start_error: Exception | None = None  # the real context could not be opened
        self.cursor_blink = cursor_blink
        # The SLA monitor job (tests and snapshots turn it off and step the clock instead).
        self.monitor = monitor
        self.scheduler: Any = None
        # "queue", or "trainee"/"kiosk": the QR screens on top of the queue (Esc goes back).
        self.start = start
        # Sync with the central server: a thread worker runs the (blocking, httpx) client.
        self.sync_client: Any = None
        if is_ready(ctx):
            self.sync_client = self._make_sync_client(ctx)
        self.sync_progress: tuple[str, int, int] | None = None
        self.sync_interval: float = SYNC_INTERVAL_S  # the periodic sync; live waits in between
        self._sync_status: tuple[float, SyncStatus | None] = (0.0, None)
        self._storage_trouble: str | None = None  # last StorageError kind the monitor hit
        self.manage_heap = manage_heap
        self._heap_settled_after_monitor = False
        self.last_input = time.monotonic()  # a key or a click (app_start.on_event)

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        if driver.__name__ == "LinuxDriver":  # a closed terminal's SIGCONT: terminal_driver.py
            from classroom_support.terminal_driver import HangupSafeDriver

            return HangupSafeDriver
        return driver

    @on(events.DescendantFocus)
    def _steady_cursor(self, event: events.DescendantFocus) -> None:
        # Tests and snapshots need a cursor that does not blink.
        if not self.cursor_blink and isinstance(event.widget, Input):
            event.widget.cursor_blink = False

    def _make_sync_client(self, ctx: AppContext) -> Any:
        from classroom_support.sync import SyncClient

        return SyncClient(ctx.db, ctx.config, ctx.clock, on_device_change=self._device_changed)

    def on_mount(self) -> None:
        theme = self.ctx.config.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(f"Unknown theme {theme!r}; using {self.theme}", severity="warning")
        if self.ctx.config.keymap:
            self.set_keymap(self.ctx.config.keymap)
        self.set_class(i18n.mirrored(), "-rtl")
        self.push_screen(QueueScreen())
        self.offer_kept_draft()
        if is_ready(self.ctx):
            self.wire_context()
        # else the queue, once painted, calls open_real_context (app_start.py)
        if self.start in ("trainee", "kiosk"):
            from classroom_support.screens.trainee_qr import KioskScreen, TraineeScreen

            self.push_screen(KioskScreen() if self.start == "kiosk" else TraineeScreen())
        if not self.is_headless:
            self.exit_on_hangup(True)

    def wire_context(self) -> None:
        """What the real context adds to the screen: listeners, the monitor and sync."""
        self.ctx.sla.listeners.append(self.on_calendar_result)
        self.ctx.desk.after_change = self.local_change  # send a change up soon after it
        # A calendar edit's recompute runs after the save, in steps between frames
        # (app_calendar.py): the notice and the queue's deadlines follow when it is done.
        recompute = self.ctx.sla.calendar_changed
        for book in (self.ctx.sessions, self.ctx.closures):
            book.on_change[:] = [
                self.calendar_edited if listener == recompute else listener
                for listener in book.on_change
            ]
        if self.monitor:
            self.call_after_refresh(self.start_monitor)
        if self.manage_heap:
            heap.release()  # already, when the first frame came from plain sqlite3
            heap.configure()
            self.call_after_refresh(heap.settle)  # what start-up built stays
            self.set_interval(IDLE_COLLECT_CHECK_S, self.collect_when_idle)

    def collect_when_idle(self) -> None:
        heap.collect_when_idle(time.monotonic() - self.last_input)

    def offer_kept_draft(self) -> None:
        """A ticket typed but never saved (the app was killed, or the disk refused it)."""
        from classroom_support.drafts import TicketDraftFile, local_time

        kept = TicketDraftFile(self.ctx.db.path).load()
        if kept is not None:
            when = local_time(kept["saved_at"], self.ctx.config.zone)
            self.notify(data_text(tr("app.draft_waiting", time=when)), timeout=20)

    # ------------------------------------------------------------------ SLA monitoring

    def start_monitor(self) -> None:
        """Every 30 s and at start-up; after a sleep the missed runs coalesce into one."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.add_job(
            self.check_sla,
            "interval",
            seconds=30,
            id="sla-monitor",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
        )
        self.scheduler.add_job(
            self.scheduled_sync,
            "interval",
            seconds=self.sync_interval,
            id="sync",
            next_run_time=datetime.now(UTC) + timedelta(seconds=FIRST_SYNC_S),
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
        )
        self.scheduler.start()

    def on_unmount(self) -> None:
        if not self.is_headless:
            self.exit_on_hangup(False)
        self.ctx.desk.after_change = None
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)

    # ------------------------------------------------------------------ sync

    def _device_changed(self) -> None:
        self.ctx.desk._device = None  # the server assigned another reference prefix

    def sync_status(self) -> SyncStatus | None:
        """For the header (asked every second by every header): read at most every 2 s, and
        again at once after a sync run or a progress step."""
        if self.sync_client is None:
            return self.ctx.frame.sync  # before the real context: read with the first page
        at, status = self._sync_status
        now = time.monotonic()
        if status is None or now - at >= 2.0:
            status = self.sync_client.status()
            self._sync_status = (now, status)
        return status

    def scheduled_sync(self) -> None:
        if self.sync_client.is_configured():
            self.start_sync(manual=False)

    def action_sync_now(self) -> None:
        if not self.sync_client.is_configured():
            from classroom_support.screens.sync_log import SyncSetupScreen

            self.push_screen(SyncSetupScreen(), lambda done: self.start_sync() if done else None)
            return
        self.start_sync(manual=True)

    def action_sync_log(self) -> None:
        from classroom_support.screens.sync_log import SyncLogScreen

        if not isinstance(self.screen, SyncLogScreen):
            self.push_screen(SyncLogScreen())

    def start_sync(self, manual: bool = True) -> None:
        """One sync run in an exclusive thread worker; a second request while one runs waits
        for the next turn instead of starting another."""
        if any(w.group == "sync" and w.is_running for w in self.workers):
            if manual:
                self.notify(ui("sync.already_running"))
            return
        self.sync_progress = ("push", 0, 0) if manual else None
        self.run_worker(
            partial(self._sync_in_thread, manual),
            name="sync",
            group="sync",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _sync_in_thread(self, manual: bool) -> SyncReport:
        def progress(phase: str, done: int, total: int) -> None:
            self.call_from_thread(self._show_progress, phase, done, total)

        report = self.sync_client.sync(progress, manual=manual)
        self.call_from_thread(self.sync_finished, report, manual)
        return report

    def _show_progress(self, phase: str, done: int, total: int) -> None:
        self.sync_progress = (phase, done, total)
        self._sync_status = (0.0, self._sync_status[1])
        self.refresh_headers()

    def sync_finished(self, report: SyncReport, manual: bool) -> None:
        self.sync_progress = None
        self.show_pulled(report.calendar_changed, bool(report.changed_tickets or report.pulled))
        if report.online:
            self.start_live()  # and keep a waiting pull open until something fails
        self.sync_again_if_asked()
        if report.outcome in ("waiting", "running"):
            return
        counts = {"pushed": report.pushed, "pulled": report.pulled, "parked": report.parked_total}
        if report.outcome in ("ok", "parked"):
            if manual or report.parked:
                key = "sync.done_parked" if report.parked_total else "sync.done"
                severity = "warning" if report.parked_total else "information"
                self.notify(data_text(tr(key, **counts)), severity=severity)
        elif manual or report.outcome in ("unauthorized", "conflict", "error"):
            severity = "warning" if report.exit_code == 3 else "error"
            self.notify(
                data_text(tr(f"sync.failed.{report.exit_code}", reason=report.message[:200])),
                severity=severity,
                timeout=10,
            )

    def show_pulled(self, calendar_changed: bool, changed: bool) -> None:
        """After a run or a live page: redraw what the pulled changes touch."""
        self._sync_status = (0.0, None)
        if calendar_changed:
            self.calendar_edited(None)  # courses or holidays came down: deadlines move
        if changed:
            self.tell_routed()  # before the redraw: told once, then only marked new
            self.refresh_queue()
        self.reload_sync_log()
        self.refresh_headers()

    def reload_sync_log(self) -> None:
        for screen in self.screen_stack:
            if screen.__class__.__name__ == "SyncLogScreen":
                screen.reload()  # type: ignore[attr-defined]

    @on(Worker.StateChanged)
    def _sync_worker_failed(self, event: Worker.StateChanged) -> None:
        # The client reports failures in its result; an exception here is a bug: say so,
        # keep the app running (exit_on_error=False), and let the next run try again.
        if event.worker.group == "calendar" and event.state == WorkerState.ERROR:
            # The edit is saved; only the recompute failed (the disk, most likely): the next
            # monitor run computes the deadlines again.
            self.notify(data_text(str(event.worker.error)[:200]), severity="error", timeout=15)
            return
        if event.worker.group not in ("sync", "live") or event.state != WorkerState.ERROR:
            return
        from classroom_support.sync import LiveResult

        if event.worker.group == "sync":
            self.sync_progress = None
        else:
            self.live_failed(LiveResult("error", str(event.worker.error)[:300]))
        self.notify(
            data_text(tr("sync.crashed", error=str(event.worker.error)[:200])),
            severity="error",
        )

    def refresh_headers(self) -> None:
        from classroom_support.widgets.header import HallHeader

        for header in self.screen.query(HallHeader):
            header.refresh_header()

    async def check_sla(self) -> MonitorResult:
        from classroom_support.db import StorageError
        from classroom_support.monitor import MonitorResult

        try:
            result = await asyncio.to_thread(self.ctx.sla.run, notify=False)
        except StorageError as exc:
            # The disk refused the SLA records; the next run records them. Say so once per
            # kind of trouble, not every 30 s, and keep the desk running.
            if self._storage_trouble != exc.kind:
                self._storage_trouble = exc.kind
                self.notify(data_text(str(exc)), severity="error", timeout=15)
            return MonitorResult()
        self._storage_trouble = None
        if self.manage_heap and not self._heap_settled_after_monitor:
            self._heap_settled_after_monitor = True
            heap.settle()  # the first run's wake-up and deadline tables stay
        self.announce(result)
        return result

    def announce(self, result: MonitorResult) -> None:
        """New warnings and escalations: a toast each and the terminal bell, once."""
        if not result.alerts:
            return
        ladder = self.ctx.config.escalation
        arabic = i18n.language() == "ar"
        for alert in result.alerts:
            if alert.kind == "escalated":
                step = ladder[min(alert.level, len(ladder) - 1)]
                text = tr(
                    "alert.escalated",
                    ref=alert.ref,
                    step=step.name_ar if arabic and step.name_ar else step.name,
                )
            else:
                text = tr(f"alert.{alert.kind}", ref=alert.ref, clock=tr(f"clock.{alert.clock}"))
            severity = "warning" if alert.kind == "sla_warning" else "error"
            self.notify(data_text(text), severity=severity, timeout=15)
        self.bell()
        self.refresh_queue()

    def refresh_queue(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                screen.reload()

    def typed_draft(self) -> bool:
        """True when a form or prompt on the stack holds typed text that quitting would drop."""
        from textual.screen import ModalScreen
        from textual.widgets import Input, TextArea

        from classroom_support.screens.prompts import ConfirmPrompt
        from classroom_support.screens.ticket_form import NewTicketScreen

        for screen in self.screen_stack:
            if isinstance(screen, ConfirmPrompt) or not isinstance(
                screen, (ModalScreen, NewTicketScreen)
            ):
                continue
            if any(w.value.strip() for w in screen.query(Input)):
                return True
            if any(w.text.strip() for w in screen.query(TextArea)):
                return True
        return False

    async def action_quit(self) -> None:
        """Ctrl+Q asks first when typed text would be lost; a second Ctrl+Q quits."""
        from classroom_support.screens.prompts import ConfirmPrompt

        if isinstance(self.screen, ConfirmPrompt) or not self.typed_draft():
            self.exit()
            return

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.exit()

        self.push_screen(ConfirmPrompt(tr("app.quit_with_draft"), yes=tr("key.quit")), answered)

    def action_help(self) -> None:
        from classroom_support.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_toggle_language(self) -> None:
        i18n.set_language("en" if i18n.language() == "ar" else "ar")
        self.set_class(i18n.mirrored(), "-rtl")
        for screen in self.screen_stack:
            if isinstance(screen, Screen) and screen.is_attached and screen.id != "_default":
                await screen.recompose()
        self.notify(ui("lang.switched"))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # Every binding of the current screen and the app, named in the current language.
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            namespace = active.node

            def run(action: str = binding.action, node: object = namespace) -> None:
                self.call_later(self.run_action, action, node)

            label = tr(binding.description)
            key = self.get_key_display(binding)
            yield SystemCommand(label, f"{label} ({key})", run)
        yield from super().get_system_commands(screen)
