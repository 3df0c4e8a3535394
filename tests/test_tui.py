"""Pilot tests: the technician's paths through the TUI, by keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from conftest import set_role
from textual.widgets import DataTable, Input, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.screens.ticket_form import NewTicketScreen
from classroom_support.tickets import QueueQuery, TicketDraft

SIZE = (120, 36)
MakeApp = Callable[..., ClassroomSupportApp]


def cell_texts(app: ClassroomSupportApp, table_id: str = "#queue") -> list[list[str]]:
    table = app.screen.query_one(table_id, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def static_text(app: ClassroomSupportApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_log_a_ticket_in_four_keys_besides_the_text(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, NewTicketScreen)
        typed = "Projector flickers"
        keys = ["tab", "tab", "2", "ctrl+s"]  # to seat, to category, pick "PC", save
        await pilot.press(*typed)
        await pilot.press(keys[0])
        await pilot.press(*"12")
        await pilot.press(*keys[1:])
        await pilot.pause()
        assert len(keys) <= 4
        assert isinstance(app.screen, QueueScreen)
        [ticket] = app.ctx.desk.queue(QueueQuery()).rows
        assert (ticket.title, ticket.seat, ticket.category) == (typed, "12", "pc")
        assert (ticket.channel, ticket.hall_code, ticket.priority) == ("in_hall", "A101", "normal")
        assert ticket.ref == "TEST-1"
        assert "TEST-1" in static_text(app, "#queue-status")  # the saved ref stays on screen
        assert cell_texts(app)[0][0] == "TEST-1"


async def test_form_refuses_an_empty_problem_and_keeps_input(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "tab", *"PC-3", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewTicketScreen)
        assert "Problem is required" in static_text(app, "#form-error")
        assert app.screen.query_one("#seat", Input).value == "PC-3"
        assert app.focused is app.screen.query_one("#title", Input)
        assert app.ctx.desk.queue(QueueQuery()).total == 0


async def test_channel_shows_the_matching_number_field(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", *"Cannot log in", "tab", "tab", "tab", "tab", "2")  # channel: phone
        await pilot.pause()
        assert app.screen.query_one("#row-caller_number").display
        assert not app.screen.query_one("#row-remote_session_id").display
        await pilot.press("tab", *"0551234567", "ctrl+s")
        await pilot.pause()
        [t] = app.ctx.desk.queue(QueueQuery()).rows
        assert (t.channel, t.caller_number) == ("phone", "0551234567")


async def test_escape_does_not_throw_away_typing_at_once(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", *"half typed", "escape")
        await pilot.pause()
        assert isinstance(app.screen, NewTicketScreen)
        assert "Esc again" in static_text(app, "#form-error")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


async def test_detail_actions_move_the_ticket_through_its_life(make_app: MakeApp) -> None:
    app = make_app()
    set_role(app.ctx, "level2")  # the whole life, verification included
    ref = app.ctx.desk.create(TicketDraft(title="No sound")).ref
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, TicketDetailScreen)
        await pilot.press("r", *"Checking the speakers", "enter")
        await pilot.pause()
        assert app.ctx.desk.get(ref).status == "in_progress"
        await pilot.press("p", "4")  # critical
        await pilot.pause()
        await pilot.press("w", *"trainee gone to lunch", "enter")
        await pilot.pause()
        assert app.ctx.desk.get(ref).status == "waiting"
        await pilot.press("u", "x", *"cable replaced", "enter")
        await pilot.pause()
        await pilot.press("v", "enter")
        await pilot.pause()
        ticket = app.ctx.desk.get(ref)
        assert (ticket.status, ticket.priority) == ("verified", "critical")
        kinds = [row[1] for row in cell_texts(app, "#timeline")]
        assert kinds == [
            "Created",
            "First response",
            "Priority changed",
            "Paused",  # cut on a whole word to its column; Enter on the row reads it whole
            "Resumed",
            "Resolved",
            "Verified by Level 2",
        ]
        # Verify is not offered again: the footer disables it and the key does nothing.
        await pilot.press("v")
        await pilot.pause()
        assert app.ctx.desk.get(ref).status == "verified"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert cell_texts(app) == []  # verified tickets leave the open queue


async def test_filter_sort_and_search(make_app: MakeApp) -> None:
    app = make_app()
    desk = app.ctx.desk
    desk.create(TicketDraft(title="wifi down", priority="low"))
    desk.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    b = desk.create(TicketDraft(title="projector dead", priority="critical"))
    desk.resolve(b.ref)
    async with app.run_test(size=SIZE) as pilot:
        assert [r[4] for r in cell_texts(app)] == ["wifi down", "projector dead"]
        await pilot.press("s")  # sort by priority
        assert [r[4] for r in cell_texts(app)] == ["projector dead", "wifi down"]
        await pilot.press("f", "f")  # open → new → in progress (none)
        assert cell_texts(app) == []
        assert "match" in static_text(app, "#queue-empty")
        for _ in range(3):
            await pilot.press("f")  # → waiting → resolved
            if [r[4] for r in cell_texts(app)] == ["projector dead"]:
                break
        assert [r[4] for r in cell_texts(app)] == ["projector dead"]
        await pilot.press("f", "f", "f")  # back to open
        await pilot.press("slash", *"wifi", "enter")
        await pilot.pause()
        assert [r[4] for r in cell_texts(app)] == ["wifi down"]
        await pilot.press("escape")
        assert len(cell_texts(app)) == 2


async def test_empty_queue_says_how_to_start(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        text = static_text(app, "#queue-empty")
        assert "No open tickets" in text and "Press N" in text


async def test_markup_and_escapes_render_literally(make_app: MakeApp) -> None:
    app = make_app()
    app.ctx.desk.create(TicketDraft(title="[bold]x[/] \x1b[31mred", seat="[i]3"))
    async with app.run_test(size=SIZE) as pilot:
        row = cell_texts(app)[0]
        assert row[4] == "[bold]x[/] ␛[31mred"
        assert row[3] == "[i]3"
        await pilot.press("enter")
        await pilot.pause()
        assert "[bold]x[/] ␛[31mred" in static_text(app, "#detail-problem")


async def test_language_switch_keeps_typed_text(make_app: MakeApp) -> None:
    app = make_app(language="en")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", *"half typed", "tab", *"7")
        await pilot.press("f9")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NewTicketScreen)
        assert screen.query_one("#title", Input).value == "half typed"
        assert screen.query_one("#seat", Input).value == "7"
        labels = " ".join(str(w.render()) for w in screen.query(".field-label"))
        assert "ﺔﻠﻜﺸﻤﻟﺍ" in labels  # "المشكلة", shaped for a terminal without bidi
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.ctx.desk.queue(QueueQuery()).rows[0].title == "half typed"


async def test_timers_that_fire_while_a_language_switch_rebuilds_wait(
    make_app: MakeApp,
) -> None:
    """A recompose removes the old widgets before it mounts the new ones; the 1 s countdown,
    the ages and the class alert can fire in between (seen on a loaded machine) and must not
    crash the app by looking for a table that is not there."""
    app = make_app(language="en")
    async with app.run_test(size=SIZE) as pilot:
        app.ctx.desk.create(TicketDraft(title="Projector flickers"))
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        screen.reload()
        await pilot.pause()
        screen.rebuilding = True  # the moment between removing and mounting
        await screen.query_children().remove()
        screen.tick_countdowns()
        screen.tick_ages()
        screen.tick_class_alert()
        screen.rebuilding = False
        await screen.recompose()
        await pilot.pause()
        assert cell_texts(app)[0][4].startswith("Projector")


async def test_help_lists_this_screens_keys(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = static_text(app, "#help-text")
        assert "New" in text and "Status" in text and "Reverse" in text and "0566812777" in text
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


async def test_keys_can_be_remapped_by_binding_id(make_app: MakeApp) -> None:
    app = make_app(config='[ui]\nlanguage = "en"\n[keymap]\nnew-ticket = "f2"\n')
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, NewTicketScreen)


async def test_every_action_is_in_the_command_palette(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for name in (
            "New",
            "Search",
            "Status",
            "Priority",
            "Sort",
            "Reverse",
            "Next page",
            "Courses",
            "Escalations",
            "Breaches",
            "QR",
            "Help",
            "Quit",
        ):
            assert name in titles
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "New")
        command.callback()
        await pilot.pause()
        await pilot.pause()
        assert any(isinstance(s, NewTicketScreen) for s in app.screen_stack)


async def test_sessions_add_edit_delete_and_header(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert "No sessions" in static_text(app, "#sessions-empty")
        await pilot.press(
            "a", *"Advanced Excel", "tab", *"Sara", "tab", "tab", *"10:00", "tab", *"13:00", "enter"
        )
        await pilot.pause()
        rows = cell_texts(app, "#sessions")
        assert rows == [["2026-11-28", "10:00", "13:00", "Advanced Excel", "Sara", "now"]]
        assert "Advanced Excel" in str(app.screen.query_one("#header-session", Static).render())
        await pilot.press("e", *" II", "ctrl+s")
        await pilot.pause()
        assert cell_texts(app, "#sessions")[0][3] == "Advanced Excel II"
        await pilot.press("d", "y")
        await pilot.pause()
        assert cell_texts(app, "#sessions") == []


async def test_session_form_rejects_bad_times(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c", "a", *"Course", "tab", "tab", "tab", *"25:00", "ctrl+s")
        await pilot.pause()
        assert "not a time" in static_text(app, "#session-error")


async def test_new_ticket_records_the_running_session(make_app: MakeApp) -> None:
    from classroom_support.sessions import SessionDraft

    app = make_app()
    app.ctx.sessions.add(SessionDraft("Python 101", "Omar", "2026-11-28", "09:00", "12:00"))
    async with app.run_test(size=SIZE) as pilot:
        assert "Python 101" in static_text(app, "#header-session")
        await pilot.press("n")
        await pilot.pause()
        assert "Python 101" in static_text(app, "#form-context")
        await pilot.press(*"Login broken", "ctrl+s")
        await pilot.pause()
    t: Any = app.ctx.desk.queue(QueueQuery()).rows[0]
    assert t.session_label == "Python 101" and t.session_id


async def test_pages_through_many_tickets(make_app: MakeApp) -> None:
    app = make_app()
    for i in range(130):
        app.ctx.desk.create(TicketDraft(title=f"t{i}"))
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#queue", DataTable)
        assert table.row_count == 100
        assert "1–100 of 130" in static_text(app, "#queue-filters")
        await pilot.press("right_square_bracket")
        assert table.row_count == 30
        assert "101–130 of 130" in static_text(app, "#queue-filters")
