"""The desk follows the database: other writers' commits appear without leaving the screen."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import DataTable

from classroom_support.app import ClassroomSupportApp
from classroom_support.context import AppContext, open_context
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.tickets import TicketDraft

SIZE = (120, 36)
MakeApp = Callable[..., ClassroomSupportApp]


def other_writer(app: ClassroomSupportApp) -> AppContext:
    """A second opener of the same database file, as the CLI or a cron `sync` would be."""
    return open_context(app.ctx.paths.config_file, app.ctx.db.path, clock=app.ctx.clock)


def queue_refs(app: ClassroomSupportApp) -> list[str]:
    table = app.screen.query_one("#queue", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def selected(app: ClassroomSupportApp) -> str:
    table = app.screen.query_one("#queue", DataTable)
    return str(table.get_row_at(table.cursor_row)[0])


async def test_queue_shows_tickets_another_writer_adds_and_keeps_the_cursor(
    make_app: MakeApp,
) -> None:
    app = make_app()
    first = app.ctx.desk.create(TicketDraft(title="Projector dim", priority="high")).ref
    second = app.ctx.desk.create(TicketDraft(title="No sound", priority="high")).ref
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        await pilot.press("down")
        chosen = selected(app)
        assert chosen in (first, second)
        other = other_writer(app)
        try:
            # Critical sorts first, so the selected row moves down one place.
            added = other.desk.create(TicketDraft(title="Hall lights out", priority="critical"))
        finally:
            other.close()
        # The once-a-second tick notices the commit (called here instead of waiting for it).
        screen.tick_countdowns()
        await pilot.pause()
        assert added.ref in queue_refs(app)
        assert selected(app) == chosen  # the cursor stayed on its ticket, not its row number
        # Nothing new: the next tick does not reload.
        assert screen.follow_database() is False


async def test_refresh_key_reloads_the_queue(make_app: MakeApp) -> None:
    app = make_app()
    app.ctx.desk.create(TicketDraft(title="Projector dim"))
    async with app.run_test(size=SIZE) as pilot:
        other = other_writer(app)
        try:
            added = other.desk.create(TicketDraft(title="Hall lights out"))
        finally:
            other.close()
        await pilot.press("r")
        await pilot.pause()
        assert added.ref in queue_refs(app)


async def test_detail_redraws_when_its_ticket_changes_underneath(make_app: MakeApp) -> None:
    app = make_app()
    ref = app.ctx.desk.create(TicketDraft(title="No sound")).ref
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen)
        before = screen.query_one("#timeline", DataTable).row_count
        other = other_writer(app)
        try:
            other.desk.add_note(ref, "Pulled by a sync: speaker cable swapped")
        finally:
            other.close()
        assert screen.follow_database() is True
        await pilot.pause()
        assert screen.query_one("#timeline", DataTable).row_count == before + 1
