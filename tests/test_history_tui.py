"""See everything you wrote: History entries open in full, tickets and holidays can be edited."""

from __future__ import annotations

from collections.abc import Callable

from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.screens.history import HistoryEntryScreen
from classroom_support.screens.ticket_detail import TicketDetailScreen
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
