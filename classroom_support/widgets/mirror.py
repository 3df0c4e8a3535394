"""`layout: horizontal-rtl`: a row laid out from the right, for CSS keyed on the `-rtl` class.

The app sets `-rtl` when it lays the screen out from the right (`i18n.mirrored()`), and
styles/app.tcss (the header) and styles/screens.tcss (a form's label and field, the ticket's
two field columns) give the rows that should read from the right this layout: the same row
as Textual's `horizontal`, its first child at the right. Focus order stays the DOM's (the
label's field first, as read). Textual looks layouts up by name when it parses CSS, so the
name is registered on import (`classroom_support.widgets` imports this module before the
app's stylesheet is read).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.layout import ArrangeResult
from textual.layouts.factory import LAYOUT_MAP
from textual.layouts.horizontal import HorizontalLayout
from textual.widget import Widget

NAME = "horizontal-rtl"


class HorizontalRtlLayout(HorizontalLayout):
    name = NAME

    def arrange(
        self, parent: Widget, children: list[Widget], size: Size, greedy: bool = True
    ) -> ArrangeResult:
        return super().arrange(parent, list(reversed(children)), size, greedy)


LAYOUT_MAP.setdefault(NAME, HorizontalRtlLayout)
