"""F1: what this screen is for, its keys (as remapped), and where to get help."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from classroom_support.i18n import tr
from classroom_support.screens.base import AppModal
from classroom_support.widgets import data_text, paragraph_text


class HelpScreen(AppModal[None]):
    BINDINGS = [
        Binding("escape,f1", "close", "key.back", id="close-help"),
    ]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        config = self.app.ctx.config  # type: ignore[attr-defined]
        lines = [tr("help.intro"), "", tr("help.keys")]
        seen: set[str] = set()
        for active in self.under.active_bindings.values():
            binding = active.binding
            # Only the product's own keys (they all carry an id); not widgets' cursor keys.
            if not binding.id or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            lines.append(f"  {self.app.get_key_display(binding):>8}  {tr(binding.description)}")
        # Enter is the tables' and dialogs' own key, not a binding of the screen: say it too.
        lines.append(f"  {'Enter':>8}  {tr('help.enter')}")  # a key's name, as on the keyboard
        lines += ["", tr("help.palette"), tr("help.remap"), ""]
        hours = ", ".join(
            f"{w.start_minute // 60:02d}:{w.start_minute % 60:02d}–"
            f"{w.end_minute // 60:02d}:{w.end_minute % 60:02d}"
            for w in config.weekly_windows
        )
        lines.append(
            tr(
                "help.contact",
                phone=config.phone,
                whatsapp=config.whatsapp,
                email=config.email,
                hours=hours,
            )
        )
        lines += ["", tr("help.close")]
        with VerticalScroll(classes="prompt", id="help-body"):
            yield Static(data_text(tr("help.title")), classes="prompt-title")
            yield Static(paragraph_text("\n".join(lines)), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
