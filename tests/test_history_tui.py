"""See everything you wrote: History entries open in full, tickets and holidays can be edited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.models import ClosureRow
from classroom_support.screens.closures import ClosureForm, ClosuresScreen
from classroom_support.screens.history import HistoryEntryScreen, summary
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.screens.ticket_edit import TicketEditForm
from classroom_support.sessions import ClosureDraft
from classroom_support.tickets import TicketDraft

MakeApp = Callable[..., ClassroomSupportApp]

LONG_NOTE = (
    "Replaced the HDMI cable at the lectern, then the projector still showed no signal "
    "until the input was switched by hand; the remote's batteries are flat and a spare pair "
    "was taken from the store room. [bold]not markup[/bold] Trainee at seat 14 asked for the "
    "slides to be shared on the platform as well, which the trainer agreed to do after the "
    "break. Left a note for Level 2 to check the projector's auto-source setting, because "
    "the same fault came back twice this week in this hall. The trainer asked that the "
    "spare projector from hall A102 be kept ready for tomorrow morning's session, and that "
    "someone from facilities look at the ceiling mount, which wobbles when the door closes. "
    "END-OF-NOTE"
)


def entry_text(app: ClassroomSupportApp) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(".entry-text").results(Static))


async def test_a_long_note_opens_in_full_at_80x24(make_app: MakeApp) -> None:
    app = make_app()
    ref = app.ctx.desk.create(TicketDraft(title="Projector shows no signal")).ref
    app.ctx.desk.add_note(ref, LONG_NOTE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, TicketDetailScreen)
        table = app.screen.query_one("#timeline", DataTable)
        row = [str(c) for c in table.get_row_at(1)]
        assert "END-OF-NOTE" not in row[3]  # the row is cut to its column
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, HistoryEntryScreen)
        shown = entry_text(app)
        # Every word, in order (the dialog wraps at its width in logical order).
        assert shown.split() == LONG_NOTE.split()
        assert "[bold]not markup[/bold]" in shown.replace("\n", " ")
        heading = str(app.screen.query_one("#entry-heading", Static).render())
        assert "Note" in heading and "Sami" in heading
        scroll = app.screen.query_one("#entry-scroll", VerticalScroll)
        assert scroll.region.bottom <= 24 and scroll.max_scroll_y > 0  # it scrolls, on screen
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TicketDetailScreen)


async def test_every_field_of_a_created_entry_and_an_empty_one(make_app: MakeApp) -> None:
    app = make_app()
    ref = app.ctx.desk.create(
        TicketDraft(title="Login fails", seat="12", trainee_name="Huda", trainee_contact="0551")
    ).ref
    app.ctx.desk.pause(ref, "")
    app.ctx.desk.resume(ref)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter", "enter")  # the queue row, then the first History row
        await pilot.pause()
        assert isinstance(app.screen, HistoryEntryScreen)
        assert entry_text(app).splitlines() == [
            "Login fails",
            "12",
            "Huda",
            "0551",
            "Other",
            "Normal",
            "In hall",
        ]
        await pilot.press("escape", "down", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, HistoryEntryScreen)
        assert "No details" in str(app.screen.query_one(".entry-text-none", Static).render())


async def test_edit_the_seat_and_history_keeps_the_old_value(make_app: MakeApp) -> None:
    app = make_app()
    ref = app.ctx.desk.create(TicketDraft(title="PC will not boot", seat="12")).ref
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "e")
        await pilot.pause()
        assert isinstance(app.screen, TicketEditForm)
        for name in ("title", "seat", "trainee_name", "trainee_contact"):
            field = app.screen.query_one(f"#{name}", Input)
            assert field.region.bottom <= 24 and field.region.width >= 20, name
        assert app.screen.query_one("#seat", Input).value == "12"
        await pilot.press("tab", "backspace", "backspace", *"14", "tab", *"Huda", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TicketDetailScreen)
        ticket = app.ctx.desk.get(ref)
        assert (ticket.title, ticket.seat, ticket.trainee_name) == (
            "PC will not boot",
            "14",
            "Huda",
        )
        table = app.screen.query_one("#timeline", DataTable)
        last = [str(c) for c in table.get_row_at(table.row_count - 1)]
        assert last[1] == "Edited"
        assert last[3].startswith("Seat / PC: 12 → 14")  # the rest is cut at 80 columns
        assert "Seat / PC: 14" in " ".join(
            str(w.render()) for w in app.screen.query(".detail-field").results(Static)
        )
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, HistoryEntryScreen)
        labels = [str(w.render()) for w in app.screen.query(".entry-label").results(Static)]
        assert labels == [
            "Seat / PC (before):",
            "Seat / PC (after):",
            "Trainee name (before):",
            "Trainee name (after):",
        ]
        assert entry_text(app).splitlines() == ["12", "14", "—", "Huda"]


async def test_an_edit_that_breaks_the_forms_rules_is_refused_in_place(
    make_app: MakeApp,
) -> None:
    app = make_app(language="ar")
    ref = app.ctx.desk.create(TicketDraft(title="لا يعمل جهاز العرض")).ref
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "e")
        await pilot.pause()
        title = app.screen.query_one("#title", Input)
        title.value = "   "
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TicketEditForm)  # still open, the text kept
        assert str(app.screen.query_one("#edit-error", Static).render()) == "المشكلة مطلوب"
        assert app.focused is title
        await pilot.press("escape")
        await pilot.pause()
        assert app.ctx.desk.get(ref).title == "لا يعمل جهاز العرض"
        assert len(app.ctx.desk.history(app.ctx.desk.get(ref).id)) == 1
        # Unchanged values: nothing is written.
        await pilot.press("e", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TicketDetailScreen)
        assert len(app.ctx.desk.history(app.ctx.desk.get(ref).id)) == 1


async def test_edit_a_holiday_and_the_clocks_follow(make_app: MakeApp) -> None:
    app = make_app()
    ctx = app.ctx
    institute_day = ctx.closures.add(ClosureDraft("Institute day", "2026-12-01", ""))
    ticket = ctx.desk.create(TicketDraft(title="Projector dead"))
    due_before = ctx.sla.clocks(ctx.desk.get(ticket.ref), ctx.clock.now()).first_response.due
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c", "h")
        await pilot.pause()
        assert isinstance(app.screen, ClosuresScreen)
        table = app.screen.query_one("#closures", DataTable)
        assert str(table.get_row_at(0)[2]) == "Institute day"
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ClosureForm)
        fields = [app.screen.query_one(f"#{n}", Input) for n in ("name", "start", "end")]
        assert [f.value for f in fields] == ["Institute day", "2026-12-01", "2026-12-01"]
        await pilot.press("end", *["backspace"] * 13, *"Institute days", "tab", "tab")
        await pilot.press("end", "backspace", "2", "enter")  # the last day: 2026-12-02
        await pilot.pause()
        assert isinstance(app.screen, ClosuresScreen)
        row = [str(c) for c in table.get_row_at(0)]
        assert row[:3] == ["2026-12-01", "2026-12-02", "Institute days"]
    with ctx.db.read() as s:
        stored = s.get(ClosureRow, institute_day.id)
        assert stored is not None and stored.sync_pending and not stored.deleted
        assert stored.updated_at > institute_day.updated_at
    noon = datetime(2026, 12, 2, 12, tzinfo=ZoneInfo("Asia/Riyadh"))
    assert not ctx.sla.calendar().is_open(noon)
    due_after = ctx.sla.clocks(ctx.desk.get(ticket.ref), ctx.clock.now()).first_response.due
    assert due_before is not None and due_after is not None
    assert due_after - due_before == timedelta(days=1)  # one more closed day: a day later


@pytest.mark.parametrize(("old", "new"), [("PC-12", "14"), ("12", "PC-14"), ("محمد", "Huda")])
def test_an_arabic_change_reads_old_then_new_from_the_right(
    make_ctx: Callable[..., object], old: str, new: str
) -> None:
    from classroom_support import i18n

    ctx: Any = make_ctx(language="ar")
    i18n.set_arabic_display("reshape")
    payload = {"changes": {"seat": {"old": old, "new": new}}}
    shown = i18n.display(summary(ctx.config, "edited", payload))
    # Read from the right: the label, then the old value, the arrow, the new value.
    shaped_old, shaped_new = i18n.display(old), i18n.display(new)
    assert shown.index(shaped_new) < shown.index("←") < shown.index(shaped_old)
