"""A table that reads from the right in Arabic.

When the app lays the screen out from the right (`i18n.mirrored()`: Arabic, shaped by the app),
a `Table` shows its columns in reverse order — the first one declared (a queue's Ref) at the
right edge — with headers and cells right-aligned and the columns against the right edge.
Screens declare columns and add rows in their logical order either way; cells are looked up by
key as before. In English, and with `arabic_display = "terminal"`, it is a plain DataTable.
"""

from __future__ import annotations

from rich.align import Align
from rich.text import TextType
from textual._two_way_dict import TwoWayDict
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import CellType, ColumnKey, RowKey, RowRenderables

from classroom_support.i18n import mirrored


class Table(DataTable[object]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        # Fixed for the table's life: a language switch recomposes the screen.
        self.mirrored = mirrored()

    def add_column(
        self,
        label: TextType,
        *,
        width: int | None = None,
        key: str | None = None,
        default: CellType | None = None,
    ) -> ColumnKey:
        column_key = super().add_column(label, width=width, key=key, default=default)
        if self.mirrored:
            # Each new column goes to the left of those declared before it.
            old = self._column_locations
            places = {k: (old.get(k) or 0) + 1 for k in old if k != column_key}
            places[column_key] = 0
            self._column_locations = TwoWayDict(places)
        return column_key

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: TextType | None = None,
    ) -> RowKey:
        if self.mirrored:
            padded = list(cells) + [None] * (len(self.columns) - len(cells))
            cells = tuple(reversed(padded))
        return super().add_row(*cells, height=height, key=key, label=label)

    def _compute_row_renderables(self, row_index: int) -> RowRenderables:
        computed = super()._compute_row_renderables(row_index)
        if not self.mirrored:
            return computed
        return RowRenderables(computed.label, [Align.right(cell) for cell in computed.cells])

    def render_line(self, y: int) -> Strip:
        if not self.mirrored:
            return super().render_line(y)
        # Within the scrollbar: DataTable draws `size.width` cells, the scrollbar on top.
        used, width = self.virtual_size.width, self.scrollable_content_region.width
        if used <= width:
            # The columns against the right edge: the room they leave goes to the left.
            strip = super().render_line(y).crop(0, used)
            return Strip.join([Strip.blank(width - used, self.rich_style), strip])
        # Wider than the widget: the right end (the first columns) shows, as the left end
        # does in English; a horizontal scroll moves towards the last columns, on the left.
        keys = [self._row_locations.get_key(i) for i in range(self.fixed_rows)]
        fixed = sum(self.get_row_height(key) for key in keys if key is not None)
        if self.show_header:
            fixed += self.get_row_height(self._header_row_key)
        if y >= fixed:
            y += self.scroll_y
        start = max(0, used - width - self.scroll_x)
        return self._render_line(y, start, start + width, self.rich_style)
