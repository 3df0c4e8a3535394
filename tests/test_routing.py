"""Routing: a `route` event hands a ticket to its hall or to Level 2; the fold says who has it
(`with_desk`), the permission table says who may route where, and the real central server
validates, refuses and passes routes on like every other event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import set_role
from postgres_support import ENGINES
from sync_support import (
    Central,
    assert_converged,
    connect,
    laptop_config,
    parked_ids,
    pin,
    sync_until_quiet,
)

from classroom_support import i18n
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.models import Ticket
from classroom_support.routing import AlreadyThere, route_problem, route_ticket, with_text
from classroom_support.tickets import (
    InvalidTransition,
    NotPermitted,
    TicketDraft,
    apply_event,
    fold,
)


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_route_to_level2_and_back_is_folded(ctx: AppContext, clock: FixedClock) -> None:
    i18n.set_language("en")
    set_role(ctx, "contact-centre", all_halls=True)
    t = ctx.desk.create(TicketDraft(title="Caller: PC 4 dead", channel="phone"))
    # A call the contact centre logs stays with it until it is routed.
    assert t.with_desk == "contact-centre" and with_text(t) == "Contact centre"
    clock.advance(timedelta(minutes=1))
    routed = route_ticket(ctx.desk, t.ref, level2=True, note="needs a new PSU")
    assert routed.with_desk == "level2" and with_text(routed) == "Level 2"
    with pytest.raises(AlreadyThere, match="already with Level 2"):
        route_ticket(ctx.desk, t.ref, level2=True)
    clock.advance(timedelta(minutes=1))
    back = route_ticket(ctx.desk, t.ref, level2=False)
    assert back.with_desk == "hall"
    events = ctx.desk.history(t.id)
    assert [e.kind for e in events] == ["created", "route", "route"]
    assert events[1].payload == '{"to": {"level2": true}, "note": "needs a new PSU"}'
    assert events[2].payload == '{"to": {"hall": "A101"}}'
    assert fold(events).model_dump() == ctx.desk.get(t.ref).model_dump()


def test_who_may_route_where(ctx: AppContext) -> None:
    i18n.set_language("en")
    t = ctx.desk.create(TicketDraft(title="Projector dead"))
    # A hall: to Level 2 only.
    assert route_ticket(ctx.desk, t.ref, level2=True).with_desk == "level2"
    with pytest.raises(NotPermitted, match="The hall routes tickets to Level 2 only"):
        route_ticket(ctx.desk, t.ref, level2=False)
    # Level 2: back to the hall, not to itself.
    set_role(ctx, "level2", halls="A101")
    assert route_ticket(ctx.desk, t.ref, level2=False).with_desk == "hall"
    with pytest.raises(NotPermitted, match="Level 2 routes tickets back to a hall"):
        route_ticket(ctx.desk, t.ref, level2=True)
    # A manager: never.
    set_role(ctx, "manager", all_halls=True)
    with pytest.raises(NotPermitted, match="does not route"):
        route_ticket(ctx.desk, t.ref, level2=True)
    assert ctx.desk.get(t.ref).with_desk == "hall"


def test_the_fold_refuses_a_route_to_another_hall_or_a_closed_ticket(ctx: AppContext) -> None:
    set_role(ctx, "level2")
    t = ctx.desk.create(TicketDraft(title="No sound"))
    ticket = ctx.desk.get(t.ref)

    def route(payload: str) -> None:
        with ctx.db.write() as s:
            event = ctx.desk.new_event(s, t.id, "route", {})
            event.payload = payload
            apply_event(Ticket(**ticket.model_dump()), event)

    with pytest.raises(InvalidTransition, match="routed to its own hall or to Level 2"):
        route('{"to": {"hall": "B201"}}')
    for bad in ('{"to": {}}', '{"to": {"level2": false}}', '{"to": "level2"}', "{}"):
        with pytest.raises(InvalidTransition):
            route(bad)
    ctx.desk.resolve(t.ref)
    ctx.desk.verify(t.ref)
    ticket = ctx.desk.get(t.ref)
    with pytest.raises(InvalidTransition, match="verified and closed"):
        route('{"to": {"level2": true}}')
    assert route_problem({"to": {"level2": True}, "note": 5}) == "note"
    assert route_problem({"to": {"hall": "A101", "level2": True}}) == "to"


def desk_at(
    make_ctx: Callable[..., AppContext], central: Central, n: int, prefix: str, token: str
) -> tuple[AppContext, object]:
    ctx = make_ctx(config=laptop_config("A101"), name=f"desk{n}")
    pin(ctx, f"00000000-0000-4000-8000-{n:012d}", prefix)
    return ctx, connect(ctx, central.url, token)


def test_routes_travel_through_the_server_and_bad_ones_are_refused(
    make_ctx: Callable[..., AppContext], central: Central, clock: FixedClock
) -> None:
    _d, cc_token = central.store.add_device("contact centre", [], role="contact-centre",
                                            all_halls=True)  # fmt: skip
    _d, hall_token = central.store.add_device("hall A101", ["A101"])
    centre, cc = desk_at(make_ctx, central, 1, "CCTR", cc_token)
    hall, hall_client = desk_at(make_ctx, central, 2, "HALL", hall_token)
    for client in (cc, hall_client):
        assert client.sync().outcome == "ok"  # type: ignore[attr-defined]

    # The contact centre logs a call for A101 and routes it to Level 2; the hall sees that.
    call = centre.desk.create(TicketDraft(title="Caller: lab PCs will not boot", channel="phone"))
    clock.advance(timedelta(minutes=2))
    route_ticket(centre.desk, call.ref, level2=True, note="network boot issue")
    sync_until_quiet([cc, hall_client])  # type: ignore[list-item]
    assert central.store.ticket(call.ref).with_desk == "level2"
    assert hall.desk.get(call.ref).with_desk == "level2"

    # The hall routes its own ticket to Level 2; two desks routing at once converge.
    own = hall.desk.create(TicketDraft(title="Projector flickers"))
    sync_until_quiet([cc, hall_client])  # type: ignore[list-item]
    clock.advance(timedelta(minutes=1))
    route_ticket(hall.desk, own.ref, level2=True)
    route_ticket(centre.desk, own.ref, level2=True)
    sync_until_quiet([cc, hall_client])  # type: ignore[list-item]
    assert_converged(central.store, [centre, hall], {"A101"})
    assert central.store.ticket(own.ref).with_desk == "level2"

    # A hall forcing a route back to itself, and a malformed route: refused, parked.
    def forge(payload: dict[str, object]) -> str:
        eid = str(uuid.uuid4())
        with hall.db.write() as s:
            event = hall.desk.new_event(s, own.id, "route", payload, event_id=eid)
            s.add(event)
        return eid

    to_hall = forge({"to": {"hall": "A101"}})
    malformed = forge({"to": {"desk": "level2"}})
    hall_client.sync()  # type: ignore[attr-defined]
    reasons = {p.item_id: p.reason for p, _e, _r in hall_client.parked()}  # type: ignore[attr-defined]
    assert set(reasons) == {to_hall, malformed} == parked_ids(hall)
    assert reasons[to_hall] == "forbidden_role: The hall routes tickets to Level 2 only"
    assert reasons[malformed] == "bad_payload: to"
    assert central.store.ticket(own.ref).with_desk == "level2"


async def test_the_route_key_on_the_detail(make_app: Callable[..., object]) -> None:
    """g: pick the desk (one digit), an optional note; the title says who has it."""
    from textual.widgets import Static

    from classroom_support.app import ClassroomSupportApp
    from classroom_support.screens.prompts import ChoicePrompt, TextPrompt
    from classroom_support.screens.ticket_detail import TicketDetailScreen

    app = make_app()
    assert isinstance(app, ClassroomSupportApp)
    set_role(app.ctx, "contact-centre", halls="A101")
    ref = app.ctx.desk.create(TicketDraft(title="Caller: no network", channel="phone")).ref
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(TicketDetailScreen(ref))
        await pilot.pause()
        title = str(app.screen.query_one("#detail-title", Static).render())
        assert "with: Contact centre" in title  # a call it logged stays with it until routed
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, ChoicePrompt)
        await pilot.press("2")  # Level 2
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"switch port 12", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketDetailScreen)
        assert app.ctx.desk.get(ref).with_desk == "level2"
        title = str(app.screen.query_one("#detail-title", Static).render())
        assert "with: Level 2" in title
        [event] = [e for e in app.ctx.desk.history(app.ctx.desk.get(ref).id) if e.kind == "route"]
        assert event.payload == '{"to": {"level2": true}, "note": "switch port 12"}'

        set_role(app.ctx, "manager", all_halls=True)
        app.screen.load()  # type: ignore[attr-defined]
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, TicketDetailScreen)  # dimmed: nothing asked
        toasts = [str(n.message) for n in app._notifications]
        assert any("A Manager desk does not route tickets" in t for t in toasts)
