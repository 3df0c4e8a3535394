"""The detail's "Why then" line in Arabic with a course named in both scripts: each span
reads whole from the right and the brackets around a mixed name pair up (they used to come
out as two closing brackets)."""

from __future__ import annotations

from collections.abc import Callable

from classroom_support.app import ClassroomSupportApp
from classroom_support.i18n import display
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.sessions import SessionDraft
from classroom_support.tickets import TicketDraft

MIXED = "Excel المتقدم — Advanced Excel"


async def test_a_mixed_course_name_keeps_its_brackets(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app(language="ar")
    app.ctx.sessions.add(SessionDraft(MIXED, "Omar", "2026-11-28", "17:00", "21:00"))
    ticket = app.ctx.desk.create(TicketDraft(title="Projector"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen)
        lines = [display(line) for line in screen.clock_lines(app.ctx.desk.get(ticket.ref))]
    why = "\n".join(lines)  # the spans are packed into several lines
    # Read from the right: the session's span, then its label in brackets that open on the
    # right and close on the left, the course's Arabic and English parts in their own order.
    course = display("دورة")
    expected = f"(Advanced Excel — {display('المتقدم')} Excel {course}) 17:00–21:00 28/11"
    assert expected in why, why
    assert why.count("(") == why.count(")")
