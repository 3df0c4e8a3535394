"""Pick one of a few options with a single digit key — faster than a dropdown for a technician."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from classroom_support.i18n import mirrored, ui


class KeyChoice(Widget, can_focus=True):
    """A row of `[1] Label [2] Label …`; digits pick, ←/→ move. `value` is the chosen option."""

    BINDINGS = [
        Binding("left", "move(-1)", show=False),
        Binding("right", "move(1)", show=False),
        # Priority, so a burst's keys after Tab reach the next field (see FormInput).
        Binding("tab", "next_field", show=False, priority=True),
        Binding("shift+tab", "previous_field", show=False, priority=True),
    ]

    def action_next_field(self) -> None:
        self.screen.focus_next()

    def action_previous_field(self) -> None:
        self.screen.focus_previous()

    value: reactive[str] = reactive("", layout=True)

    @dataclass
    class Changed(Message):
        choice: KeyChoice
        value: str

        @property
        def control(self) -> KeyChoice:
            return self.choice

    @dataclass
    class Picked(Message):
        """A digit was pressed: posted even when it names the option already chosen (a
        one-digit dialog closes on it; `Changed` alone would not come)."""

        choice: KeyChoice
        value: str

        @property
        def control(self) -> KeyChoice:
            return self.choice

    def __init__(
        self,
        options: tuple[str, ...],
        label_prefix: str,
        value: str | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.options = options
        self.label_prefix = label_prefix
        self.set_reactive(KeyChoice.value, value or options[0])

    def render(self) -> Content:
        options: list[list[Content | tuple[str, str] | str]] = []
        for index, option in enumerate(self.options, start=1):
            # No-break spaces: a line may wrap between options, never inside one (a wrapped
            # right-to-left label would come out in the wrong order).
            label = ui(f"{self.label_prefix}.{option}").replace(" ", "\u00a0")
            chosen = option == self.value
            key_style = "bold reverse" if chosen else "bold"
            number = (f"{index}", key_style)
            style = "bold underline" if chosen else ""
            if mirrored():
                options.append([(f"{label}\u00a0", style), number])
            else:
                options.append([number, (f"\u00a0{label}", style)])
        if not mirrored():
            return Content.assemble(*[p for parts in options for p in [*parts, "   "]])
        return self.from_the_right(options)

    def from_the_right(self, options: list[list[Content | tuple[str, str] | str]]) -> Content:
        """Read from the right: the first option at the right of the first line, each option's
        number right of its label. Lines are filled in reading order, then each is laid out
        from the right (Textual would wrap a reversed line from the wrong end)."""
        width = max(1, self.size.width or self.app.size.width)
        lines: list[list[list[Content | tuple[str, str] | str]]] = [[]]
        used = 0
        for parts in options:
            need = sum(len(p if isinstance(p, str) else p[0]) for p in parts) + 3
            if lines[-1] and used + need - 3 > width:
                lines.append([])
                used = 0
            lines[-1].append(parts)
            used += need
        rows = []
        for line in lines:
            row: list[Content | tuple[str, str] | str] = []
            for parts in reversed(line):
                row += ["   " if row else "", *parts]
            rows.append(Content.assemble(*row))
        return Content("\n").join(rows)

    def on_key(self, event: events.Key) -> None:
        key = event.key
        if key.isdigit() and 1 <= int(key) <= len(self.options):
            self.value = self.options[int(key) - 1]
            self.post_message(self.Picked(self, self.value))
            event.stop()
            event.prevent_default()

    def action_move(self, step: int) -> None:
        index = (self.options.index(self.value) + step) % len(self.options)
        self.value = self.options[index]

    def watch_value(self, value: str) -> None:
        self.post_message(self.Changed(self, value))
