"""In Arabic the screen is laid out from the right, read from what the screen holds (the
compositor's lines, as Textual writes them to the terminal): the queue's Ref column is the
rightmost, form labels sit right of their fields, the header and footer start at the right.
English keeps its layout, and with `arabic_display = "terminal"` the terminal decides."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from qr_screen import screen_cells, screen_text
from textual.widgets import DataTable, Static

from classroom_support import i18n
from classroom_support.app import ClassroomSupportApp
from classroom_support.i18n import display
from classroom_support.widgets.table import Table

SIZES = [(120, 36), (80, 24)]


@pytest.fixture
def shaped() -> Iterator[None]:
    i18n.set_arabic_display("reshape")
    yield
    i18n.set_arabic_display("auto")


def lines_of(app: ClassroomSupportApp) -> list[str]:
    return screen_text(screen_cells(app)).split("\n")


def first_row(app: ClassroomSupportApp) -> tuple[str, str]:
    """(the first ticket's ref, its row on the screen without the scrollbar)."""
    table = app.screen.query_one("#queue", DataTable)
    ref = str(table.coordinate_to_cell_key((0, 0)).row_key.value)
    row = next(line for line in lines_of(app) if f" {ref} " in f"{line} ")
    return ref, row.rstrip(" ▇▁▔▆▅▄▃▂")


@pytest.mark.parametrize("size", SIZES)
async def test_the_ref_column_is_the_rightmost_in_arabic(
    make_app: Callable[..., ClassroomSupportApp], shaped: None, size: tuple[int, int]
) -> None:
    app = make_app(language="ar", demo=True)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        ref, row = first_row(app)
        header = next(line for line in lines_of(app) if display("المرجع") in line)
    # The ref ends the row, against the scrollbar; its header heads the column on the right.
    assert row.endswith(f" {ref}"), row
    assert row.index(ref) > size[0] * 3 // 4
    assert header.rstrip(" ▇▁").endswith(display("المرجع")), header


async def test_english_keeps_the_ref_column_on_the_left(
    make_app: Callable[..., ClassroomSupportApp], shaped: None
) -> None:
    app = make_app(language="en", demo=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        ref, row = first_row(app)
    assert row.startswith(f" {ref} "), row


async def test_form_labels_sit_right_of_their_fields(
    make_app: Callable[..., ClassroomSupportApp], shaped: None
) -> None:
    app = make_app(language="ar", demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        label = app.screen.query_one("#row-title .field-label")
        field = app.screen.query_one("#title")
        assert label.region.x > field.region.right - 1
        row = next(line for line in lines_of(app) if display("المشكلة") in line)
    assert row.rstrip().endswith(display("المشكلة *"))


async def test_dialog_labels_sit_right_of_their_fields(
    make_app: Callable[..., ClassroomSupportApp], shaped: None
) -> None:
    app = make_app(language="ar", demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c", "a")
        await pilot.pause()
        for row in app.screen.query(".form-row"):
            label, field = row.query_one(".field-label"), row.children[-1]
            assert label.region.x >= field.region.right, row


async def test_header_and_footer_start_at_the_right(
    make_app: Callable[..., ClassroomSupportApp], shaped: None
) -> None:
    app = make_app(language="ar", demo=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        hall = app.screen.query_one("#header-hall", Static)
        sync = app.screen.query_one("#header-sync", Static)
        assert hall.region.right == app.size.width and sync.region.x == 0
        for _ in range(50):  # the footer fits its keys after the first layout
            lines = lines_of(app)
            if lines[-1].strip():
                break
            await pilot.pause()
    # The footer's first key ("n" for a new ticket) is the rightmost, its label to its left.
    assert lines[-1].rstrip().endswith(f"{display('جديدة')} n")


async def test_the_terminal_decides_when_it_does_bidi(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    try:
        app = make_app(language="ar", demo=True, config='[ui]\narabic_display = "terminal"\n')
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            assert not app.has_class("-rtl")
            assert not app.screen.query_one("#queue", Table).mirrored
    finally:
        i18n.set_arabic_display("auto")


async def test_the_search_box_at_80x24_in_arabic_scrolls_the_table_from_the_right(
    make_app: Callable[..., ClassroomSupportApp], shaped: None
) -> None:
    """Opening the search box takes rows from the table, which then needs its scrollbar: its
    columns are wider than what is left, and the right end (the Ref) must still show. Textual's
    horizontal scroll is a float; drawing from it raised TypeError and closed the app."""
    app = make_app(language="ar", demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        table = app.screen.query_one("#queue", Table)
        assert table.virtual_size.width > table.scrollable_content_region.width
        ref, row = first_row(app)
        assert row.endswith(f" {ref}"), row
        await pilot.press("left", "left")  # scrolled towards the last columns, on the left
        await pilot.pause()
        assert app.is_running
        assert lines_of(app)
