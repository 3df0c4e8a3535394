"""Keys and pastes that arrive together, and text kept as it was pasted or typed."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from classroom_support.app import ClassroomSupportApp
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.sessions import SessionForm
from classroom_support.screens.ticket_form import NewTicketScreen
from classroom_support.tickets import QueueQuery

SIZE = (80, 24)
MakeApp = Callable[..., ClassroomSupportApp]
KEY_CHARACTERS = {"tab": "\t", "enter": "\r", "space": " "}


def burst(app: ClassroomSupportApp, *keys: str) -> None:
    """Queue the keys as the terminal driver does for one read: all before any is handled."""
    for key in keys:
        character = KEY_CHARACTERS.get(key, key if len(key) == 1 else None)
        app.post_message(events.Key(key, character))


def value(app: ClassroomSupportApp, field: str) -> str:
    return app.screen.query_one(f"#{field}", Input).value


async def open_form(app: ClassroomSupportApp, pilot: Pilot[None]) -> None:
    """Press n and wait until the form has the focus: input before that would go to the queue."""
    await pilot.press("n")
    for _ in range(1200):  # up to a minute on a busy machine
        if isinstance(app.screen, NewTicketScreen) and app.focused is app.screen.query_one(
            "#title", Input
        ):
            return
        await pilot.pause(0.05)
    raise AssertionError("the new-ticket form never took the focus")


async def test_tab_inside_a_burst_moves_on(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(app, pilot)
        assert isinstance(app.screen, NewTicketScreen)
        burst(app, "C", "C", "C", "tab", "D", "D", "D", "enter", "E", "shift+tab", "F")
        await pilot.pause()
        assert (value(app, "title"), value(app, "seat")) == ("CCC", "DDDF")
        burst(app, "tab", "2", "ctrl+s")  # to category, pick PC, save
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        [ticket] = app.ctx.desk.queue(QueueQuery()).rows
        assert (ticket.title, ticket.seat, ticket.category) == ("CCC", "DDDF", "pc")


async def test_paste_with_tab_fills_the_next_field(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(app, pilot)
        app.post_message(events.Paste("EEE\tFFF"))
        await pilot.pause()
        assert (value(app, "title"), value(app, "seat")) == ("EEE", "FFF")
        assert app.focused is app.screen.query_one("#seat")
        await pilot.press(*"9")  # keys typed next go on where the paste stopped
        assert value(app, "seat") == "FFF9"


async def test_paste_with_more_parts_than_fields_is_refused_whole(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(app, pilot)
        app.post_message(events.Paste("a\nb\nc"))  # Problem, Seat, then a choice: no room
        await pilot.pause()
        assert (value(app, "title"), value(app, "seat")) == ("", "")
        assert any("Not pasted" in str(n.message) for n in app._notifications)


async def test_session_form_burst_and_paste_keep_fields_apart(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c", "a")
        await pilot.pause()
        assert isinstance(app.screen, SessionForm)
        burst(app, *"Excel", "tab", *"Sara", "enter")
        await pilot.pause()
        assert (value(app, "course"), value(app, "trainer")) == ("Excel", "Sara")
        assert app.focused is app.screen.query_one("#day")
        app.post_message(events.Paste("\t10:00\t13:00"))
        await pilot.pause()
        assert (value(app, "start"), value(app, "end")) == ("10:00", "13:00")
        burst(app, "enter")  # Enter in the last field saves
        await pilot.pause()
        assert not isinstance(app.screen, SessionForm)
        [row] = app.ctx.sessions.upcoming()
        assert (row.course, row.trainer) == ("Excel", "Sara")


PASTED = "P1 \x1b[31mred\x1b[0m esc | zwj 👩\u200d💻 | rlo \u202eabc | nul[\x00]"


async def test_pasted_text_is_stored_as_it_was(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(app, pilot)
        app.post_message(events.Paste(PASTED))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        [ticket] = app.ctx.desk.queue(QueueQuery()).rows
        assert ticket.title.encode() == PASTED.encode()


async def test_typed_format_characters_are_kept(make_app: MakeApp) -> None:
    app = make_app()
    typed = "zwj 👩\u200d💻 rlo \u202eabc lrm \u200e."
    async with app.run_test(size=SIZE) as pilot:
        await open_form(app, pilot)
        burst(app, *typed)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        [ticket] = app.ctx.desk.queue(QueueQuery()).rows
        assert ticket.title.encode() == typed.encode()


async def test_holiday_form_takes_a_burst_and_enter_saves(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c", "h")
        await pilot.pause()
        before = len(app.ctx.sla.calendar().closures)
        await pilot.press("a")
        await pilot.pause()
        burst(app, *"Institute day", "tab", *"2026-12-01", "tab", "enter")
        await pilot.pause()
        # The deadlines are recomputed in a worker a moment after the save (app_calendar).
        await app.workers.wait_for_complete()
        assert len(app.ctx.sla.calendar().closures) == before + 1


async def test_note_prompt_refuses_a_multi_line_paste_instead_of_cutting_it(
    make_app: MakeApp,
) -> None:
    from classroom_support.screens.prompts import TextPrompt

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(TextPrompt("Note"))
        await pilot.pause()
        app.post_message(events.Paste("first line\nsecond line"))
        await pilot.pause()
        assert value(app, "prompt-input") == ""  # not silently cut to "first line"
        assert any("Not pasted" in str(n.message) for n in app._notifications)


async def test_a_pasted_escape_sequence_is_shown_not_sent_to_the_terminal(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(app, pilot)
        app.post_message(events.Paste("P1 \x1b[31mred \u202eabc"))
        await pilot.pause()
        field = app.screen.query_one("#title", Input)
        assert field.value == "P1 \x1b[31mred \u202eabc"
        shown = "".join(segment.text for segment in field.render_line(0))
        assert "P1 ␛[31mred \ufffdabc" in shown
        assert "\x1b" not in shown and "\u202e" not in shown


async def test_editing_keys_inside_a_burst_apply_in_order(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(app, pilot)
        burst(app, *"abcd", "left", "left", "X", "home", "Y", "end", "backspace", "Z")
        await pilot.pause()
        assert value(app, "title") == "YabXcZ"


async def test_slash_and_a_word_in_one_burst_search_for_the_word(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        burst(app, "slash", *"a/b", "enter")
        await pilot.pause()
        assert app.screen.query_state.search == "a/b"  # "/" in the field is text
        assert isinstance(app.screen, QueueScreen)  # Enter searched, it opened no ticket
