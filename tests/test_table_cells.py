"""`widgets.table.Table` lays out one-line Content cells itself (the queue's first frame paid
Rich's padding and alignment for each): every cell must come out as DataTable's own Rich path
draws it, character for character and style for style, in both directions, under the cursor,
the hover cursor and the zebra stripes, in the header and in fixed rows and columns."""

from __future__ import annotations

from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.content import Content
from textual.dom import DOMNode
from textual.geometry import Region
from textual.widgets import DataTable

from classroom_support import i18n
from classroom_support.widgets.sla_cell import STATE_STYLES
from classroom_support.widgets.table import Table
from classroom_support.widgets.text import data_text, fit_text

CELLS: list[Content | str | None] = [
    Content("T-0042"),
    data_text("الطابعة لا تعمل"),
    Content.styled("▲2 ⚠-3h 05m", STATE_STYLES["breached"]),
    Content.styled("✓ met", STATE_STYLES["met"]),
    Content(""),
    Content.from_markup("[b]bold[/b] and [i]italic[/i] [on red]bg[/]"),
    fit_text("A very long title that has to be cut to its column", 12),
    Content("宽字符"),
    "plain [b]markup[/b] string",  # not Content: DataTable's own path
    None,
]
WIDTHS = (8, 12, 14, 6, 5, 12, 12, 7, 10, 4)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Table(id="t", cursor_type="row", zebra_stripes=True, fixed_rows=1, fixed_columns=1)


def per_cell(lines: list[list[Segment]]) -> list[list[tuple[str, Style | None]]]:
    """Each character with its final style: segment boundaries do not show on screen."""
    return [[(ch, seg.style) for seg in line for ch in seg.text] for line in lines]


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("cursor_type", ["row", "cell"])
async def test_content_cells_render_as_datatable_does(language: str, cursor_type: str) -> None:
    i18n.set_language(language)
    i18n.set_arabic_display("reshape")
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(Table)
        assert table.mirrored == (language == "ar")
        table.cursor_type = cursor_type
        for index, width in enumerate(WIDTHS):
            table.add_column(fit_text(f"col {index}", width), key=f"c{index}", width=width)
        for row in range(6):
            table.add_row(*CELLS[row % 3 :], *CELLS[: row % 3], key=f"r{row}")
        table.move_cursor(row=2, column=1)
        table.hover_coordinate = table.cursor_coordinate.right()
        await pilot.pause()
        base = table.rich_style

        def uncached(
            render: Any, row: int, column: int, width: int, cursor: bool, hover: bool
        ) -> Any:
            table._cell_render_cache.clear()
            return render(table, row, column, base, width, cursor=cursor, hover=hover)

        compared = 0
        for row_index in range(-1, table.row_count):
            for column_index, column in enumerate(table.ordered_columns):
                for cursor in (False, True):
                    for hover in (False, True):
                        width = column.get_render_width(table)
                        fast, slow = (
                            uncached(render, row_index, column_index, width, cursor, hover)
                            for render in (Table._render_cell, DataTable._render_cell)
                        )
                        assert per_cell(fast) == per_cell(slow), (row_index, column_index)
                        compared += 1
        assert compared == 7 * 10 * 4
        # The fast path was taken for the Content cells (a str cell still goes through Rich).
        table._cell_render_cache.clear()
        taken = {
            (row_index, column_index)
            for row_index in range(table.row_count)
            for column_index, column in enumerate(table.ordered_columns)
            if table._content_cell(
                row_index, column_index, base, column.get_render_width(table), False, False
            )
            is not None
        }
        # Every Content cell that fits its column, and every empty cell (DataTable's own
        # blank Text); a str cell and a Content wider than its column go through Rich.
        fits = {
            (row_index, table.get_column_index(key))
            for row_index in range(table.row_count)
            for key, column in table.columns.items()
            if (cell := table.get_cell_at((row_index, table.get_column_index(key)))) is None
            or (isinstance(cell, Content) and cell.cell_length <= column.width)
        }
        assert taken == fits
        assert len(fits) >= 3 * table.row_count


async def test_fixed_width_columns_are_not_measured() -> None:
    """Columns with a set width draw at that width whatever the cells hold; the table's
    virtual size is the same as DataTable's."""
    i18n.set_language("en")
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(Table)
        for index, width in enumerate(WIDTHS[:4]):
            table.add_column(f"c{index}", key=f"c{index}", width=width)
        for row in range(30):
            table.add_row("a", "twelve chars", Content("fourteen chars"), "x" * 20, key=f"r{row}")
        await pilot.pause()
        assert table.virtual_size.width == sum(w + 2 for w in WIDTHS[:4])
        assert table.virtual_size.height == 31
        # Measured for their labels ("c0": 2 cells) when added, never for the cells after.
        assert [c.content_width for c in table.columns.values()] == [2, 2, 2, 2]
        # An auto-width column is measured as before.
        table.add_column("auto", key="auto")
        table.add_row("a", "b", "c", "d", "twelve chars", key="last")
        await pilot.pause()
        assert table.columns["auto"].content_width == len("twelve chars")


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_a_frame_reads_each_component_style_once_and_draws_the_same(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a frame is drawn, a component's styles are worked out once for all its lines
    (`Table.get_component_styles`): the lines are the same as with DataTable's own lookup,
    and outside a frame the lookup is DataTable's."""
    i18n.set_language(language)
    i18n.set_arabic_display("reshape")
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(Table)
        for index, width in enumerate(WIDTHS):
            table.add_column(fit_text(f"col {index}", width), key=f"c{index}", width=width)
        for row in range(12):
            table.add_row(*CELLS[row % 3 :], *CELLS[: row % 3], key=f"r{row}")
        table.move_cursor(row=3)
        await pilot.pause()
        crop = Region(0, 0, table.size.width, table.size.height)
        looked_up: list[tuple[str, ...]] = []
        lookup = DOMNode.get_component_styles

        def counted(node: DOMNode, *names: str) -> Any:
            looked_up.append(names)
            return lookup(node, *names)

        def frame() -> list[list[tuple[str, Style | None]]]:
            for cache in (table._row_render_cache, table._cell_render_cache, table._line_cache):
                cache.clear()
            table._styles_cache.clear()
            return per_cell([list(strip) for strip in table.render_lines(crop)])

        monkeypatch.setattr(DOMNode, "get_component_styles", counted)
        drawn = frame()
        once = len(looked_up)
        assert table._components_this_frame is None
        assert len(set(looked_up)) == once  # each component once in the frame
        monkeypatch.setattr(Table, "get_component_styles", counted)
        looked_up.clear()
        assert frame() == drawn  # DataTable's own lookup, for every line
        assert len(looked_up) > 2 * once
        # Outside a frame every attribute of the styles is there, as DataTable gives them.
        monkeypatch.undo()
        header = table.get_component_styles("datatable--header")
        assert header.rich_style == lookup(table, "datatable--header").rich_style
        assert header.text_opacity == 1.0
