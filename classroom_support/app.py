"""The Textual app: wiring, app-wide keys, command palette, language and theme. Kept thin."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from classroom_support import i18n
from classroom_support.context import AppContext
from classroom_support.i18n import tr, ui
from classroom_support.screens.queue import QueueScreen


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

    def __init__(self, ctx: AppContext, *, cursor_blink: bool = True) -> None:
        super().__init__()
        self.ctx = ctx
        self.cursor_blink = cursor_blink

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
        self.push_screen(QueueScreen())

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
