"""A table that reads from the right in Arabic.

When the app lays the screen out from the right (`i18n.mirrored()`: Arabic, shaped by the app),
a `Table` shows its columns in reverse order — the first one declared (a queue's Ref) at the
right edge — with headers and cells right-aligned and the columns against the right edge.
Screens declare columns and add rows in their logical order either way; cells are looked up by
key as before. In English, and with `arabic_display = "terminal"`, it is a plain DataTable.

Two costs of DataTable that a table of fixed-width columns does not need are left out (the
queue's first frame paid them for every cell): measuring every new row's cells (only a column
sized to its content uses the measure), and drawing a one-line `Content` cell through Rich's
padding, alignment and cropping — it is laid out here directly, with the same characters and
styles (`tests/test_table_cells.py` holds the two ways equal).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.align import Align
from rich.segment import Segment
from rich.style import Style
from rich.text import Text, TextType
from textual._two_way_dict import TwoWayDict
from textual.content import Content
from textual.css.styles import RenderStyles
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style as ContentStyle
from textual.widgets import DataTable
from textual.widgets._data_table import CellType, ColumnKey, RowKey, RowRenderables

from classroom_support.i18n import mirrored

EMPTY = Content("")
NO_STYLE = ContentStyle()


class _FrameComponent:
    """A component's styles while one frame is drawn, read only: their Rich style worked out
    once (each read of `RenderStyles.rich_style` walks the ancestors' styles again), anything
    else read from the styles themselves."""

    __slots__ = ("_styles", "rich_style")

    def __init__(self, styles: RenderStyles) -> None:
        self._styles = styles
        self.rich_style = styles.rich_style

    def __getattr__(self, name: str) -> object:
        return getattr(self._styles, name)


class Table(DataTable[object]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        # Fixed for the table's life: a language switch recomposes the screen.
        self.mirrored = mirrored()
        self._style_this_frame: Style | None = None  # while render_lines draws a frame
        self._components_this_frame: dict[tuple[str, ...], _FrameComponent] | None = None

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

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Every column has its width set (add_column(width=...)): the cells' measures would
        # not be used. Rows with a label or an automatic height still go the whole way.
        if any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)
            return
        rows = self.rows
        measured = [
            key
            for key in new_rows
            if key in rows and (rows[key].label is not None or rows[key].auto_height)
        ]
        super()._update_dimensions(measured)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        lines = self._content_cell(row_index, column_index, base_style, width, cursor, hover)
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return lines

    def _content_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]] | None:
        """A one-line `Content` cell laid out as DataTable's Rich path lays it out (padding,
        then the text on the left, or on the right when mirrored, then the rest blank; the
        cell's styles around each piece), cached as it caches; None for any other cell."""
        if column_index < 0 or row_index < -1:
            return None
        header = row_index == -1
        if header:
            row_key = self._header_row_key
            if self.header_height != 1:
                return None
        else:
            row_key = self._row_locations.get_key(row_index)
            row = self.rows.get(row_key) if row_key is not None else None
            if row is None or row.height != 1:
                return None
        column_key = self._column_locations.get_key(column_index)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        cells = self._get_row_renderables(row_index).cells
        if column_index >= len(cells):
            return None
        cell = cells[column_index]
        right = False
        if isinstance(cell, Align):
            if cell.align != "right" or cell.style is not None:
                return None
            right, cell = True, cell.renderable
        if isinstance(cell, Text) and not cell.plain and not cell.style and not cell.spans:
            cell = EMPTY  # what DataTable puts for an empty cell (an empty Content is falsy)
        if not isinstance(cell, Content) or "\n" in cell.plain:
            return None
        pad = self.cell_padding
        room = width - 2 * pad - cell.cell_length
        if room < 0:
            return None  # cut by Rich (wide characters at the edge): its own way
        fixed = not header and (row_index < self.fixed_rows or column_index < self.fixed_columns)
        component_style, post_style = self._get_styles_to_render_cell(
            header,
            False,
            fixed,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index})
        pre += component_style
        blank = pre + post_style if post_style else pre
        line: list[Segment] = []
        if right and room:
            line.append(Segment(" " * (pad + room), blank))
        elif pad:
            line.append(Segment(" " * pad, blank))
        # A Content without spans renders as its text in one unstyled segment: made here
        # without the generator and the styles render_segments builds for it (most cells).
        pieces = cell.render_segments(NO_STYLE) if cell.spans else [Segment(cell.plain)]
        for text, style, control in pieces:
            if control:
                return None
            styled = pre + style if style is not None else pre
            if post_style:
                styled = styled + post_style if styled else post_style
            line.append(Segment(text, styled))
        if not right and room:
            line.append(Segment(" " * (room + pad), blank))
        elif pad:
            line.append(Segment(" " * pad, blank))
        lines = [line]
        self._cell_render_cache[cache_key] = lines
        return lines

    def render_lines(self, crop: Region) -> list[Strip]:
        # DOMNode.rich_style walks the ancestors' styles, and DataTable asks for it several
        # times for every line: one frame's lines share one. So do its component styles
        # (the header's and the stripes', read for every line: each a new RenderStyles and
        # another walk).
        self._style_this_frame = super().rich_style
        self._components_this_frame = {}
        try:
            return super().render_lines(crop)
        finally:
            self._style_this_frame = None
            self._components_this_frame = None

    def get_component_styles(self, *names: str) -> RenderStyles:
        frame = self._components_this_frame
        if frame is None:
            return super().get_component_styles(*names)
        found = frame.get(names)
        if found is None:
            found = frame[names] = _FrameComponent(super().get_component_styles(*names))
        return found  # type: ignore[return-value]

    @property
    def rich_style(self) -> Style:
        style = self._style_this_frame
        return super().rich_style if style is None else style

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
        # Whole cells (`scroll_offset`, as DataTable reads it): scroll_x and scroll_y are
        # floats, and a float cut position raised TypeError in Rich.
        scroll_x, scroll_y = self.scroll_offset
        keys = [self._row_locations.get_key(i) for i in range(self.fixed_rows)]
        fixed = sum(self.get_row_height(key) for key in keys if key is not None)
        if self.show_header:
            fixed += self.get_row_height(self._header_row_key)
        if y >= fixed:
            y += scroll_y
        start = max(0, used - width - scroll_x)
        return self._render_line(y, start, start + width, self.rich_style)
