"""A desk over several halls (contact centre, Level 2, managers): the Hall column, the hall
filter, and a new-ticket form that asks for the hall. One hall looks exactly as before."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import DataTable, Input, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.context import AppContext
from classroom_support.models import SyncState
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.ticket_form import NewTicketScreen
from classroom_support.tickets import QueueQuery, TicketDraft, ValidationError, validate_draft
from classroom_support.widgets import KeyChoice


def set_scope(ctx: AppContext, role: str, halls: str = "", all_halls: bool = False) -> None:
    with ctx.db.write() as s:
        s.merge(SyncState(id=1, role=role, halls=halls, all_halls=all_halls))


def file_tickets(ctx: AppContext) -> None:
    ctx.desk.create(TicketDraft(title="Projector dark", hall_code="A101"))
    ctx.desk.create(TicketDraft(title="PC 7 will not boot", hall_code="B201"))
    ctx.desk.create(TicketDraft(title="No network", hall_code="B201"))


def column_keys(table: DataTable[object]) -> list[str]:
    return [str(key.value) for key in table.columns]


def halls_shown(table: DataTable[object]) -> list[str]:
    index = column_keys(table).index("hall")
    return sorted(str(table.get_row_at(i)[index]) for i in range(table.row_count))


def test_scope_halls_and_multi_hall(ctx: AppContext) -> None:
    assert not ctx.desk.multi_hall()  # never synced: a hall laptop
    set_scope(ctx, "hall", "A101")
    assert not ctx.desk.multi_hall()
    assert ctx.desk.scope_halls() == ("A101",)
    set_scope(ctx, "level2", "B201,A101")
    assert ctx.desk.multi_hall()
    assert ctx.desk.scope_halls() == ("B201", "A101")
    set_scope(ctx, "contact-centre", all_halls=True)
    configured = tuple(h.code for h in ctx.config.halls)
    assert ctx.desk.scope_halls() == configured
    # A hall added centrally after the laptop's config was written comes with its tickets.
    with ctx.db.write() as s:
        s.merge(SyncState(id=1, role="hall", halls="C301", all_halls=False))
    ctx.desk.create(TicketDraft(title="Screen flickers", hall_code="C301"))
    set_scope(ctx, "contact-centre", all_halls=True)
    assert ctx.desk.scope_halls() == (*configured, "C301")


def test_a_draft_may_name_a_scope_hall_the_config_does_not_know(ctx: AppContext) -> None:
    draft = TicketDraft(title="x", hall_code="C301")
    with pytest.raises(ValidationError) as refused:
        validate_draft(draft, ctx.config)
    assert "C301" in str(refused.value) and "A101" in str(refused.value)
    assert validate_draft(draft, ctx.config, ("C301",)).hall_code == "C301"


async def test_one_hall_desk_has_no_hall_column_and_no_hall_key(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app()
    file_tickets(app.ctx)
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one("#queue", DataTable)
        assert "hall" not in column_keys(table)
        assert table.row_count == 1  # this laptop's hall only
        await pilot.press("h")
        await pilot.pause()
        assert table.row_count == 1
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        assert screen.check_action("cycle_hall", ()) is False


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_contact_centre_sees_every_hall_and_filters_by_hall(
    make_app: Callable[..., ClassroomSupportApp], size: tuple[int, int]
) -> None:
    app = make_app()
    file_tickets(app.ctx)
    set_scope(app.ctx, "contact-centre", all_halls=True)
    async with app.run_test(size=size) as pilot:
        table = app.screen.query_one("#queue", DataTable)
        assert "hall" in column_keys(table)
        assert halls_shown(table) == ["A101", "B201", "B201"]
        filters = app.screen.query_one("#queue-filters", Static)
        assert "Hall: all halls" in str(filters.render())
        await pilot.press("h")
        await pilot.pause()
        assert halls_shown(table) == ["A101"]
        assert "Hall: A101" in str(filters.render())
        await pilot.press("h")  # A102: in scope, nothing open there
        await pilot.pause()
        assert table.row_count == 0
        await pilot.press("h")
        await pilot.pause()
        assert halls_shown(table) == ["B201", "B201"]
        await pilot.press("h")
        await pilot.pause()
        assert halls_shown(table) == ["A101", "B201", "B201"]
        # Typing a code: any case, a unique beginning is enough.
        await pilot.press("H")
        await pilot.pause()
        await pilot.press("b", "2", "enter")
        await pilot.pause()
        assert halls_shown(table) == ["B201", "B201"]
        await pilot.press("H")
        await pilot.pause()
        prompt_input = app.screen.query_one(Input)
        prompt_input.value = ""
        await pilot.press("z", "z", "enter")
        await pilot.pause()
        assert halls_shown(table) == ["B201", "B201"]  # unchanged, and told why
        assert any("zz".upper() in str(n.message) for n in app._notifications)


async def test_contact_centre_form_asks_for_the_hall_then_the_caller(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app()
    set_scope(app.ctx, "contact-centre", all_halls=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, NewTicketScreen)
        assert app.focused is not None and app.focused.id == "hall"
        # Typed as one burst, the way a busy call-taker types.
        await pilot.press(*"b201", "tab", *"0566812777", "tab", *"Projector dark", "ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, NewTicketScreen)
    ticket = app.ctx.desk.queue(QueueQuery()).rows[0]
    assert (ticket.hall_code, ticket.channel, ticket.caller_number, ticket.title) == (
        "B201",
        "phone",
        "0566812777",
        "Projector dark",
    )
    assert ticket.session_id is None  # another hall's session is not this desk's to guess


async def test_the_form_refuses_a_missing_or_unknown_hall(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app()
    set_scope(app.ctx, "level2", "A101,B201")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, NewTicketScreen)
        assert (
            form.query_one("#channel", KeyChoice).value == "in_hall"
        )  # Level 2 is not a call-taker
        await pilot.press("tab", *"Projector", "ctrl+s")
        await pilot.pause()
        error = str(form.query_one("#form-error", Static).render())
        assert "Hall is required" in error
        assert app.focused is not None and app.focused.id == "hall"
        await pilot.press(*"C301", "ctrl+s")
        await pilot.pause()
        error = str(form.query_one("#form-error", Static).render())
        assert "C301" in error and "A101, B201" in error
        assert isinstance(app.screen, NewTicketScreen)  # nothing lost: still open
        assert form.query_one("#title", Input).value == "Projector"


async def test_the_hall_filter_fills_the_form(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app()
    file_tickets(app.ctx)
    set_scope(app.ctx, "level2", "A101,B201")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("h", "h")  # B201
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, NewTicketScreen)
        assert form.query_one("#hall", Input).value == "B201"
        assert app.focused is not None and app.focused.id == "title"
