"""The single-line field of every form: keys and pastes that arrive together are not lost.

Textual forwards each key to the widget focused *when the app reads it* and a field's Tab
(a non-priority binding) only moves focus once the key has bubbled back up, so in a burst
("CCC", Tab, "DDD" in one read from a fast typist or an SSH link) the keys after Tab are
already queued for the old field. Here Tab, Shift+Tab and Enter are priority bindings of the
field itself: they run while the app reads the burst, so the next keys go to the field that
now has focus; the field's editing keys (arrows, Home, Backspace) likewise run in turn with
the typed characters. A paste containing Tab or newlines is split across the following fields, as if
typed; when there are not enough text fields after this one the whole paste is refused with
a message (the clipboard still holds it) rather than merged or cut.

Text is data: format characters (ZWJ in emoji, bidi marks and overrides) typed or pasted are
kept, since Textual's Input only inserts characters Python calls printable. The field shows
the value through `textsafe.visible_in_place` (a pasted ESC sequence must not reach the
terminal); that transform never feeds back into the value. Where the app shapes Arabic, the
field is drawn in visual order (`BidiInput`).
"""

from __future__ import annotations

import re
import unicodedata

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding

from classroom_support.i18n import ui
from classroom_support.textsafe import visible_in_place
from classroom_support.widgets.bidi_input import BidiInput

# A field separator inside a paste, as the keys Tab and Enter would be.
_SEPARATOR = re.compile("\r\n|[\t\r\n]")


class FormInput(BidiInput):
    """`enter_submits`: Enter posts Submitted (the form saves); otherwise it moves on."""

    BINDINGS = [
        Binding("tab", "next_field", show=False, priority=True),
        Binding("shift+tab", "previous_field", show=False, priority=True),
        Binding("enter", "enter", show=False, priority=True),
    ]

    def __init__(self, *args: object, enter_submits: bool = False, **kwargs: object) -> None:
        # Tab into a filled field keeps its text: a key typed next adds, it never replaces.
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.enter_submits = enter_submits

    def action_next_field(self) -> None:
        self.screen.focus_next()

    def action_previous_field(self) -> None:
        self.screen.focus_previous()

    async def action_enter(self) -> None:
        if self.enter_submits:
            await self.action_submit()
        else:
            self.screen.focus_next()

    async def _on_key(self, event: events.Key) -> None:
        character = event.character
        if (
            character is not None
            and len(character) == 1
            and not event.is_printable
            and unicodedata.category(character) == "Cf"
        ):
            event.stop()
            event.prevent_default()
            self._put(character)
            return
        if not event.is_printable:
            # The field's own keys (arrows, Home, Backspace…) are otherwise bindings run only
            # after the key bubbles up to the app, by when the next keys of a burst have been
            # typed in here: "ab" Left "X" came out "abX". Run them in turn instead.
            for binding in self._bindings.key_to_bindings.get(event.key, []):
                if not binding.priority:
                    event.stop()
                    event.prevent_default()
                    await self.run_action(binding.action)
                    return
        await super()._on_key(event)

    @property
    def _value(self) -> Text:
        # The value is kept verbatim, but a pasted ESC sequence must not reach the terminal
        # (it would recolour or move the screen) nor an RTL override reorder the field.
        if self.password:
            return super()._value
        text = Text(visible_in_place(self.value), no_wrap=True, overflow="ignore", end="")
        return self.highlighter(text) if self.highlighter is not None else text

    def _position_to_cell(self, position: int) -> int:
        return cell_len(visible_in_place(self.value[:position]))

    def _put(self, text: str) -> None:
        if self.selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *self.selection)

    def following_fields(self) -> list[FormInput]:
        """The text fields that Tab would reach next, in order, up to the first other widget."""
        chain = self.screen.focus_chain
        fields: list[FormInput] = []
        if self not in chain:
            return fields
        for widget in chain[chain.index(self) + 1 :]:
            if not isinstance(widget, FormInput):
                break
            fields.append(widget)
        return fields

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        if not event.text:
            return
        pieces = _SEPARATOR.split(event.text)
        if len(pieces) == 1:
            self._put(event.text)
            return
        fields = self.following_fields()
        moves = len(pieces) - 1
        # A trailing separator only moves on, as a typed Tab or Enter would, to any widget.
        needed = moves - 1 if pieces[-1] == "" else moves
        if len(fields) < needed:
            self.app.bell()
            self.app.notify(
                ui("form.paste_refused", pieces=len(pieces), fields=len(fields) + 1),
                severity="warning",
                markup=False,
            )
            return
        self._put(pieces[0])
        for field, piece in zip(fields, pieces[1:], strict=False):
            field.cursor_position = len(field.value)
            field.insert_text_at_cursor(piece)
        if moves <= len(fields):
            self.screen.set_focus(fields[moves - 1])
        else:
            self.screen.set_focus(fields[-1] if fields else self)
            self.screen.focus_next()
