"""Say no before asking: refused actions explain themselves before any typing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import set_role

from classroom_support.app import ClassroomSupportApp
from classroom_support.screens.prompts import TextPrompt
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.tickets import TicketDraft, can_verify

SIZE = (120, 36)
RIYADH = ZoneInfo("Asia/Riyadh")
MakeApp = Callable[..., ClassroomSupportApp]


def toasts(app: ClassroomSupportApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def breached_and_resolved(app: ClassroomSupportApp) -> str:
    ctx = app.ctx
    ctx.clock.set(datetime(2026, 11, 1, 10, tzinfo=RIYADH))  # type: ignore[attr-defined]
    ref = ctx.desk.create(TicketDraft(title="Projector dead")).ref
    ctx.clock.set(datetime(2026, 11, 28, 10, tzinfo=RIYADH))  # type: ignore[attr-defined]
    ctx.sla.run()
    ctx.desk.resolve(ref, "bulb replaced")
    return ref


async def test_verify_without_rca_is_refused_before_the_note_dialog(make_app: MakeApp) -> None:
    app = make_app()
    set_role(app.ctx, "level2")  # allowed to verify: the missing RCA is what refuses
    ref = breached_and_resolved(app)
    reason = can_verify(app.ctx.desk.get(ref))
    assert reason is not None and "root-cause" in reason
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketDetailScreen)
        await pilot.press("v")
        await pilot.pause()
        assert not isinstance(app.screen, TextPrompt)  # no note asked for
        assert isinstance(app.screen, TicketDetailScreen)
        assert any(reason in t for t in toasts(app))
        assert app.ctx.desk.get(ref).status == "resolved"


async def test_a_dimmed_key_says_why(make_app: MakeApp) -> None:
    app = make_app()
    set_role(app.ctx, "level2")  # the ticket's state, not the role, dims these keys
    app.ctx.desk.create(TicketDraft(title="No sound"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("u")  # resume: only a waiting ticket
        await pilot.pause()
        assert any("Resume is not possible while the ticket is 'New'" in t for t in toasts(app))
        await pilot.press("R")  # no root cause needed: the SLA was not missed
        await pilot.pause()
        assert any("needs a root-cause analysis" in t for t in toasts(app))


def test_can_verify_follows_the_domain_rule(make_app: MakeApp) -> None:
    app = make_app()
    ref = app.ctx.desk.create(TicketDraft(title="No sound")).ref
    assert can_verify(app.ctx.desk.get(ref)) is not None  # not resolved yet
    app.ctx.desk.resolve(ref)
    assert can_verify(app.ctx.desk.get(ref)) is None


async def test_ctrl_q_with_a_typed_draft_asks_first(make_app: MakeApp) -> None:
    from classroom_support.screens.prompts import ConfirmPrompt
    from classroom_support.screens.ticket_form import NewTicketScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", *"Projector flickers")
        await pilot.pause()
        assert isinstance(app.screen, NewTicketScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmPrompt)  # asked, not gone
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert isinstance(app.screen, NewTicketScreen)
        assert app.is_running
        await pilot.press("ctrl+q", "enter")  # Enter quits
        await pilot.pause()
        assert app.return_code == 0 and not app.is_running


async def test_ctrl_q_without_a_draft_quits_at_once(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


async def test_monitor_events_name_the_monitor_and_the_rung(make_app: MakeApp) -> None:
    from textual.widgets import DataTable

    app = make_app()
    ref = breached_and_resolved(app)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(TicketDetailScreen(ref))
        await pilot.pause()
        table = app.screen.query_one("#timeline", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        monitor_rows = [r for r in rows if r[1].startswith(("SLA", "Escalat"))]
        assert monitor_rows, rows
        assert all(r[2] == "SLA monitor" for r in monitor_rows)
        escalations = [r for r in monitor_rows if r[1].startswith("Escalat")]
        ladder = {s.id: s.name for s in app.ctx.config.escalation}
        assert escalations and all(
            any(name in r[3] for name in ladder.values()) for r in escalations
        )
        assert not any(f": {step_id}" in r[3] for r in escalations for step_id in ladder), rows


async def test_overlapping_session_is_warned_about_before_saving(make_app: MakeApp) -> None:
    from textual.widgets import Input, Static

    from classroom_support.screens.prompts import ConfirmPrompt
    from classroom_support.screens.sessions import SessionForm
    from classroom_support.sessions import SessionDraft

    app = make_app()
    app.ctx.sessions.add(SessionDraft("Python 101", "Omar", "2026-11-28", "09:00", "12:00"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c", "a", *"Excel", "tab", *"Sara", "tab", "tab")
        app.screen.query_one("#start", Input).value = "11:00"
        app.screen.query_one("#end", Input).value = "13:00"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmPrompt)  # warned, not saved yet
        assert "Python 101" in str(app.screen.query_one(".prompt-title", Static).render())
        assert len(app.ctx.sessions.upcoming()) == 1
        await pilot.press("escape")  # go back and fix it: the typed form is still there
        await pilot.pause()
        assert isinstance(app.screen, SessionForm)
        assert app.screen.query_one("#course", Input).value == "Excel"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("enter")  # confirm: save anyway
        await pilot.pause()
        assert len(app.ctx.sessions.upcoming()) == 2


async def test_verify_on_a_hall_desk_is_dimmed_and_says_why(make_app: MakeApp) -> None:
    """A hall laptop (never synced, or synced as `hall`) cannot verify its own work."""
    app = make_app()
    ref = app.ctx.desk.create(TicketDraft(title="No sound")).ref
    app.ctx.desk.resolve(ref, "cable reseated")
    assert can_verify(app.ctx.desk.get(ref)) is None  # the ticket itself could be verified
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen)
        assert screen.check_action("verify", ()) is None  # dimmed in the footer
        assert screen.check_action("resolve", ()) is None  # (already resolved)
        assert screen.check_action("note", ()) is True
        await pilot.press("v")
        await pilot.pause()
        assert not isinstance(app.screen, TextPrompt)  # no note asked for
        assert any("Only Level 2 verifies completion" in t for t in toasts(app))
        await pilot.press("R")
        await pilot.pause()
        assert any("Only Level 2 or a manager records" in t for t in toasts(app))
    assert app.ctx.desk.get(ref).status == "resolved"


async def test_a_manager_desk_cannot_file_tickets_and_says_why(make_app: MakeApp) -> None:
    from classroom_support.screens.ticket_form import NewTicketScreen

    app = make_app()
    set_role(app.ctx, "manager", all_halls=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, NewTicketScreen)
        assert any("A Manager desk does not file tickets" in t for t in toasts(app))
