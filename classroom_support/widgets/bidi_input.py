"""A single-line field that shows mixed Arabic and Latin text the way it is read.

When the app shapes Arabic itself (`i18n.app_shapes_arabic`: the terminal has no bidi), the
field draws `bidi_map.visual_line` of its value: letters joined, runs in visual order, brackets
mirrored. The value stays in logical (typed) order and every edit (typing, paste, Backspace,
Delete) works on it as in Textual's Input; only drawing and the visual keys change: Left and
Right move one cell on screen, Home and End go to the logical start and end, a click lands on
the cell clicked, and a selection (a logical range) is drawn on exactly the cells it holds,
which in mixed text need not touch. In the Arabic interface the field is right-aligned.

With `arabic_display = "terminal"` (or a password) this is Textual's Input unchanged.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widgets import Input
from textual.widgets._input import Selection

from classroom_support.bidi_map import VisualLine, has_rtl, visual_line
from classroom_support.i18n import app_shapes_arabic, is_rtl
from classroom_support.textsafe import visible_in_place


class BidiInput(Input):
    """Textual's Input, drawn in visual order when the terminal cannot reorder Arabic."""

    @property
    def bidi(self) -> bool:
        """Whether the field draws its own visual order (else Textual's logical drawing)."""
        if self.password or not app_shapes_arabic():
            return False
        return is_rtl() or has_rtl(self.value)

    def visual(self) -> VisualLine:
        """The cells showing the value, left to right (controls shown as stand-ins)."""
        return visual_line(visible_in_place(self.value))

    def _widths(self, line: VisualLine) -> list[int]:
        return [max(1, cell_len(cell.text)) for cell in line.cells]

    def _pad(self, width: int) -> int:
        """Blank cells before the text: the Arabic interface aligns fields right."""
        if not is_rtl():
            return 0
        return max(0, self.scrollable_content_region.width - width)

    @property
    def content_width(self) -> int:
        if not self.bidi or (self.placeholder and not self.value):
            return super().content_width
        return sum(self._widths(self.visual()))

    @property
    def _cursor_offset(self) -> int:
        if not self.bidi:
            return super()._cursor_offset
        line = self.visual()
        widths = self._widths(line)
        return self._pad(sum(widths)) + sum(widths[: line.slot_of(self.cursor_position)])

    def _cell_offset_to_index(self, offset: int) -> int:
        if not self.bidi:
            return super()._cell_offset_to_index(offset)
        line = self.visual()
        widths = self._widths(line)
        x = offset + self.scroll_offset.x - self._pad(sum(widths))
        left = 0
        for slot, width in enumerate(widths):
            if x < left + width:
                return line.position_of(slot)
            left += width
        return line.position_of(len(widths) - 1)

    def action_cursor_left(self, select: bool = False) -> None:
        if not self.bidi:
            super().action_cursor_left(select)
            return
        self._move_visually(-1, select)

    def action_cursor_right(self, select: bool = False) -> None:
        if not self.bidi or (self.cursor_at_end and self._suggestion):
            super().action_cursor_right(select)
            return
        self._move_visually(1, select)

    def _move_visually(self, step: int, select: bool) -> None:
        line = self.visual()
        start, end = self.selection
        if select:
            self.selection = Selection(start, line.moved(end, step))
        elif self.selection.is_empty:
            self.cursor_position = line.moved(end, step)
        else:
            # Leave the selection on the side the arrow points to.
            ends = sorted((start, end), key=line.slot_of)
            self.cursor_position = ends[0] if step < 0 else ends[-1]

    def action_cursor_left_word(self, select: bool = False) -> None:
        # In a right-to-left line the next word is to the left.
        if self.bidi and self.visual().rtl:
            super().action_cursor_right_word(select)
        else:
            super().action_cursor_left_word(select)

    def action_cursor_right_word(self, select: bool = False) -> None:
        if self.bidi and self.visual().rtl:
            super().action_cursor_left_word(select)
        else:
            super().action_cursor_right_word(select)

    def render_line(self, y: int) -> Strip:
        if y != 0 or not self.bidi:
            return super().render_line(y)
        width = self.scrollable_content_region.width
        cursor_shown = self.has_focus and self._cursor_visible
        cursor_style = self.get_component_rich_style("input--cursor")
        if not self.value:
            shown = Text(self.placeholder, end="")
            shown.stylize(self.get_component_rich_style("input--placeholder"))
            if cursor_shown:  # on the placeholder's first character, at its right
                shown = shown or Text(" ", end="")
                shown.stylize(cursor_style, len(shown) - 1, len(shown))
        else:
            shown = self._visual_text(cursor_shown, cursor_style)
        pad = self._pad(shown.cell_len) if is_rtl() else 0
        shown = Text(" " * pad, end="") + shown
        segments = self.app.console.render(
            shown, self.app.console_options.update_width(max(shown.cell_len, 1))
        )
        scroll_x = self.scroll_offset.x
        strip = Strip(list(segments)).crop(scroll_x, scroll_x + width + 1)
        return strip.extend_cell_length(width + 1).apply_style(self.rich_style)

    def _visual_text(self, cursor_shown: bool, cursor_style: Style) -> Text:
        line = self.visual()
        start, end = sorted(self.selection)
        selection_style = self.get_component_rich_style("input--selection")
        cursor_slot = line.slot_of(self.cursor_position)
        shown = Text(no_wrap=True, overflow="ignore", end="")
        for slot, cell in enumerate(line.cells):
            text = cell.text if cell_len(cell.text) else cell.text + " "
            style: Style | str = ""
            if self.has_focus and cell.start < end and start < cell.end:
                style = selection_style
            if cursor_shown and slot == cursor_slot:
                style = cursor_style
            shown.append(text, style)
        return shown
