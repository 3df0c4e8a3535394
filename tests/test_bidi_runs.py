"""Mixed lines built from runs (`bidi_runs`): in Arabic each piece stays whole and in place,
read from the right, and brackets pair; in English nothing changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import arabic_reshaper
import pytest
from bidi.algorithm import get_display
from textual.widgets import Static

from classroom_support import i18n
from classroom_support.app import ClassroomSupportApp
from classroom_support.bidi_runs import CONTROLS, compose_runs, fill, isolate
from classroom_support.i18n import display
from classroom_support.screens.ticket_form import NewTicketScreen
from classroom_support.sessions import SessionDraft

MIXED = "Excel المتقدم — Advanced Excel"


@pytest.fixture
def shaped() -> Iterator[None]:
    i18n.set_arabic_display("reshape")
    yield
    i18n.set_arabic_display("auto")


def ltr(text: str) -> str:
    """How a run whose first strong letter is Latin reads on its own (left to right)."""
    return get_display(arabic_reshaper.reshape(text), base_dir="L")


def test_english_lines_are_the_plain_text() -> None:
    assert compose_runs(["Hall A101", "Advanced Excel"], rtl=False) == "Hall A101 · Advanced Excel"
    assert fill("{a} ({b})", {"a": "x", "b": 1}, rtl=False) == "x (1)"


def test_values_are_made_visible_before_they_are_wrapped() -> None:
    line = compose_runs(["القاعة", "A\u202eB"], rtl=True)
    assert "<U+202E>" in line and "\u202e" not in line


def test_the_new_ticket_context_reads_from_the_right(shaped: None) -> None:
    i18n.set_language("ar")
    try:
        values = {
            "hall": i18n.tr("header.hall", hall="A101"),
            "session": MIXED,
            "time": "2026-12-01 12:24",
            "channel": i18n.tr("channel.in_hall"),
        }
        shown = display(i18n.tr_runs("form.context", **values))
    finally:
        i18n.set_language("en")
    pieces = [
        display("القاعة A101"),
        ltr(MIXED),
        "2026-12-01 12:24",
        display("القناة: داخل القاعة"),
    ]
    assert shown == " · ".join(reversed(pieces))
    assert not any(c in shown for c in CONTROLS)


def test_a_latin_name_with_brackets_keeps_them_paired(shaped: None) -> None:
    line = display(
        fill(
            "منعقدة الآن: {course} (حتى {end})",
            {"course": "Python (Beginners)", "end": "21:00"},
            rtl=True,
        )
    )
    assert line == f"(21:00 {display('حتى')}) Python (Beginners) {display('منعقدة الآن:')}"
    mixed = display(fill("{c}", {"c": "Python للمبتدئين (Beginners)"}, rtl=True))
    assert mixed.endswith("(Beginners)"), mixed


def test_an_arabic_run_pairs_its_brackets_around_latin(shaped: None) -> None:
    shown = display("\u200f" + isolate("دورة (Advanced Excel)", rtl=True))
    assert shown == f"(Advanced Excel) {display('دورة')}"


async def test_the_form_header_keeps_its_order_on_screen(
    make_app: Callable[..., ClassroomSupportApp], shaped: None
) -> None:
    app = make_app(language="ar")
    now = app.ctx.clock.now().astimezone(app.ctx.config.zone)
    start = (now.replace(minute=0) if now.minute else now).strftime("%H:%M")
    app.ctx.sessions.add(SessionDraft(MIXED, "Omar", f"{now:%Y-%m-%d}", start, "23:59"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewTicketScreen)
        shown = str(app.screen.query_one("#form-context", Static).render())
    pieces = [
        display(f"القاعة {app.ctx.config.hall}"),
        ltr(MIXED),
        f"{now:%Y-%m-%d %H:%M}",
        display("القناة: داخل القاعة"),
    ]
    assert shown.strip() == " · ".join(reversed(pieces))
