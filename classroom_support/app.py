"""The Textual app: wiring, app-wide keys, command palette, language and theme. Kept thin."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from classroom_support import i18n
from classroom_support.context import AppContext
from classroom_support.i18n import tr, ui
from classroom_support.monitor import MonitorResult
from classroom_support.screens.queue import QueueScreen
from classroom_support.widgets import data_text


def styles_dir() -> Path:
    """styles/ ships in the wheel as classroom_support/styles; in a checkout it is at the root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "styles", here.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    raise FileNotFoundError("styles/app.tcss is missing from this installation")


class ClassroomSupportApp(App[None]):
    CSS_PATH = [styles_dir() / "app.tcss"]
    TITLE = "classroom-support"
    BINDINGS = [
        Binding("f1", "help", "key.help", id="help"),
        Binding("f9", "toggle_language", "key.language", id="toggle-language"),
        Binding("ctrl+q", "quit", "key.quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        ctx: AppContext,
        *,
        cursor_blink: bool = True,
        start: str = "queue",
        monitor: bool = True,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.cursor_blink = cursor_blink
        # The SLA monitor job (tests and snapshots turn it off and step the clock instead).
        self.monitor = monitor
        self.scheduler: Any = None
        # "queue", or "trainee"/"kiosk": the QR screens on top of the queue (Esc goes back).
        self.start = start

    @on(events.DescendantFocus)
    def _steady_cursor(self, event: events.DescendantFocus) -> None:
        # Tests and snapshots need a cursor that does not blink.
        if not self.cursor_blink and isinstance(event.widget, Input):
            event.widget.cursor_blink = False

    def on_mount(self) -> None:
        theme = self.ctx.config.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(f"Unknown theme {theme!r}; using {self.theme}", severity="warning")
        if self.ctx.config.keymap:
            self.set_keymap(self.ctx.config.keymap)
        self.set_class(i18n.is_rtl(), "-rtl")
        self.ctx.sla.listeners.append(self.on_calendar_result)
        self.push_screen(QueueScreen())
        if self.monitor:
            self.call_after_refresh(self.start_monitor)
        if self.start in ("trainee", "kiosk"):
            from classroom_support.screens.trainee_qr import KioskScreen, TraineeScreen

            self.push_screen(KioskScreen() if self.start == "kiosk" else TraineeScreen())

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
        self.scheduler.start()

    def on_unmount(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)

    async def check_sla(self) -> MonitorResult:
        result = await asyncio.to_thread(self.ctx.sla.run, notify=False)
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

    def refresh_queue(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                screen.reload()

    def action_help(self) -> None:
        from classroom_support.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_toggle_language(self) -> None:
        i18n.set_language("en" if i18n.language() == "ar" else "ar")
        self.set_class(i18n.is_rtl(), "-rtl")
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
