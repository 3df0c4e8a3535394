"""80×24 is a real size: what a screen or dialog holds is on screen or reachable by keys, and
the focused field is always in view."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import set_role
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable

from classroom_support.app import ClassroomSupportApp
from classroom_support.screens.closures import ClosureForm
from classroom_support.screens.sessions import SessionForm
from classroom_support.screens.sla_screens import RcaForm
from classroom_support.screens.sync_log import SyncSetupScreen
from classroom_support.screens.ticket_detail import TicketDetailScreen

MakeApp = Callable[..., ClassroomSupportApp]


def shown(widget: Widget) -> bool:
    """The widget is drawn, whole, inside the screen and inside every container."""
    region = widget.region
    if region.height == 0 or widget.screen.region.intersection(region) != region:
        return False
    # Every container clips to its content (inside its border, padding and scrollbars).
    return all(
        ancestor.scrollable_content_region.intersection(region) == region
        for ancestor in widget.ancestors
        if isinstance(ancestor, Widget) and not isinstance(ancestor, Screen)
    )


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_history_is_in_view_and_the_header_stays(make_app: MakeApp, size: tuple) -> None:
    app = make_app(demo=True)
    async with app.run_test(size=size) as pilot:
        await pilot.press("enter")  # the most overdue ticket: long "why then", many events
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen)
        table = screen.query_one("#timeline", DataTable)
        assert table.row_count >= 5
        assert app.focused is table
        # The header row and at least three events, above the footer.
        assert table.region.height >= 4
        assert table.region.bottom <= size[1] - 1
        assert shown(screen.query_one("#timeline-title"))
        for key in ("pagedown", "pageup", "end"):
            await pilot.press(key)
            await pilot.pause()
            top = int(table.scroll_offset.y)
            assert top <= table.cursor_row < top + table.region.height - 1, key
        assert table.cursor_row == table.row_count - 1
        # Nothing scrolled the screen itself: the hall header and the title stay on top.
        assert screen.query_one("#header").region.y == 0
        assert screen.query_one("#detail-title").region.y == 1


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_tab_reaches_the_fields_and_they_scroll(make_app: MakeApp, size: tuple) -> None:
    app = make_app(demo=True)
    async with app.run_test(size=size) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        fields = screen.query_one("#detail-top")
        clocks = screen.query_one("#detail-clocks")
        assert not shown(clocks)  # too much for the part of the screen the fields get
        await pilot.press("tab")
        assert app.focused is fields
        await pilot.press("end")
        await pilot.pause()
        assert fields.region.intersection(clocks.region).bottom == clocks.region.bottom
        await pilot.press("home")
        await pilot.pause()
        assert shown(screen.query_one("#detail-left"))
        await pilot.press("tab")
        assert app.focused is screen.query_one("#timeline")
        assert screen.query_one("#header").region.y == 0


async def test_at_120x36_the_fields_fit_and_tab_stays_on_the_history(make_app: MakeApp) -> None:
    app = make_app()
    from classroom_support.tickets import TicketDraft

    app.ctx.desk.create(TicketDraft(title="Projector shows no signal", seat="12"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert shown(screen.query_one("#detail-clocks"))
        await pilot.press("tab")
        assert app.focused is screen.query_one("#timeline")


async def tab_through(pilot: Pilot[object], ids: list[str]) -> None:
    """Tab from the first field to the last: each, when focused, is whole on screen."""
    app = pilot.app
    for index, field_id in enumerate(ids):
        if index:
            await pilot.press("tab")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == field_id
        assert shown(app.focused), field_id


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_session_dialog_every_field_and_the_error(make_app: MakeApp, language: str) -> None:
    app = make_app(language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c", "a")
        await pilot.pause()
        assert isinstance(app.screen, SessionForm)
        await pilot.press(*"Excel")
        await tab_through(pilot, ["course", "trainer", "day", "start", "end"])
        await pilot.press(*"12:00")
        await pilot.press("shift+tab", *"25:00", "ctrl+s")  # Start is not a time
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "start"
        assert shown(app.focused)
        error = app.screen.query_one("#session-error")
        assert "25:00" in str(error.render())
        assert shown(error)
        assert all(shown(w) for w in app.screen.query(".prompt-hint"))


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_rca_form_owner_and_the_hint(make_app: MakeApp, language: str) -> None:
    app = make_app(language=language, demo=True)
    set_role(app.ctx, "level2")  # who records root-cause analyses (a hall desk does not)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "R")  # the first ticket is breached
        await pilot.pause()
        assert isinstance(app.screen, RcaForm)
        await tab_through(pilot, ["rca_cause", "rca_what", "rca_action", "rca_owner"])
        assert all(shown(w) for w in app.screen.query(".prompt-hint"))
        assert shown(app.screen.query_one("#rca-error"))


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_holiday_and_sync_setup_dialogs(make_app: MakeApp, language: str) -> None:
    app = make_app(language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c", "h", "a")
        await pilot.pause()
        assert isinstance(app.screen, ClosureForm)
        await tab_through(pilot, ["name", "start", "end"])
        assert all(shown(w) for w in app.screen.query(".prompt-hint"))
        await pilot.press("escape", "escape", "escape", "f6", "u")
        await pilot.pause()
        assert isinstance(app.screen, SyncSetupScreen)
        await pilot.press("shift+tab")  # the token field has focus when an address is known
        await tab_through(pilot, ["sync-url", "sync-token"])
        assert all(shown(w) for w in app.screen.query(".prompt-hint"))
