"""An Arabic paragraph that takes several rows begins on its first row, at the right: it is
wrapped in logical order at the width it is drawn at, then each row is shaped on its own
(`widgets.paragraph`). Read from what the screen holds, at 80×24. Textual wrapping the shaped
line would put the paragraph's last words on the first row."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from qr_screen import screen_cells, screen_text

from classroom_support import i18n
from classroom_support.app import ClassroomSupportApp
from classroom_support.i18n import display
from classroom_support.widgets.paragraph import LogicalParagraph, wrap_logical, wrap_shaped


@pytest.fixture
def shaped() -> Iterator[None]:
    i18n.set_arabic_display("reshape")
    yield
    i18n.set_arabic_display("auto")


def row_of(app: ClassroomSupportApp, words: str) -> tuple[int, str]:
    """(the screen row holding `words` as shown, that row)."""
    shown = display(words)
    lines = screen_text(screen_cells(app)).split("\n")
    for n, line in enumerate(lines):
        if shown in line:
            return n, line
    raise AssertionError(f"{words!r} is not on the screen:\n" + "\n".join(lines))


def assert_reads_from_the_first_row(app: ClassroomSupportApp, first: str, last: str) -> None:
    first_row, line = row_of(app, first)
    last_row, _ = row_of(app, last)
    assert first_row < last_row, (first_row, last_row)
    # The paragraph starts at the right of its row, as Arabic does.
    start = line.index(display(first))
    assert start > len(line.rstrip()) // 2, line


async def test_the_help_body_begins_on_its_first_row_in_arabic(
    make_app: Callable[..., ClassroomSupportApp], shaped: None
) -> None:
    app = make_app(language="ar", demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert_reads_from_the_first_row(app, "سجّل مشكلة المتدرب", "ويبقى في السجل")


async def test_the_sync_setup_hint_begins_on_its_first_row_in_arabic(
    make_app: Callable[..., ClassroomSupportApp], shaped: None
) -> None:
    app = make_app(language="ar", demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        await pilot.press("u")
        await pilot.pause()
        assert_reads_from_the_first_row(app, "الحقل التالي", "مقروءًا لك وحدك")


def test_wrapping_keeps_logical_order_and_line_breaks() -> None:
    text = "واحد اثنان ثلاثة أربعة\n\nخمسة"
    assert wrap_logical(text, 11).split("\n") == ["واحد اثنان", "ثلاثة أربعة", "", "خمسة"]
    assert wrap_shaped(text, 11) == ["واحد اثنان", "ثلاثة أربعة", "", "خمسة"]
    # Measured as shown: lam-alef is one cell, so "للإلغاء" (7 letters) takes 6.
    assert wrap_shaped("Esc للإلغاء", 10) == ["Esc للإلغاء"]


def test_a_paragraph_is_data_not_markup(shaped: None) -> None:
    i18n.set_language("ar")
    try:
        paragraph = LogicalParagraph("[bold]نص[/bold] عادي")
        assert "[bold]" in paragraph.content(40).plain
    finally:
        i18n.set_language("en")
    english = LogicalParagraph("[red]plain[/red] text")
    assert english.content(5).plain == "[red]plain[/red] text"  # Textual wraps it as it is


async def test_the_queue_count_survives_at_80_columns_in_arabic(
    make_app: Callable[..., ClassroomSupportApp], shaped: None
) -> None:
    app = make_app(language="ar", demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        total = app.screen.page.total  # type: ignore[attr-defined]
        _, line = row_of(app, f"1–{min(total, 50)} من {total}")
        # The filters gave way: cut with an ellipsis, the count whole at the line's end.
        assert "…" in line, line


@pytest.mark.parametrize(("language", "code_on_the_right"), [("ar", True), ("en", False)])
async def test_the_compact_qr_layout_puts_the_code_first_from_the_reading_side(
    make_app: Callable[..., ClassroomSupportApp],
    shaped: None,
    language: str,
    code_on_the_right: bool,
) -> None:
    from classroom_support.widgets.qr_code import QRCode

    app = make_app(language=language, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        code = app.screen.query(QRCode).first()
        side = app.screen.query(".qr-side").first()
        assert (code.region.x > side.region.x) is code_on_the_right, (code.region, side.region)
